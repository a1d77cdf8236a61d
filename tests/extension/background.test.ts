// @vitest-environment node
// The background's flows against a real HTTP server; only the auth window is stubbed.
import background from '@/entrypoints/background';
import type { Vehicle } from '@/protocol/server-api';
import type { BackgroundMessage } from '@/utils/messaging';
import {
  connectFlowItem,
  pendingConnectionsItem,
  watchUntilItem,
  connectOptionsItem,
  operationsItem,
  refreshItem,
  serverUrlItem,
  sessionItem,
  unitsItem,
  vehiclesItem,
} from '@/utils/storage';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { POLL_INTERVAL_MS, WATCH_LIMIT_MS } from '@/entrypoints/background/vehicle-sync';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { useMessages } from './messages';
import { startTokenServer, type TokenServer } from './token-server';
import { makeVehicle } from './vehicles';

const REDIRECT_URL = 'https://test-extension-id.chromiumapp.org/';
const tesla = makeVehicle();
const leaf = makeVehicle({ id: 'veh-leaf', make: 'Nissan', model: 'Leaf', year: 2019 });

let server: TokenServer;
let authWindow: ReturnType<
  typeof vi.fn<(details: { url: string; interactive?: boolean }) => Promise<string>>
>;

/** As the popup sends it: resolves when the promise the background's listener returned settles. */
async function send(message: BackgroundMessage): Promise<void> {
  await fakeBrowser.runtime.sendMessage(message);
}

/** The server side of a Connect flow: issues state `s1`, and exchanges code `c1` for `vehicles`. */
function serveConnect(vehicles: Vehicle[], session = 'session-1'): void {
  server.route('POST /api/connect', () => ({
    body: { url: `${server.url}/oauth/authorize?state=s1`, state: 's1' },
  }));
  server.route('POST /api/exchange', ({ body }) =>
    JSON.stringify(body) === JSON.stringify({ code: 'c1', state: 's1', units: 'metric' })
      ? { body: { session, vehicles, pendingConnections: 0 } }
      : { status: 400, body: { error: { code: 'invalid_code', message: 'Unknown code' } } },
  );
}

function userApproves(): void {
  authWindow.mockResolvedValue(`${REDIRECT_URL}?code=c1&state=s1`);
}

const session1 = () => ({ server: server.url, token: 'session-1' });

const paths = () => server.requests.map(({ method, path }) => `${method} ${path}`);

beforeEach(async () => {
  fakeBrowser.reset();
  useMessages();
  server = await startTokenServer();
  await serverUrlItem.setValue(server.url);
  vi.spyOn(fakeBrowser.identity, 'getRedirectURL').mockReturnValue(REDIRECT_URL);
  authWindow = vi.fn();
  vi.spyOn(fakeBrowser.identity, 'launchWebAuthFlow').mockImplementation(authWindow);
  background.main();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await server.close();
});

