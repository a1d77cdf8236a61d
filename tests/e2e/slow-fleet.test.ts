// Smartcar as its documentation describes a slow day: twelve vehicles on one login and every call
// that reaches a vehicle taking 15 s. The popup must connect, show every vehicle and fill each in.
import type { Page } from 'playwright-core';
import type { browser as ExtensionApi } from 'wxt/browser';
import type { Vehicle } from '../../protocol/server-api';
import { describe, expect, it } from 'vitest';
import { approve, signIn } from './connect-window';
import { useExtensionAndBackend } from './fixture';
import { connectButton, openAuthWindow } from './popup';

const FLEET = 12;
const VEHICLE_CALL_MS = 15_000;
/** Long enough for several rounds of vehicle calls at 15 s each behind the server's concurrency limit. */
const SLOW_WAIT = 150_000;

const e2e = useExtensionAndBackend({
  latency: { profile: 'realistic', scale: 1, vehicleLatencyMs: VEHICLE_CALL_MS },
});

const rows = (popup: Page) => popup.getByTestId('vehicle');
/** Rows still waiting for their first read ("Asking your Tesla…"). */
const unreadRows = (popup: Page) => popup.locator('[data-testid="vehicle"][aria-busy="true"]');

describe('twelve vehicles on one login, every vehicle call taking 15 s', () => {
  it(
    'connects, shows every vehicle at once and fills each in, with no token in storage or logs',
    async () => {
      const popup = await e2e.browser.openPopup();
      const window = await openAuthWindow(e2e.browser, connectButton(popup));
      await signIn(window, { brand: 'TESLA', email: `fleet-${FLEET}@example.com` });
      await window.locator('input[name="vehicle"]:checked').first().waitFor();
      expect(await window.locator('input[name="vehicle"]:checked').count()).toBe(FLEET);
      const approvedAt = Date.now();
      await approve(window);

      // The rows come with the exchange's answer, before any vehicle has been read.
      await expect.poll(() => rows(popup).count(), { timeout: SLOW_WAIT }).toBe(FLEET);
      const rowsAt = Date.now();
      const waiting = await popup.getByText(/^Asking your .+… this can take up to a minute$/).count();
      expect(waiting, await popup.locator('main').innerText()).toBeGreaterThan(0);

      await expect.poll(() => unreadRows(popup).count(), { timeout: SLOW_WAIT }).toBe(0);
      const filledAt = Date.now();
      await expect.poll(() => popup.getByText(/\d+% · [\d,]+ km range/).count()).toBe(FLEET);
      expect(await rows(popup).count()).toBe(FLEET);

      const stored = JSON.stringify(await e2e.browser.readStorage());
      const tokens = e2e.stack.emulator.issuedTokens().map(({ token }) => token);
      expect(tokens.length).toBeGreaterThan(0);
      for (const token of tokens) {
        expect(stored).not.toContain(token);
        expect(e2e.stack.logs()).not.toContain(token);
      }
      // Measurements for the record, not assertions: the machine sets the pace.
      console.info(
        `${FLEET} vehicles at ${VEHICLE_CALL_MS} ms a call: rows after ${rowsAt - approvedAt} ms,` +
          ` all filled in after ${filledAt - approvedAt} ms (from approval); exchange: ${exchangeTimes()}`,
      );
    },
    SLOW_WAIT * 2,
  );
});

/**
 * Chrome stops an idle worker whenever it likes, and with it the polling it was doing. A global set
 * with `true` is gone from a worker that started again, which then answers `false`.
 */
const markWorker = (mark: boolean) =>
  Promise.all(
    e2e.browser.context.serviceWorkers().map((worker) =>
      worker.evaluate((value) => {
        const scope = globalThis as { stopMarker?: boolean };
        if (value) scope.stopMarker = true;
        return scope.stopMarker ?? false;
      }, mark),
    ),
  );

/** Connects the FORD fleet, and once its rows show (some still unread) stops the worker and closes the popup. */
async function connectFleetAndStopWorker(): Promise<void> {
  const popup = await e2e.browser.openPopup();
  const window = await openAuthWindow(e2e.browser, connectButton(popup));
  await signIn(window, { brand: 'FORD', email: `fleet-${FLEET}@example.com` });
  await window.locator('input[name="vehicle"]:checked').first().waitFor();
  await approve(window);
  await expect.poll(() => rows(popup).count(), { timeout: SLOW_WAIT }).toBe(FLEET);
  expect(await unreadRows(popup).count()).toBeGreaterThan(0);
  expect(await markWorker(true)).toEqual([true]);
  await e2e.browser.stopServiceWorker(popup);
  await popup.close();
}

describe('a service worker stopped while the vehicles are being read', () => {
  it(
    'fills the rows in once a reopened popup wakes it',
    async () => {
      await connectFleetAndStopWorker();

      // The popup asks the worker to sync on every open, which wakes it; it picks up the watch from storage.
      const reopened = await e2e.browser.openPopup();
      await expect.poll(() => rows(reopened).count(), { timeout: SLOW_WAIT }).toBe(FLEET);
      await expect.poll(() => unreadRows(reopened).count(), { timeout: SLOW_WAIT }).toBe(0);
      expect(await markWorker(false)).toEqual([false]);
      expect(await reopened.getByText(/\d+% · [\d,]+ km range/).count()).toBe(FLEET);
    },
    SLOW_WAIT * 2,
  );

  it(
    'fills the stored vehicles in with the popup closed: the watch alarm wakes it',
    async () => {
      await connectFleetAndStopWorker();

      // The options page reads storage and sends the worker nothing, so only the alarm can wake it.
      const options = await e2e.browser.openOptions();
      const unread = () =>
        options.evaluate(async () => {
          const { storage } = (globalThis as unknown as { chrome: typeof ExtensionApi }).chrome;
          const { vehicles } = await storage.local.get<{ vehicles: Vehicle[] }>('vehicles');
          return vehicles.filter((vehicle) => vehicle.fetchedAt === null).length;
        });
      expect(await unread()).toBeGreaterThan(0);
      await expect.poll(unread, { timeout: SLOW_WAIT, interval: 1_000 }).toBe(0);
      expect(await markWorker(false)).toEqual([false]);
    },
    SLOW_WAIT * 2,
  );
});

/** The server's own response times for the exchange, from its log (Fastify's request lines share a reqId). */
function exchangeTimes(): string {
  const entries = e2e.stack
    .logs()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map(
      (line) =>
        JSON.parse(line) as {
          reqId?: string;
          req?: { url?: string };
          res?: { statusCode?: number };
          responseTime?: number;
        },
    );
  const exchanges = new Set(
    entries.filter((entry) => entry.req?.url === '/api/exchange').map((entry) => entry.reqId),
  );
  return entries
    .filter((entry) => exchanges.has(entry.reqId) && entry.responseTime !== undefined)
    .map((entry) => `${entry.res?.statusCode ?? '?'} in ${Math.round(entry.responseTime ?? 0)} ms`)
    .join(', ');
}
