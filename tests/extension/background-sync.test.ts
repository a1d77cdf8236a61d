// @vitest-environment node
// The background keeping the stored vehicles in step with the real server (background-harness.ts).
import { POLL_INTERVAL_MS, WATCH_ALARM, WATCH_LIMIT_MS } from '@/entrypoints/background/vehicle-sync';
import background from '@/entrypoints/background';
import {
  pendingConnectionsItem,
  refreshItem,
  sessionItem,
  unitsItem,
  vehiclesItem,
  watchUntilItem,
} from '@/utils/storage';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import {
  SETTLE_TIMEOUT_MS,
  carAndOther,
  send,
  serverVehicles,
  unpaced,
  useBackgroundOnStack,
  sentPaths,
} from './background-harness';
import { makeVehicle } from './vehicles';

// The server answers before Smartcar has, whatever Smartcar's latency: every exchange, read and
// lock is still under way in its first answer, which is what the watch is for.
const bg = useBackgroundOnStack({ env: { SMARTCAR_WAIT_SECONDS: '0' } });

const polls = () => sentPaths(bg).filter((path) => path === 'GET /api/vehicles?units=metric').length;

/** This test's account connected at the server (not through the background), its session stored. */
async function signedIn() {
  const user = await bg.api.connectVehicles({ choices: { email: bg.email } });
  const session = { server: bg.stack.serverUrl, token: user.session };
  await sessionItem.setValue(session);
  return { session, vehicles: user.vehicles, ...carAndOther(user.vehicles) };
}

/** Holds Smartcar's answers to the server's reads of a vehicle for a while (real time). */
function slowReads(delayMs: number): void {
  bg.stack.emulator.injectFault({ endpoint: 'batch', delayMs });
}

/** Signed in with the vehicles stored, presses Refresh while Smartcar holds each read 500 ms. */
async function refreshWithSlowReads() {
  const user = await signedIn();
  await vehiclesItem.setValue(user.vehicles);
  slowReads(500);
  await send({ type: 'refresh' });
  return user;
}

describe('sync on open', () => {
  it('replaces the stored vehicles with the server’s', async () => {
    const { session } = await signedIn();
    await vehiclesItem.setValue([makeVehicle()]);

    await send({ type: 'sync' });

    expect((await vehiclesItem.getValue()).map(unpaced)).toEqual(
      (await serverVehicles(bg.api, session)).map(unpaced),
    );
    expect(await refreshItem.getValue()).toEqual({ status: 'idle' });
  });

  it('forgets the session the server no longer knows', async () => {
    const { session, vehicles } = await signedIn();
    await vehiclesItem.setValue(vehicles);
    // Signed out from elsewhere: the server deletes the session.
    expect((await bg.api.call('DELETE', '/api/session', { session: session.token })).status).toBe(204);

    await send({ type: 'sync' });

    expect(await sessionItem.getValue()).toBeNull();
    expect(await vehiclesItem.getValue()).toEqual([]);
  });

  it('keeps the stored vehicles when the server is down', async () => {
    const { vehicles } = await signedIn();
    await vehiclesItem.setValue(vehicles);
    await bg.stack.stopServer();
    try {
      await send({ type: 'sync' });
    } finally {
      await bg.stack.startServer();
    }

    expect(await vehiclesItem.getValue()).toEqual(vehicles);
    expect(await refreshItem.getValue()).toMatchObject({
      status: 'failed',
      failure: { code: 'server_unreachable' },
    });
  });

  it('asks nothing without a session', async () => {
    await send({ type: 'sync' });

    expect(bg.sent).toEqual([]);
  });
});