describe('connect', () => {
  it('stores the session and vehicles after the user approves', async () => {
    serveConnect([tesla]);
    userApproves();

    await send({ type: 'connect' });

    expect(authWindow).toHaveBeenCalledWith({
      url: `${server.url}/oauth/authorize?state=s1`,
      interactive: true,
    });
    expect(server.requests[0]).toMatchObject({
      path: '/api/connect',
      authorization: undefined,
      body: { redirectUri: REDIRECT_URL },
    });
    expect(await sessionItem.getValue()).toEqual(session1());
    expect(await vehiclesItem.getValue()).toEqual([tesla]);
    expect(await connectFlowItem.getValue()).toEqual({ status: 'idle' });
  });

  it('shows the flow as connecting while the auth window is open', async () => {
    serveConnect([tesla]);
    let flowWhileOpen: unknown;
    authWindow.mockImplementation(async () => {
      flowWhileOpen = await connectFlowItem.getValue();
      return `${REDIRECT_URL}?code=c1&state=s1`;
    });

    await send({ type: 'connect' });

    expect(flowWhileOpen).toMatchObject({ status: 'connecting' });
  });

  it('adds new vehicles to the same user when a session exists', async () => {
    await sessionItem.setValue(session1());
    await vehiclesItem.setValue([tesla]);
    serveConnect([leaf], 'session-1');
    userApproves();

    await send({ type: 'connect' });

    expect(server.requests.map(({ authorization }) => authorization)).toEqual([
      'Bearer session-1',
      'Bearer session-1',
    ]);
    expect(await vehiclesItem.getValue()).toEqual([tesla, leaf]);
  });

  it('starts over as a new user when the stored session is no longer known', async () => {
    await sessionItem.setValue({ server: server.url, token: 'expired' });
    await vehiclesItem.setValue([tesla]);
    serveConnect([leaf], 'session-2');
    server.route('POST /api/connect', ({ authorization }) =>
      authorization
        ? { status: 401, body: { error: { code: 'unauthorized', message: 'Unknown session' } } }
        : { body: { url: `${server.url}/oauth/authorize?state=s1`, state: 's1' } },
    );
    userApproves();

    await send({ type: 'connect' });

    expect(server.requests.map(({ authorization }) => authorization)).toEqual([
      'Bearer expired',
      undefined,
      undefined,
    ]);
    expect(await sessionItem.getValue()).toEqual({ server: server.url, token: 'session-2' });
    expect(await vehiclesItem.getValue()).toEqual([leaf]);
  });

  it('runs a single auth window when connect is asked for twice', async () => {
    serveConnect([tesla]);
    userApproves();

    await Promise.all([send({ type: 'connect' }), send({ type: 'connect' })]);

    expect(authWindow).toHaveBeenCalledTimes(1);
    expect(await vehiclesItem.getValue()).toEqual([tesla]);
  });

  it.each([
    ['access_denied', '?error=access_denied&error_description=User+denied+access&state=s1'],
    ['connect_error', '?error=no_vehicles&error_description=No+vehicles+found.&state=s1'],
    ['state_mismatch', '?code=c1&state=someone-else'],
  ])('stores %s from the redirect and never exchanges', async (code, query) => {
    serveConnect([tesla]);
    authWindow.mockResolvedValue(`${REDIRECT_URL}${query}`);

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ status: 'error', failure: { code } });
    expect(paths()).toEqual(['POST /api/connect']);
    expect(await sessionItem.getValue()).toBeNull();
  });

  it('keeps the incompatible vehicle to name it', async () => {
    serveConnect([tesla]);
    authWindow.mockResolvedValue(
      `${REDIRECT_URL}?error=vehicle_incompatible&make=AUDI&model=A4&year=2019&vin=0SCAUDI012FE3B132&state=s1`,
    );

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({
      failure: { code: 'vehicle_incompatible', vehicle: { make: 'AUDI', model: 'A4', year: '2019' } },
    });
  });

  it.each([
    ['cancelled', 'The user did not approve access.'],
    ['auth_page_unavailable', 'Authorization page could not be loaded.'],
    ['unexpected', 'Only one web auth flow is allowed at a time.'],
    // Firefox's words for a closed window.
    ['cancelled', 'User cancelled or denied access.'],
  ])('stores %s when the auth window rejects with "%s"', async (code, message) => {
    serveConnect([tesla]);
    authWindow.mockRejectedValue(new Error(message));

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ status: 'error', failure: { code } });
  });

  it('reads a Firefox rejection that is a plain object with a message', async () => {
    serveConnect([tesla]);
    authWindow.mockRejectedValue({ message: 'User cancelled or denied access.' });

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ failure: { code: 'cancelled' } });
  });

  it('asks Connect for the preferred make, one vehicle and the chosen units', async () => {
    await connectOptionsItem.setValue({ make: 'FORD', singleVehicle: true });
    await unitsItem.setValue('imperial');
    serveConnect([tesla]);
    userApproves();

    await send({ type: 'connect' });

    expect(server.requests.map(({ body }) => body)).toEqual([
      { redirectUri: REDIRECT_URL, make: 'FORD', singleVehicle: true },
      { code: 'c1', state: 's1', units: 'imperial' },
    ]);
  });

  it('reconnects with the vehicle’s make in Smartcar’s spelling, over the preferred one', async () => {
    await connectOptionsItem.setValue({ make: 'FORD', singleVehicle: false });
    serveConnect([tesla]);
    userApproves();

    await send({ type: 'connect', make: 'Mercedes-Benz' });

    expect(server.requests[0]?.body).toEqual({ redirectUri: REDIRECT_URL, make: 'MERCEDES_BENZ' });
  });

  it('keeps when to try again from the server’s answer', async () => {
    const retryAt = '2026-01-15T14:05:00.000Z';
    server.route('POST /api/connect', () => ({
      status: 429,
      headers: { 'retry-after': '42' },
      body: { error: { code: 'rate_limited', message: 'Too many requests', retryAt } },
    }));

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ failure: { code: 'rate_limited', retryAt } });
    expect(authWindow).not.toHaveBeenCalled();
  });

  it('turns a retry-after without retryAt into a time to try again', async () => {
    server.route('POST /api/connect', () => ({
      status: 429,
      headers: { 'retry-after': '42' },
      body: 'Slow down',
    }));
    const before = Date.now();

    await send({ type: 'connect' });

    const flow = await connectFlowItem.getValue();
    const retryAt = flow.status === 'error' ? Date.parse(flow.failure.retryAt ?? '') : NaN;
    expect(flow).toMatchObject({ failure: { code: 'rate_limited' } });
    expect(retryAt).toBeGreaterThanOrEqual(before + 42_000);
  });

  it('passes on the error code the server answers with', async () => {
    serveConnect([tesla]);
    authWindow.mockResolvedValue(`${REDIRECT_URL}?code=stale&state=s1`);

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toEqual({
      status: 'error',
      failure: { code: 'invalid_code', detail: 'Unknown code' },
    });
  });

  it.each([
    ['the server’s own code', { error: { code: 'extension_not_allowed', message: 'Not this extension.' } }],
    ['a proxy’s bare 403', 'Forbidden'],
  ])('tells a refused extension origin from %s', async (_from, body) => {
    server.route('POST /api/connect', () => ({ status: 403, body }));

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ failure: { code: 'extension_not_allowed' } });
  });

  it('takes any other 403 code at its word', async () => {
    server.route('POST /api/connect', () => ({
      status: 403,
      body: { error: { code: 'not_permitted', message: 'No.' } },
    }));

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ failure: { code: 'not_permitted' } });
  });

  it('makes do with the status when something other than the server answers', async () => {
    server.route('POST /api/connect', () => ({ status: 502, body: 'Bad Gateway' }));

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toEqual({
      status: 'error',
      failure: { code: 'internal', detail: 'HTTP 502' },
    });
  });

  it('reports an unreachable server without opening the auth window', async () => {
    await server.close();

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({
      status: 'error',
      failure: { code: 'server_unreachable' },
    });
    expect(authWindow).not.toHaveBeenCalled();
    server = await startTokenServer();
  });

  it('clears an earlier failure when a new flow succeeds', async () => {
    await connectFlowItem.setValue({ status: 'error', failure: { code: 'cancelled' } });
    serveConnect([tesla]);
    userApproves();

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toEqual({ status: 'idle' });
  });
});

