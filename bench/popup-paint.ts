// Figure 2: how soon the popup shows stored vehicles. Headless Chromium with the e2e build; the
// session and vehicles are in extension storage, as after a connect. A MutationObserver injected
// before the page's own scripts marks the moment the first vehicle card enters the DOM. A blank
// page added to the bench's own copy of the build, opened the same way, is the floor: what any
// extension page costs in this browser before our code runs.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { extensionDir } from '../tests/e2e/paths';
import { apiClient } from '../tests/support/api-client';
import {
  CARD,
  launchBenchBrowser,
  markCardsAndClicks,
  requestSpan,
  startE2eStack,
  type BenchBrowser,
} from './lib/extension';
import type { Figure, Row } from './lib/report';
import { median, ms, percentile } from './lib/stats';

const OPENS = 30;
const TARGET_MEDIAN_MS = 50;
const TARGET_ABOVE_FLOOR_MS = 10;

interface Open {
  /** Navigation start to DOMContentLoaded: HTML parsed and the module scripts run. */
  scriptsMs: number;
  /** Navigation start to the first card in the DOM (the picture of the last open, if any). */
  cardsMs: number;
  /** Navigation start to the first card the app rendered, which answers clicks. */
  liveMs: number;
  /** Navigation start to first contentful paint (the popup paints nothing before its cards). */
  paintMs: number;
  /** HTTP requests started before that paint, by the page or the service worker. */
  requestsBeforePaint: number;
}

async function openOnce(browser: BenchBrowser): Promise<Open> {
  const before = browser.requests().length;
  const page = await browser.openPopup();
  try {
    await page.locator(CARD).first().waitFor();
    const timing = await paintTiming(page);
    // The popup asks the background for fresh data on open; let it finish before the next open.
    await page
      .waitForFunction(() => !document.body.innerText.includes('Refreshing'), undefined, {
        timeout: 5_000,
      })
      .catch(() => undefined);
    const starts = await Promise.all(browser.requests().slice(before).map(requestSpan));
    const paintAt = timing.timeOrigin + timing.paintMs;
    return {
      scriptsMs: timing.scriptsMs,
      cardsMs: timing.cardsMs,
      liveMs: timing.liveMs,
      paintMs: timing.paintMs,
      requestsBeforePaint: starts.filter(({ start }) => start < paintAt).length,
    };
  } finally {
    await page.close();
  }
}

/** The blank page's figures, as `Open`'s. */
interface Blank {
  scriptsMs: number;
  paintMs: number;
}

/** A page with one line of text and no script: only the browser's own cost of opening a page. */
const BLANK_PAGE = 'bench-blank.html';

/** The blank page's time to first contentful paint, opened as the popup is. */
async function openBlankOnce(browser: BenchBrowser): Promise<Blank> {
  const page = await browser.context.newPage();
  try {
    await page.goto(`chrome-extension://${browser.extensionId}/${BLANK_PAGE}`);
    return await paintTiming(page);
  } finally {
    await page.close();
  }
}

function paintTiming(page: Page) {
  return page.evaluate(async () => {
    const paint = await new Promise<PerformanceEntry>((resolve) => {
      new PerformanceObserver((list, observer) => {
        const entry = list.getEntriesByName('first-contentful-paint')[0];
        if (!entry) return;
        observer.disconnect();
        resolve(entry);
      }).observe({ type: 'paint', buffered: true });
    });
    const [cards] = performance.getEntriesByName('cards');
    const [live] = performance.getEntriesByName('live');
    const [navigation] = performance.getEntriesByType('navigation') as PerformanceNavigationTiming[];
    return {
      scriptsMs: navigation?.domContentLoadedEventEnd ?? Number.NaN,
      timeOrigin: performance.timeOrigin,
      cardsMs: cards?.startTime ?? Number.NaN,
      liveMs: live?.startTime ?? Number.NaN,
      paintMs: paint.startTime,
    };
  });
}

export async function popupPaint(): Promise<Figure> {
  addBlankPage();
  const stack = await startE2eStack();
  const browser = await launchBenchBrowser();
  try {
    const vehicles = await storeConnectedVehicles(browser, stack.serverUrl);
    const { first, opens, blanks } = await openRepeatedly(browser);
    return {
      title: `2. Popup paint (${vehicles} stored vehicles, ${OPENS} opens)`,
      rows: [...cardRows(opens), ...paintRows(opens, blanks), firstOpenRow(first), requestRow(opens)],
      notes: NOTES,
    };
  } finally {
    await browser.close();
    await stack.close();
  }
}

