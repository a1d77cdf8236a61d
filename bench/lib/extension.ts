// The e2e fixture's Chromium with the built extension, plus what the benchmarks add: writing
// extension storage and listing the network requests the browser made, with their start times.
import type { Page, Request } from 'playwright-core';
import type { Vehicle } from '../../protocol/server-api';
import { launchExtension, type ExtensionBrowser } from '../../tests/e2e/extension';
import { E2E_SERVER_PORT, E2E_SERVER_URL } from '../../tests/e2e/paths';
import { startStack, type Stack } from '../../tests/support/stack';
import { waitForFreePort } from './processes';

export interface BenchBrowser extends ExtensionBrowser {
  /** Stores a session and vehicles as the background does after a connect. */
  storeVehicles(session: string, vehicles: Vehicle[]): Promise<void>;
  /** HTTP(S) requests made since the browser started, by any page or the service worker. */
  requests(): Request[];
}

export async function launchBenchBrowser(): Promise<BenchBrowser> {
  const browser = await launchWithRetry();
  const requests: Request[] = [];
  browser.context.on('request', (request) => {
    if (/^https?:/.test(request.url())) requests.push(request);
  });
  return {
    ...browser,
    requests: () => requests,
    async storeVehicles(session, vehicles) {
      const [worker] = browser.context.serviceWorkers();
      if (!worker) throw new Error('no service worker');
      // Keys and shapes as utils/storage.ts defines them (`local:serverSession` is `serverSession`
      // in storage.local): with the session, the popup's sync on open reaches the server.
      await worker.evaluate(
        (items) =>
          (
            globalThis as unknown as { chrome: typeof import('wxt/browser').browser }
          ).chrome.storage.local.set(items),
        { serverSession: { server: E2E_SERVER_URL, token: session }, vehicles },
      );
    },
  };
}

/** Others' e2e runs rebuild the same extension folder; a launch during a rebuild finds no service worker. */
async function launchWithRetry(attempts = 3): Promise<ExtensionBrowser> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchExtension();
    } catch (error) {
      if (attempt >= attempts) throw error;
      console.log(`Chromium with the extension did not start (${String(error)}); trying again`);
    }
  }
}

/** Start and end of a request (epoch ms, browser clock), once it has finished. */
export async function requestSpan(request: Request): Promise<{ start: number; end: number }> {
  await (await request.response())?.finished();
  const timing = request.timing();
  return { start: timing.startTime, end: timing.startTime + timing.responseEnd };
}

export const CARD = '[data-testid="vehicle"]';

/**
 * Runs in every extension page before its scripts (`context.addInitScript`): marks `cards` when
 * the first vehicle card enters the DOM, `live` when the first card the app rendered does (not in
 * the inert picture of the last open), and `click` at the first click, on the page's own clock.
 */
export function markCardsAndClicks(selector: string): void {
  const observer = new MutationObserver(() => {
    const card = document.querySelector(selector);
    if (!card) return;
    if (performance.getEntriesByName('cards').length === 0) performance.mark('cards');
    if (card.closest('[inert]')) return;
    performance.mark('live');
    observer.disconnect();
  });
  observer.observe(document, { childList: true, subtree: true });
  document.addEventListener('click', () => performance.mark('click'), { capture: true, once: true });
}

/** A mark made by `markCardsAndClicks`, as epoch ms. */
export function markTime(page: Page, name: 'cards' | 'click'): Promise<number> {
  return page.evaluate((mark) => {
    const [entry] = performance.getEntriesByName(mark);
    return entry ? performance.timeOrigin + entry.startTime : Number.NaN;
  }, name);
}

/**
 * The back end on the port the e2e build has baked in. Others' e2e tests use the same port, so
 * wait for it and try again when it is taken between the check and the listen.
 */
export async function startE2eStack(): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    await waitForFreePort(E2E_SERVER_PORT);
    try {
      return await startStack({ serverPort: E2E_SERVER_PORT, env: { LOG_LEVEL: 'warn' } });
    } catch (error) {
      if (attempt >= 10 || (error as { code?: unknown }).code !== 'EADDRINUSE') throw error;
    }
  }
}