describe('a session belongs to its server', () => {
  it('is never sent to another server the options page switched to', async () => {
    // The old server is gone, so its sign-out could not happen; the session is still stored.
    await sessionItem.setValue({ server: 'http://127.0.0.1:9', token: 'old-server-session' });
    await vehiclesItem.setValue([tesla]);
    serveConnect([leaf], 'session-2');
    userApproves();

    await send({ type: 'sync' });
    await send({ type: 'setLock', vehicleId: 'veh-tesla', action: 'LOCK' });
    await send({ type: 'connect' });

    expect(paths()).toEqual(['POST /api/connect', 'POST /api/exchange']);
    expect(server.requests.map(({ authorization }) => authorization)).toEqual([undefined, undefined]);
    expect(await sessionItem.getValue()).toEqual({ server: server.url, token: 'session-2' });
  });

  it('signs out at the server that issued it', async () => {
    const old = await startTokenServer();
    old.route('DELETE /api/session', () => ({ status: 204 }));
    await sessionItem.setValue({ server: old.url, token: 'session-1' });

    await send({ type: 'signOut' });
    await old.close();

    expect(old.requests).toMatchObject([{ path: '/api/session', authorization: 'Bearer session-1' }]);
    expect(server.requests).toEqual([]);
    expect(await sessionItem.getValue()).toBeNull();
  });
});

