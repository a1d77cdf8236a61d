// Figure 3: click "Connect a vehicle" to cards shown, on the emulator, driven by the e2e harness
// (tests/e2e/): the popup tab, the launchWebAuthFlow window clicked through by Playwright, the
// server in this process on the port the e2e build has baked in. Timed from the outside.
import type { Request } from 'playwright-core';
import { approve, signInAndPickVehicles } from '../tests/e2e/connect-window';
import {
  CARD,
  launchBenchBrowser,
  startE2eStack,
  markCardsAndClicks,
  markTime,
  requestSpan,
} from './lib/extension';
import type { Figure } from './lib/report';
import { median, ms } from './lib/stats';

const RUNS = 10;

interface Split {
  total: number;
  serverConnect: number;
  authWindow: number;
  exchange: number;
  render: number;
  /** Messaging, storage and opening the window: the rest of the total. */
  other: number;
}

const isApi = (path: string) => (request: Request) =>
  request.method() === 'POST' && new URL(request.url()).pathname === path;

async function connectOnce(): Promise<Split> {
  // A fresh profile per run, as in the e2e tests: no session, no vehicles.
  const browser = await launchBenchBrowser();
  try {
    await browser.context.addInitScript(markCardsAndClicks, CARD);
    const popup = await browser.openPopup();
    const button = popup.getByRole('button', { name: /^Connect (a|another) vehicle$/ });
    await button.waitFor();

    const [window] = await Promise.all([browser.nextPage(), button.click()]);
    const windowClosed = new Promise<number>((resolve) => {
      window.once('close', () => {
        resolve(Date.now());
      });
    });
    await window.waitForLoadState();
    const windowOpened = await window.evaluate(() => performance.timeOrigin);
    const picked = await signInAndPickVehicles(window, { brand: 'FORD' });
    await approve(window);
    await popup
      .locator(CARD)
      .nth(picked.length - 1)
      .waitFor();

    const requests = browser.requests();
    const connect = requests.find(isApi('/api/connect'));
    const exchange = requests.find(isApi('/api/exchange'));
    if (!connect || !exchange)
      throw new Error(`server requests not seen: ${requests.map((r) => r.url()).join(', ')}`);
    const [connectSpan, exchangeSpan, clicked, cards, closed] = await Promise.all([
      requestSpan(connect),
      requestSpan(exchange),
      markTime(popup, 'click'),
      markTime(popup, 'cards'),
      windowClosed,
    ]);
    const split = {
      total: cards - clicked,
      serverConnect: connectSpan.end - connectSpan.start,
      authWindow: closed - windowOpened,
      exchange: exchangeSpan.end - exchangeSpan.start,
      render: cards - exchangeSpan.end,
    };
    return {
      ...split,
      other: split.total - split.serverConnect - split.authWindow - split.exchange - split.render,
    };
  } finally {
    await browser.close();
  }
}

export async function connectFlow(): Promise<Figure> {
  // The server the e2e build talks to; the runs reach it through the browser only.
  const stack = await startE2eStack();
  try {
    const runs: Split[] = [];
    for (let run = 0; run < RUNS; run++) runs.push(await connectOnce());
    const med = (key: keyof Split) => ms(median(runs.map((run) => run[key])));
    return {
      title: `3. Connect flow (FORD test account, 3 vehicles, median of ${RUNS} runs)`,
      rows: [
        { measure: 'click Connect to cards shown', value: med('total') },
        { measure: 'server connect (POST /api/connect, request to response)', value: med('serverConnect') },
        { measure: 'auth window (opened to closed, Playwright signing in)', value: med('authWindow') },
        { measure: 'exchange (POST /api/exchange, request to response)', value: med('exchange') },
        { measure: 'render (exchange response to cards in the DOM)', value: med('render') },
        { measure: 'other (messaging, storage, opening the window)', value: med('other') },
      ],
      notes: [
        "A fresh Chromium profile per run; server and emulator in the bench process. Times come from the browser: performance marks in the popup for the click and the cards, Playwright request timing for the server calls, the auth window's navigation start and its close event.",
        "The auth window time is mostly Playwright filling in the emulator's Connect pages (preamble, brand, login, approval); a person takes seconds there.",
        'Exchange includes the Smartcar token call, the vehicle list and one batch read per vehicle, permissions included (see figure 4), all against the in-process emulator.',
      ],
    };
  } finally {
    await stack.close();
  }
}
