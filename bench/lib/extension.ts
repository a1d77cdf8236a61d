// The e2e fixture's Chromium with the built extension, plus what the benchmarks add: writing
// extension storage and listing the network requests the browser made, with their start times.
import type { Request } from 'playwright-core';
import type { Vehicle } from '../../protocol/api';
import { launchExtension, type ExtensionBrowser } from '../../tests/e2e/extension';

export interface BenchBrowser extends ExtensionBrowser {
  /** Stores a session and vehicles as the background does after a connect. */
  storeVehicles(session: string, vehicles: Vehicle[]): Promise<void>;
  /** HTTP(S) requests made since the browser started, by any page or the service worker. */
  requests(): Request[];
}

export async function launchBenchBrowser(): Promise<BenchBrowser> {
  const browser = await launchExtension();
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
      // Keys as utils/storage.ts defines them (`local:session` is `session` in storage.local).
      await worker.evaluate(
        (items) =>
          (
            globalThis as unknown as { chrome: typeof import('wxt/browser').browser }
          ).chrome.storage.local.set(items),
        { session, vehicles },
      );
    },
  };
}

/** When the browser started the request (epoch ms), once it has finished. */
export async function startedAt(request: Request): Promise<number> {
  await request.response();
  return request.timing().startTime;
}