describe('service worker restart', () => {
  it('turns a flow left connecting by a stopped worker into an interrupted failure', async () => {
    await connectFlowItem.setValue({ status: 'connecting' });

    background.main();

    await vi.waitFor(async () => {
      expect(await connectFlowItem.getValue()).toEqual({ status: 'error', failure: { code: 'interrupted' } });
    });
  });

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

describe('sync on open', () => {
  beforeEach(async () => {
    await sessionItem.setValue(session1());
    await vehiclesItem.setValue([tesla]);
  });

  it('replaces the stored vehicles with the server’s', async () => {
    const moved = makeVehicle({ data: { odometer: { distance: 13000 } } });
    server.route('GET /api/vehicles?units=metric', ({ authorization }) =>
      authorization === 'Bearer session-1'
        ? { body: { vehicles: [moved, leaf], pendingConnections: 0 } }
        : { status: 401, body: { error: { code: 'unauthorized', message: 'No session' } } },
    );

    await send({ type: 'sync' });

    expect(await vehiclesItem.getValue()).toEqual([moved, leaf]);
    expect(await refreshItem.getValue()).toEqual({ status: 'idle' });
  });

  it('forgets the session the server no longer knows', async () => {
    server.route('GET /api/vehicles?units=metric', () => ({
      status: 401,
      body: { error: { code: 'unauthorized', message: 'Unknown session' } },
    }));

    await send({ type: 'sync' });

    expect(await sessionItem.getValue()).toBeNull();
    expect(await vehiclesItem.getValue()).toEqual([]);
  });

  it('keeps the stored vehicles when the server is down', async () => {
    await server.close();

    await send({ type: 'sync' });

    expect(await vehiclesItem.getValue()).toEqual([tesla]);
    expect(await refreshItem.getValue()).toMatchObject({
      status: 'failed',
      failure: { code: 'server_unreachable' },
    });
    server = await startTokenServer();
  });

  it('asks nothing without a session', async () => {
    await sessionItem.removeValue();

    await send({ type: 'sync' });

    expect(server.requests).toEqual([]);
  });
});

describe('while the server works', () => {
  const reading = makeVehicle({
    make: null,
    model: null,
    year: null,
    data: {},
    readAt: {},
    fetchedAt: null,
    reading: true,
  });

  beforeEach(() => {
    // Only the clock and timers are fake; requests still go over a real socket.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], shouldAdvanceTime: true });
  });
  afterEach(async () => {
    // Lets a watch still waiting on a fake timer end, so the next test starts with none.
    await watchUntilItem.setValue(null);
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
    vi.useRealTimers();
  });

  /** Answers GET /api/vehicles with each answer in turn, then the last one forever. */
  function serveVehicles(...answers: { vehicles: Vehicle[]; pendingConnections: number }[]): void {
    let asked = 0;
    server.route('GET /api/vehicles?units=metric', () => ({
      body: answers[Math.min(asked++, answers.length - 1)],
    }));
  }
  const polls = () => paths().filter((path) => path === 'GET /api/vehicles?units=metric').length;

  it('asks again every few seconds after connecting until every vehicle is read, then stops', async () => {
    serveConnect([reading]);
    userApproves();
    serveVehicles(
      { vehicles: [reading], pendingConnections: 1 },
      { vehicles: [tesla, leaf], pendingConnections: 0 },
    );

    await send({ type: 'connect' });
    expect(await vehiclesItem.getValue()).toEqual([reading]);
    expect(await watchUntilItem.getValue()).not.toBeNull();

    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
    await vi.waitFor(async () => {
      expect(await pendingConnectionsItem.getValue()).toBe(1);
    });
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
    await vi.waitFor(async () => {
      expect(await vehiclesItem.getValue()).toEqual([tesla, leaf]);
    });
    expect(await watchUntilItem.getValue()).toBeNull();

    await vi.advanceTimersByTimeAsync(10 * POLL_INTERVAL_MS);
    expect(polls()).toBe(2);
  });

  it('starts the reads the person asks for, and shows their result', async () => {
    await sessionItem.setValue(session1());
    await vehiclesItem.setValue([tesla]);
    const stillReading = { ...tesla, reading: true };
    const fresh = makeVehicle({
      data: { odometer: { distance: 13000 } },
      fetchedAt: '2026-01-15T11:00:00.000Z',
    });
    server.route('POST /api/vehicles/refresh', () => ({
      status: 202,
      body: { vehicles: [stillReading], pendingConnections: 0 },
    }));
    serveVehicles({ vehicles: [fresh], pendingConnections: 0 });

    await send({ type: 'refresh' });
    expect(await vehiclesItem.getValue()).toEqual([stillReading]);

    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
    await vi.waitFor(async () => {
      expect(await vehiclesItem.getValue()).toEqual([fresh]);
    });
    expect(paths()).toEqual(['POST /api/vehicles/refresh', 'GET /api/vehicles?units=metric']);
  });

  it('gives up watching at the limit and keeps what the server had', async () => {
    await sessionItem.setValue(session1());
    serveVehicles({ vehicles: [reading], pendingConnections: 0 });

    await send({ type: 'sync' });
    vi.setSystemTime(Date.now() + WATCH_LIMIT_MS);
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
    await vi.waitFor(async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
    });
    const asked = polls();
    await vi.advanceTimersByTimeAsync(10 * POLL_INTERVAL_MS);

    expect(polls()).toBe(asked);
    expect(await vehiclesItem.getValue()).toEqual([reading]);
  });

  it('picks the watch up again when a stopped worker starts anew', async () => {
    await sessionItem.setValue(session1());
    await vehiclesItem.setValue([reading]);
    await watchUntilItem.setValue(Date.now() + WATCH_LIMIT_MS);
    serveVehicles({ vehicles: [tesla], pendingConnections: 0 });

    background.main();
    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);

    await vi.waitFor(async () => {
      expect(await vehiclesItem.getValue()).toEqual([tesla]);
    });
    expect(await watchUntilItem.getValue()).toBeNull();
  });

  it('watches a lock the car has not confirmed until a read confirms it', async () => {
    const unlocked = makeVehicle({
      permissions: ['control_security'],
      data: { security: { isLocked: false } },
    });
    const sent = {
      ...unlocked,
      pendingCommand: { action: 'LOCK' as const, sentAt: '2026-01-15T11:00:00.000Z' },
    };
    const confirmed = { ...unlocked, data: { security: { isLocked: true } } };
    await sessionItem.setValue(session1());
    await vehiclesItem.setValue([unlocked]);
    server.route('POST /api/vehicles/veh-tesla/security', () => ({ status: 202, body: { vehicle: sent } }));
    serveVehicles({ vehicles: [confirmed], pendingConnections: 0 });

    await send({ type: 'setLock', vehicleId: 'veh-tesla', action: 'LOCK' });
    expect(await vehiclesItem.getValue()).toEqual([sent]);

    await vi.advanceTimersByTimeAsync(POLL_INTERVAL_MS);
    await vi.waitFor(async () => {
      expect(await vehiclesItem.getValue()).toEqual([confirmed]);
    });
  });
});

