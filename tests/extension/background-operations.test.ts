// @vitest-environment node
// Lock, unlock, disconnect and sign out from the background, against the real server and the
// emulator (background-harness.ts); and the toolbar badge.
import background from '@/entrypoints/background';
import type { ErrorBody, Vehicle } from '@/protocol/server-api';
import { COMMANDS_PER_MINUTE } from '@/server/http/rate-limits';
import { operationsItem, sessionItem, unitsItem, vehiclesItem } from '@/utils/storage';
import { describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import {
  connected,
  inConnect,
  send,
  sentPaths,
  serverVehicles,
  useBackgroundOnStack,
} from './background-harness';

const bg = useBackgroundOnStack();

const ids = (vehicles: Vehicle[]) => vehicles.map(({ id }) => id);

const KM_PER_MILE = 1.609344;

describe('vehicle operations', () => {
  it('locks a vehicle and shows the server’s new lock status', async () => {
    const { session, car } = await connected(bg);
    // Unlocked at the car first, and the background told so, so that the lock changes something.
    const unlocked = await bg.api.call('POST', `/api/vehicles/${car.id}/security`, {
      session: session.token,
      body: { action: 'UNLOCK' },
    });
    expect(unlocked.status).toBe(200);
    await send({ type: 'sync' });
    const [, other] = await vehiclesItem.getValue();
    expect((await vehiclesItem.getValue())[0]?.data.security).toEqual({ isLocked: false });
    bg.sent.length = 0;
    let whilePending: unknown;
    operationsItem.watch((operations) => (whilePending ??= operations[car.id]));

    await send({ type: 'setLock', vehicleId: car.id, action: 'LOCK' });

    expect(bg.sent).toMatchObject([
      {
        path: `/api/vehicles/${car.id}/security?units=metric`,
        body: { action: 'LOCK' },
        authorization: `Bearer ${session.token}`,
      },
    ]);
    expect(whilePending).toEqual({ operation: 'LOCK', status: 'pending' });
    const [locked, untouched] = await vehiclesItem.getValue();
    expect(locked).toMatchObject({
      id: car.id,
      data: { security: { isLocked: true } },
      pendingCommand: null,
    });
    expect(untouched).toEqual(other);
    expect((await operationsItem.getValue())[car.id]).toEqual({ operation: 'LOCK', status: 'done' });
  });

  it('shows the locked vehicle in miles to a person who chose imperial units', async () => {
    await unitsItem.setValue('imperial');
    const { session, car } = await connected(bg);
    const [inKm] = await serverVehicles(bg.api, session, '?units=metric');
    const km = inKm?.data.odometer?.distance ?? 0;
    expect(km).toBeGreaterThan(0);

    await send({ type: 'setLock', vehicleId: car.id, action: 'LOCK' });

    expect(sentPaths(bg)).toEqual([`POST /api/vehicles/${car.id}/security?units=imperial`]);
    const [locked] = await vehiclesItem.getValue();
    expect(locked).toMatchObject({ id: car.id, units: 'imperial', data: { security: { isLocked: true } } });
    expect(locked?.data.odometer?.distance).toBeCloseTo(km / KM_PER_MILE, 0);
  });

  it('shows Reconnect at once when a lock answers reconnect_required', async () => {
    const { car, other } = await connected(bg);
    // Smartcar refuses the grant: the person took the app's access away in their car maker's account.
    bg.stack.emulator.injectFault({ endpoint: 'lock', status: 403, type: 'PERMISSION', times: 1 });

    await send({ type: 'setLock', vehicleId: car.id, action: 'LOCK' });

    expect(bg.sent[0]?.answer).toMatchObject({
      status: 409,
      body: { error: { code: 'reconnect_required' } },
    });
    expect(await vehiclesItem.getValue()).toEqual([{ ...car, status: 'reconnect_required' }, other]);
  });

  it('records why a lock was refused, a 403 other than a refused origin taken at its word, and keeps the vehicle', async () => {
    // The grant leaves out control_security: Connect is asked for every permission but that one.
    bg.authWindow.mockImplementation(({ url }) => {
      const connect = new URL(url);
      const scope = connect.searchParams.get('scope')?.split(' ') ?? [];
      connect.searchParams.set(
        'scope',
        scope.filter((permission) => permission !== 'control_security').join(' '),
      );
      return inConnect(connect.toString(), { email: bg.email });
    });
    const { vehicles, car } = await connected(bg);
    expect(car.permissions).not.toContain('control_security');

    await send({ type: 'setLock', vehicleId: car.id, action: 'UNLOCK' });

    expect(bg.sent[0]?.answer?.status).toBe(403);
    expect((await operationsItem.getValue())[car.id]).toEqual({
      operation: 'UNLOCK',
      status: 'failed',
      failure: {
        code: 'not_permitted',
        detail: 'Locking was not allowed for this vehicle. Connect it again to allow it.',
      },
    });
    expect(await vehiclesItem.getValue()).toEqual(vehicles);
  });

  it('keeps when to try again from the server’s answer', async () => {
    const { car } = await connected(bg);
    // The server's own limit on commands to one vehicle.
    for (let sent = 0; sent < COMMANDS_PER_MINUTE; sent += 1) {
      await send({ type: 'setLock', vehicleId: car.id, action: 'LOCK' });
      expect((await operationsItem.getValue())[car.id]).toEqual({ operation: 'LOCK', status: 'done' });
    }

    await send({ type: 'setLock', vehicleId: car.id, action: 'LOCK' });

    const refused = bg.sent.at(-1)?.answer;
    expect(refused?.status).toBe(429);
    const { retryAt } = (refused?.body as ErrorBody).error;
    expect(retryAt).toEqual(expect.any(String));
    expect((await operationsItem.getValue())[car.id]).toMatchObject({
      status: 'failed',
      failure: { code: 'rate_limited', retryAt },
    });
  });

  it('disconnects one vehicle and keeps the others', async () => {
    const { session, car, other } = await connected(bg);

    await send({ type: 'disconnect', vehicleId: car.id });

    expect(sentPaths(bg)).toEqual([`DELETE /api/vehicles/${car.id}`]);
    expect(await vehiclesItem.getValue()).toEqual([other]);
    expect(await sessionItem.getValue()).toEqual(session);
    expect(ids(await serverVehicles(bg.api, session))).toEqual([other.id]);
  });

  it('drops a vehicle the server no longer has', async () => {
    const { session, car, other } = await connected(bg);
    // Disconnected from another browser signed in as the same user.
    const gone = await bg.api.call('DELETE', `/api/vehicles/${car.id}`, { session: session.token });
    expect(gone.status).toBe(204);

    await send({ type: 'disconnect', vehicleId: car.id });

    expect(bg.sent[0]?.answer?.status).toBe(404);
    expect(await vehiclesItem.getValue()).toEqual([other]);
    expect((await operationsItem.getValue())[car.id]).toEqual({ operation: 'DISCONNECT', status: 'done' });
  });

  it('keeps a vehicle whose disconnect did not reach the server', async () => {
    const { session, vehicles, car } = await connected(bg);
    await bg.stack.stopServer();
    try {
      await send({ type: 'disconnect', vehicleId: car.id });
    } finally {
      await bg.stack.startServer();
    }

    expect(await vehiclesItem.getValue()).toEqual(vehicles);
    expect((await operationsItem.getValue())[car.id]).toMatchObject({
      status: 'failed',
      failure: { code: 'server_unreachable' },
    });
    expect(ids(await serverVehicles(bg.api, session))).toEqual(ids(vehicles));
  });

  it('signs out of everything, at the server too', async () => {
    const { session } = await connected(bg);

    await send({ type: 'signOut' });

    expect(sentPaths(bg)).toEqual(['DELETE /api/session']);
    expect(await sessionItem.getValue()).toBeNull();
    expect(await vehiclesItem.getValue()).toEqual([]);
    expect((await operationsItem.getValue()).session).toEqual({ operation: 'SIGN_OUT', status: 'done' });
    expect((await bg.api.call('GET', '/api/vehicles', { session: session.token })).status).toBe(401);
  });

  it('forgets the outcome of finished operations once fresh data arrives', async () => {
    const { car, other } = await connected(bg);
    await operationsItem.setValue({
      [car.id]: { operation: 'LOCK', status: 'done' },
      [other.id]: { operation: 'UNLOCK', status: 'pending' },
    });

    await send({ type: 'sync' });

    expect(await operationsItem.getValue()).toEqual({
      [other.id]: { operation: 'UNLOCK', status: 'pending' },
    });
  });
});

describe('service worker restart', () => {
  it('lets go of operations left running by a stopped worker', async () => {
    await operationsItem.setValue({
      'veh-tesla': { operation: 'LOCK', status: 'pending' },
      'veh-leaf': { operation: 'UNLOCK', status: 'done' },
    });

    background.main();

    await vi.waitFor(async () => {
      expect(await operationsItem.getValue()).toEqual({
        'veh-tesla': { operation: 'LOCK', status: 'failed', failure: { code: 'operation_interrupted' } },
        'veh-leaf': { operation: 'UNLOCK', status: 'done' },
      });
    });
  });
});

describe('toolbar badge', () => {
  const badge = async () => ({
    text: await fakeBrowser.action.getBadgeText({}),
    title: await fakeBrowser.action.getTitle({}),
  });

  it('counts the connected vehicles', async () => {
    await connected(bg);

    await vi.waitFor(async () => {
      expect(await badge()).toEqual({ text: '2', title: '2 vehicles connected' });
    });
  });

  it('shows an attention mark when a vehicle needs reconnecting', async () => {
    const { car } = await connected(bg);
    bg.stack.emulator.injectFault({ endpoint: 'lock', status: 403, type: 'PERMISSION', times: 1 });

    await send({ type: 'setLock', vehicleId: car.id, action: 'LOCK' });

    await vi.waitFor(async () => {
      expect(await badge()).toEqual({ text: '!', title: 'A vehicle needs reconnecting' });
    });
  });

  it('is empty without vehicles, also when the background starts', async () => {
    await fakeBrowser.action.setBadgeText({ text: '3' });

    background.main();

    await vi.waitFor(async () => {
      expect(await badge()).toEqual({ text: '', title: 'Car Connect' });
    });
  });
});