/**
 * Adds the blank page to the bench's build, a temporary folder of its own (see bench/lib/build.ts):
 * nothing shipped changes.
 */
function addBlankPage() {
  writeFileSync(
    path.join(extensionDir(), BLANK_PAGE),
    '<!doctype html><meta charset="utf-8"><title>Blank</title><p>Car Connect</p>',
  );
}

/** Connects a Ford account, its session and vehicles in extension storage; returns how many vehicles. */
async function storeConnectedVehicles(browser: BenchBrowser, serverUrl: string): Promise<number> {
  const { session, vehicles } = await apiClient(serverUrl).connectVehicles({
    choices: { brand: 'FORD' },
  });
  await browser.storeVehicles(session, vehicles);
  await browser.context.addInitScript(markCardsAndClicks, CARD);
  return vehicles.length;
}

/** The first open after the browser started, then `OPENS` opens, each followed by the blank page. */
async function openRepeatedly(browser: BenchBrowser) {
  const first = await openOnce(browser);
  const opens: Open[] = [];
  const blanks: Blank[] = [];
  // Interleaved, so both see the same machine load.
  for (let open = 0; open < OPENS; open++) {
    opens.push(await openOnce(browser));
    blanks.push(await openBlankOnce(browser));
  }
  return { first, opens, blanks };
}

/** When the vehicle cards are in the DOM: the picture of the last open, then the app's own. */
function cardRows(opens: Open[]): Row[] {
  const cards = opens.map((open) => open.cardsMs);
  return [
    {
      measure: 'navigation start to vehicle cards in the DOM, median',
      value: ms(median(cards)),
      target: `<= ${TARGET_MEDIAN_MS} ms`,
      met: median(cards) <= TARGET_MEDIAN_MS,
    },
    { measure: 'navigation start to vehicle cards in the DOM, p95', value: ms(percentile(cards, 95)) },
    {
      measure: "navigation start to the app's own cards (answering clicks), median",
      value: ms(median(opens.map((open) => open.liveMs))),
    },
  ];
}

/** The popup's scripts and first paint, and the same for the blank page: the floor. */
function paintRows(opens: Open[], blanks: Blank[]): Row[] {
  const paints = opens.map((open) => open.paintMs);
  const blankPaint = median(blanks.map((blank) => blank.paintMs));
  return [
    {
      measure: 'navigation start to DOMContentLoaded (page parsed, module scripts run), median',
      value: ms(median(opens.map((open) => open.scriptsMs))),
    },
    {
      measure: 'navigation start to first contentful paint, median / p95',
      value: `${ms(median(paints))} / ${ms(percentile(paints, 95))}`,
    },
    {
      measure: 'floor: a blank extension page, navigation start to first contentful paint, median',
      value: ms(blankPaint),
    },
    {
      measure: 'floor: the blank page to DOMContentLoaded, median',
      value: ms(median(blanks.map((blank) => blank.scriptsMs))),
    },
    {
      measure: 'popup paint above that floor (our HTML, CSS, scripts and storage read), median',
      value: ms(median(paints) - blankPaint),
      target: `<= ${TARGET_ABOVE_FLOOR_MS} ms`,
      met: median(paints) - blankPaint <= TARGET_ABOVE_FLOOR_MS,
    },
  ];
}

function firstOpenRow(first: Open): Row {
  return {
    measure: 'first open after the browser started (not in the above)',
    value: `cards ${ms(first.cardsMs)}, paint ${ms(first.paintMs)}, app's cards ${ms(first.liveMs)}`,
  };
}

function requestRow(opens: Open[]): Row {
  const requests = opens.map((open) => open.requestsBeforePaint);
  const maxRequests = Math.max(...requests);
  return {
    measure: 'network requests before first paint (most in any open)',
    value: `${maxRequests} (total over ${OPENS} opens: ${requests.reduce((sum, n) => sum + n, 0)})`,
    target: '0',
    met: maxRequests === 0,
  };
}

const NOTES = [
  'The popup is opened as a tab (`chrome-extension://<id>/popup.html`) in headless Chromium, a new tab per open, one browser for all opens; the first open is reported apart.',
  'Requests are every http(s) request Playwright sees from the page or the service worker; one is "before first paint" when the browser started it before the first-contentful-paint time.',
  "The floor is a page with one line of text and no script, added to the bench's own copy of the build and opened the same way, after each popup open.",
  'On open the popup asks the background to refresh, after its first paint; the server (in the bench process, fresh data) answers without calling Smartcar.',
  "Every open but the first shows first the picture of the open before (HTML in localStorage, put up by first-paint.js while the page is still loading, inert), then the app's render of the same copied state, then of extension storage when it answers.",
];