describe('units', () => {
  it('reads the vehicles again when the options page changes the units', async () => {
    await sessionItem.setValue(session1());
    const inMiles = makeVehicle({ units: 'imperial' });
    server.route('GET /api/vehicles?units=imperial', () => ({
      body: { vehicles: [inMiles], pendingConnections: 0 },
    }));

    await unitsItem.setValue('imperial');

    await vi.waitFor(async () => {
      expect(await vehiclesItem.getValue()).toEqual([inMiles]);
    });
  });
});

describe('vehicle operations', () => {
  const unlocked = makeVehicle({
    permissions: [...tesla.permissions, 'control_security'],
    data: { ...tesla.data, security: { isLocked: false } },
  });

  beforeEach(async () => {
    await sessionItem.setValue(session1());
    await vehiclesItem.setValue([unlocked, leaf]);
  });

  it('locks a vehicle and shows the server’s new lock status', async () => {
    const locked = { ...unlocked, data: { ...unlocked.data, security: { isLocked: true } } };
    let whilePending: unknown;
    server.route('POST /api/vehicles/veh-tesla/security', () => ({ body: { vehicle: locked } }));
    operationsItem.watch((operations) => (whilePending ??= operations['veh-tesla']));

    await send({ type: 'setLock', vehicleId: 'veh-tesla', action: 'LOCK' });

    expect(server.requests).toMatchObject([{ body: { action: 'LOCK' }, authorization: 'Bearer session-1' }]);
    expect(whilePending).toEqual({ operation: 'LOCK', status: 'pending' });
    expect(await vehiclesItem.getValue()).toEqual([locked, leaf]);
    expect((await operationsItem.getValue())['veh-tesla']).toEqual({ operation: 'LOCK', status: 'done' });
  });

  it('shows Reconnect at once when a lock answers reconnect_required', async () => {
    server.route('POST /api/vehicles/veh-tesla/security', () => ({
      status: 409,
      body: { error: { code: 'reconnect_required', message: 'Reconnect' } },
    }));

    await send({ type: 'setLock', vehicleId: 'veh-tesla', action: 'LOCK' });

    expect(await vehiclesItem.getValue()).toEqual([{ ...unlocked, status: 'reconnect_required' }, leaf]);
  });

  it('records why a lock was refused and keeps the vehicle as it was', async () => {
    server.route('POST /api/vehicles/veh-tesla/security', () => ({
      status: 403,
      body: { error: { code: 'not_permitted', message: 'control_security was not granted' } },
    }));

    await send({ type: 'setLock', vehicleId: 'veh-tesla', action: 'UNLOCK' });

    expect((await operationsItem.getValue())['veh-tesla']).toMatchObject({
      operation: 'UNLOCK',
      status: 'failed',
      failure: { code: 'not_permitted' },
    });
    expect(await vehiclesItem.getValue()).toEqual([unlocked, leaf]);
  });

  it('disconnects one vehicle and keeps the others', async () => {
    server.route('DELETE /api/vehicles/veh-tesla', () => ({ status: 204 }));

    await send({ type: 'disconnect', vehicleId: 'veh-tesla' });

    expect(paths()).toEqual(['DELETE /api/vehicles/veh-tesla']);
    expect(await vehiclesItem.getValue()).toEqual([leaf]);
    expect(await sessionItem.getValue()).toEqual(session1());
  });

  it('drops a vehicle the server no longer has', async () => {
    await send({ type: 'disconnect', vehicleId: 'veh-tesla' });

    expect(await vehiclesItem.getValue()).toEqual([leaf]);
    expect((await operationsItem.getValue())['veh-tesla']).toMatchObject({ status: 'done' });
  });

  it('keeps a vehicle whose disconnect did not reach the server', async () => {
    await server.close();

    await send({ type: 'disconnect', vehicleId: 'veh-tesla' });

    expect(await vehiclesItem.getValue()).toEqual([unlocked, leaf]);
    expect((await operationsItem.getValue())['veh-tesla']).toMatchObject({
      status: 'failed',
      failure: { code: 'server_unreachable' },
    });
    server = await startTokenServer();
  });

  it('signs out of everything', async () => {
    server.route('DELETE /api/session', ({ authorization }) =>
      authorization === 'Bearer session-1' ? { status: 204 } : { status: 401, body: {} },
    );

    await send({ type: 'signOut' });

    expect(paths()).toEqual(['DELETE /api/session']);
    expect(await sessionItem.getValue()).toBeNull();
    expect(await vehiclesItem.getValue()).toEqual([]);
    expect((await operationsItem.getValue()).session).toEqual({ operation: 'SIGN_OUT', status: 'done' });
  });

  it('forgets the outcome of finished operations once fresh data arrives', async () => {
    await operationsItem.setValue({
      'veh-tesla': { operation: 'LOCK', status: 'done' },
      'veh-leaf': { operation: 'UNLOCK', status: 'pending' },
    });
    server.route('GET /api/vehicles?units=metric', () => ({
      body: { vehicles: [unlocked, leaf], pendingConnections: 0 },
    }));

    await send({ type: 'sync' });

    expect(await operationsItem.getValue()).toEqual({
      'veh-leaf': { operation: 'UNLOCK', status: 'pending' },
    });
  });
});

describe('toolbar badge', () => {
  const badge = async () => ({
    text: await fakeBrowser.action.getBadgeText({}),
    title: await fakeBrowser.action.getTitle({}),
  });

  it('counts the connected vehicles', async () => {
    await vehiclesItem.setValue([tesla, leaf]);

    await vi.waitFor(async () => {
      expect(await badge()).toEqual({ text: '2', title: '2 vehicles connected' });
    });
  });

  it('shows an attention mark when a vehicle needs reconnecting', async () => {
    await vehiclesItem.setValue([tesla, { ...leaf, status: 'reconnect_required' }]);

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