describe('while the server works', () => {
  beforeEach(() => {
    // Only the clock and timers are fake; requests still go over a real socket, and the emulator's
    // delays (node:timers/promises) run in real time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true });
  });
  afterEach(async () => {
    // Lets a watch still waiting on a fake timer end, so the next test starts with none.
    await watchUntilItem.setValue(null);
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
    vi.useRealTimers();
  });

  /** Lets the background's polls come one after another until `check` passes. */
  const pollUntil = (check: () => Promise<void>) =>
    vi.waitFor(
      async () => {
        await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
        await check();
      },
      { timeout: SETTLE_TIMEOUT_MS, interval: 100 },
    );

  it('asks again every few seconds after connecting until every vehicle is read, then stops', async () => {
    // Smartcar lists the new connection's vehicles after the exchange has answered.
    bg.stack.emulator.injectFault({ endpoint: 'vehicles', delayMs: 500, times: 1 });

    await send({ type: 'connect' });
    expect(await pendingConnectionsItem.getValue()).toBe(1);
    const until = await watchUntilItem.getValue();
    expect(until).not.toBeNull();

    await pollUntil(async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
    });
    // Ended because the server had finished, not because the watch ran out (on the fake clock).
    expect(Date.now()).toBeLessThan(until ?? 0);
    expect(await pendingConnectionsItem.getValue()).toBe(0);
    const vehicles = await vehiclesItem.getValue();
    expect(vehicles.map(({ model, reading }) => `${model} ${reading}`).sort()).toEqual([
      'Model 3 false',
      'Model Y false',
    ]);
    expect(vehicles.map(({ fetchedAt }) => fetchedAt)).not.toContain(null);
    const asked = polls();
    expect(asked).toBeGreaterThan(0);

    await vi.advanceTimersByTimeAsync(10 * POLL_INTERVAL_MS);
    expect(polls()).toBe(asked);
  });

  it('starts the reads the person asks for, and shows their result', async () => {
    const { vehicles } = await refreshWithSlowReads();
    expect((await vehiclesItem.getValue()).map(({ reading }) => reading)).toEqual([true, true]);

    await pollUntil(async () => {
      expect((await vehiclesItem.getValue()).map(({ reading }) => reading)).toEqual([false, false]);
    });
    const read = await vehiclesItem.getValue();
    read.forEach(({ fetchedAt }, index) => {
      expect(Date.parse(fetchedAt ?? '')).toBeGreaterThan(Date.parse(vehicles[index]?.fetchedAt ?? ''));
    });
    expect(sentPaths(bg)[0]).toBe('POST /api/vehicles/refresh?units=metric');
    expect(new Set(sentPaths(bg).slice(1))).toEqual(new Set(['GET /api/vehicles?units=metric']));
  });

  it('asks for a Refresh, and the polls after it, in the person’s units', async () => {
    await unitsItem.setValue('imperial');

    await refreshWithSlowReads();

    // Stored from the refresh's own answer, before any poll.
    const shown = async () => (await vehiclesItem.getValue()).map(({ units }) => units);
    expect(await shown()).toEqual(['imperial', 'imperial']);
    await pollUntil(async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
    });
    expect(await shown()).toEqual(['imperial', 'imperial']);
    expect(new Set(sentPaths(bg))).toEqual(
      new Set(['POST /api/vehicles/refresh?units=imperial', 'GET /api/vehicles?units=imperial']),
    );
  });

  it('gives up watching at the limit and keeps what the server had', async () => {
    const { session } = await signedIn();
    slowReads(2_000);
    expect((await bg.api.call('POST', '/api/vehicles/refresh', { session: session.token })).status).toBe(202);

    await send({ type: 'sync' });
    const whileReading = await vehiclesItem.getValue();
    expect(whileReading.map(({ reading }) => reading)).toEqual([true, true]);
    vi.setSystemTime(Date.now() + WATCH_LIMIT_MS);
    await pollUntil(async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
    });
    const asked = polls();
    await vi.advanceTimersByTimeAsync(10 * POLL_INTERVAL_MS);

    expect(polls()).toBe(asked);
    expect(await vehiclesItem.getValue()).toEqual(whileReading);
    // A read still waiting on the emulator at the end of the file would hold its close up.
    await bg.api.settled(session.token);
  });

  it('picks the watch up again when a stopped worker starts anew', async () => {
    const { session } = await signedIn();
    await vehiclesItem.setValue([makeVehicle({ reading: true })]);
    await watchUntilItem.setValue(Date.now() + WATCH_LIMIT_MS);

    background.main();

    await pollUntil(async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
    });
    expect((await vehiclesItem.getValue()).map(unpaced)).toEqual(
      (await serverVehicles(bg.api, session)).map(unpaced),
    );
  });

  /** The watch alarm firing, as the browser fires it (waking a stopped worker first). */
  const fireWatchAlarm = () =>
    fakeBrowser.alarms.onAlarm.trigger({ name: WATCH_ALARM, scheduledTime: Date.now() });

  it('keeps a 30-second alarm while it watches, and clears it once the server has finished', async () => {
    await refreshWithSlowReads();
    expect(await fakeBrowser.alarms.get(WATCH_ALARM)).toMatchObject({ periodInMinutes: 0.5 });
    await pollUntil(async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
    });
    expect(await fakeBrowser.alarms.get(WATCH_ALARM)).toBeUndefined();
  });

  it('lets an alarm go that fires with no watch left', async () => {
    await fakeBrowser.alarms.create(WATCH_ALARM, { periodInMinutes: 0.5 });

    await fireWatchAlarm();

    expect(await fakeBrowser.alarms.get(WATCH_ALARM)).toBeUndefined();
  });

  it('ends the watch and its alarm when the session is gone while the server still works', async () => {
    await refreshWithSlowReads();
    expect(await watchUntilItem.getValue()).not.toBeNull();

    // As the options page leaves it after switching servers: no session, the watch still stored.
    await sessionItem.setValue(null);

    await pollUntil(async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
    });
    expect(await fakeBrowser.alarms.get(WATCH_ALARM)).toBeUndefined();
  });

  it('goes on with a watch no running worker polls for when the alarm fires', async () => {
    const { session } = await signedIn();
    await vehiclesItem.setValue([makeVehicle({ reading: true })]);
    // As a worker that started the watch and was stopped left it: in storage, with its alarm.
    await watchUntilItem.setValue(Date.now() + WATCH_LIMIT_MS);
    await fakeBrowser.alarms.create(WATCH_ALARM, { periodInMinutes: 0.5 });

    await fireWatchAlarm();

    await pollUntil(async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
    });
    expect(polls()).toBeGreaterThan(0);
    expect((await vehiclesItem.getValue()).map(unpaced)).toEqual(
      (await serverVehicles(bg.api, session)).map(unpaced),
    );
  });

  it('watches a lock the car has not confirmed until a read confirms it', async () => {
    const { vehicles, car } = await signedIn();
    await vehiclesItem.setValue(vehicles);
    expect(car.data.security).toEqual({ isLocked: true });
    bg.stack.emulator.injectFault({ endpoint: 'unlock', delayMs: 500, times: 1 });

    await send({ type: 'setLock', vehicleId: car.id, action: 'UNLOCK' });
    expect((await vehiclesItem.getValue())[0]?.pendingCommand).toMatchObject({ action: 'UNLOCK' });

    await pollUntil(async () => {
      expect((await vehiclesItem.getValue())[0]?.pendingCommand).toBeNull();
    });
    expect((await vehiclesItem.getValue())[0]?.data.security).toEqual({ isLocked: false });
  });
});

describe('units', () => {
  it('asks for the vehicles in the new units when the options page changes them', async () => {
    const { session } = await signedIn();

    await unitsItem.setValue('imperial');

    await vi.waitFor(
      async () => {
        expect((await vehiclesItem.getValue()).map(({ units }) => units)).toEqual(['imperial', 'imperial']);
      },
      { timeout: SETTLE_TIMEOUT_MS, interval: 50 },
    );
    expect((await vehiclesItem.getValue()).map(unpaced)).toEqual(
      (await serverVehicles(bg.api, session, '?units=imperial')).map(unpaced),
    );
  });
});
