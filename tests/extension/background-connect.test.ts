// @vitest-environment node
// The background's Connect flow against the real server and the emulator (background-harness.ts).
import background from '@/entrypoints/background';
import {
  connectFlowItem,
  connectOptionsItem,
  serverUrlItem,
  sessionItem,
  unitsItem,
  vehiclesItem,
} from '@/utils/storage';
import { describe, expect, it, vi } from 'vitest';
import { REDIRECT_URI } from '../support/api-client';
import {
  carAndOther,
  connected,
  inConnect,
  send,
  serverVehicles,
  unpaced,
  useBackgroundOnStack,
  sentPaths,
} from './background-harness';
import { startStandInServer } from './stand-in-server';

const bg = useBackgroundOnStack();

const authorizations = () => bg.sent.map(({ authorization }) => authorization);
/** The Connect URL the background opened the auth window at. */
const openedUrl = () => new URL(bg.authWindow.mock.calls[0]?.[0].url ?? 'about:blank');
const SESSION_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/** Where the old server was: nothing answers there any more. */
const GONE_SERVER = 'http://127.0.0.1:9';

describe('connect', () => {
  it('opens the server’s Connect URL, then stores the session and the vehicles the server answers', async () => {
    await send({ type: 'connect' });

    expect(bg.authWindow).toHaveBeenCalledWith({
      url: expect.stringMatching(new RegExp(`^${bg.stack.emulator.origin}/oauth/authorize\\?`)) as string,
      interactive: true,
    });
    expect(bg.sent[0]).toEqual({
      method: 'POST',
      path: '/api/connect',
      authorization: null,
      body: { redirectUri: REDIRECT_URI },
      answer: { status: 200, body: expect.anything() as unknown },
    });
    const session = await sessionItem.getValue();
    expect(session).toEqual({
      server: bg.stack.serverUrl,
      token: expect.stringMatching(SESSION_TOKEN) as string,
    });
    const vehicles = await vehiclesItem.getValue();
    expect(vehicles.map(({ make, model }) => `${make} ${model}`).sort()).toEqual([
      'TESLA Model 3',
      'TESLA Model Y',
    ]);
    expect(vehicles.map(unpaced)).toEqual(
      (await serverVehicles(bg.api, { server: bg.stack.serverUrl, token: session?.token ?? '' })).map(
        unpaced,
      ),
    );
    expect(await connectFlowItem.getValue()).toEqual({ status: 'idle' });
  });

  it('shows the flow as connecting while the auth window is open', async () => {
    let flowWhileOpen: unknown;
    bg.authWindow.mockImplementation(async ({ url }) => {
      flowWhileOpen = await connectFlowItem.getValue();
      return inConnect(url, { email: bg.email });
    });

    await send({ type: 'connect' });

    expect(flowWhileOpen).toEqual({ status: 'connecting' });
  });

  it('adds new vehicles to the same user when a session exists', async () => {
    const first = await connected(bg);
    bg.authWindow.mockImplementation(({ url }) => inConnect(url, { email: bg.email, brand: 'FORD' }));

    await send({ type: 'connect' });

    expect(authorizations()).toEqual([`Bearer ${first.session.token}`, `Bearer ${first.session.token}`]);
    expect(await sessionItem.getValue()).toEqual(first.session);
    const vehicles = await vehiclesItem.getValue();
    expect(vehicles.slice(0, 2).map(({ id }) => id)).toEqual(first.vehicles.map(({ id }) => id));
    expect(vehicles.map(({ make }) => make)).toEqual(['TESLA', 'TESLA', 'FORD', 'FORD', 'FORD']);
    expect((await serverVehicles(bg.api, first.session)).map(({ id }) => id).sort()).toEqual(
      vehicles.map(({ id }) => id).sort(),
    );
  });

  it('shows the user’s vehicles as the server answers them, without one disconnected elsewhere', async () => {
    const { session, car, other } = await connected(bg);
    // Disconnected from another browser signed in as the same user.
    expect((await bg.api.call('DELETE', `/api/vehicles/${car.id}`, { session: session.token })).status).toBe(
      204,
    );
    bg.authWindow.mockImplementation(({ url }) => inConnect(url, { email: bg.email, brand: 'FORD' }));

    await send({ type: 'connect' });

    const vehicles = await vehiclesItem.getValue();
    expect(vehicles.map(({ id }) => id)).not.toContain(car.id);
    expect(vehicles.map(({ id }) => id)).toEqual((await serverVehicles(bg.api, session)).map(({ id }) => id));
    expect(vehicles.map(({ id }) => id)).toContain(other.id);
  });

  it('starts over as a new user when the server no longer knows the stored session', async () => {
    const first = await connected(bg);
    // Signed out from elsewhere: the server deletes the session.
    expect((await bg.api.call('DELETE', '/api/session', { session: first.session.token })).status).toBe(204);
    bg.authWindow.mockImplementation(({ url }) => inConnect(url, { email: bg.email, brand: 'FORD' }));

    await send({ type: 'connect' });

    expect(sentPaths(bg)).toEqual(['POST /api/connect', 'POST /api/connect', 'POST /api/exchange']);
    expect(authorizations()).toEqual([`Bearer ${first.session.token}`, null, null]);
    const session = await sessionItem.getValue();
    expect(session?.token).toMatch(SESSION_TOKEN);
    expect(session?.token).not.toBe(first.session.token);
    expect((await vehiclesItem.getValue()).map(({ make }) => make)).toEqual(['FORD', 'FORD', 'FORD']);
  });

  it('runs a single auth window when connect is asked for twice', async () => {
    await Promise.all([send({ type: 'connect' }), send({ type: 'connect' })]);

    expect(bg.authWindow).toHaveBeenCalledTimes(1);
    expect(sentPaths(bg)).toEqual(['POST /api/connect', 'POST /api/exchange']);
    expect((await vehiclesItem.getValue()).map(({ model }) => model).sort()).toEqual(['Model 3', 'Model Y']);
  });

  it.each([
    [
      'access_denied',
      'the person denies access',
      (url: string) => inConnect(url, { email: bg.email, decision: 'deny' }),
    ],
    [
      'connect_error',
      'the account has no vehicles',
      (url: string) => inConnect(url, { email: 'smartcar@no-vehicles.com' }),
    ],
    [
      'state_mismatch',
      'the redirect belongs to another Connect flow',
      async () => (await bg.api.authorize({ choices: { email: bg.email } })).redirect.toString(),
    ],
  ])('stores %s when %s, and never exchanges', async (code, _when, window) => {
    bg.authWindow.mockImplementation(({ url }) => window(url));

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ status: 'error', failure: { code } });
    expect(sentPaths(bg)).toEqual(['POST /api/connect']);
    expect(await sessionItem.getValue()).toBeNull();
  });

  it('keeps the incompatible vehicle Connect names', async () => {
    bg.authWindow.mockImplementation(({ url }) =>
      inConnect(url, { email: 'smartcar@vehicle-incompatible.com' }),
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
    // The browser's own answers: no server is involved past the Connect URL.
    bg.authWindow.mockRejectedValue(new Error(message));

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ status: 'error', failure: { code } });
  });

  it('reads a Firefox rejection that is a plain object with a message', async () => {
    bg.authWindow.mockRejectedValue({ message: 'User cancelled or denied access.' });

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ failure: { code: 'cancelled' } });
  });

  it('asks Connect for the preferred make, one vehicle and the chosen units', async () => {
    await connectOptionsItem.setValue({ make: 'FORD', singleVehicle: true });
    await unitsItem.setValue('imperial');

    await send({ type: 'connect' });

    expect(bg.sent.map(({ body }) => body)).toEqual([
      { redirectUri: REDIRECT_URI, make: 'FORD', singleVehicle: true },
      {
        code: expect.any(String) as string,
        state: expect.any(String) as string,
        units: 'imperial',
        // Connect's user_id, passed on for the server to check against what Smartcar proves.
        smartcarUserId: expect.any(String) as string,
      },
    ]);
    const connectUrl = openedUrl();
    expect(connectUrl.searchParams.get('make')).toBe('FORD');
    expect(connectUrl.searchParams.get('single_select')).toBe('true');
    const vehicles = await vehiclesItem.getValue();
    expect(vehicles.map(({ make, units }) => `${make} ${units}`)).toEqual(['FORD imperial']);
  });

  it('reconnects with the vehicle’s make in Smartcar’s spelling, over the preferred one', async () => {
    await connectOptionsItem.setValue({ make: 'FORD', singleVehicle: false });

    await send({ type: 'connect', make: 'Mercedes-Benz' });

    expect(bg.sent[0]?.body).toEqual({ redirectUri: REDIRECT_URI, make: 'MERCEDES_BENZ' });
    expect(openedUrl().searchParams.get('make')).toBe('MERCEDES_BENZ');
  });

  it('passes on the error code and words the server answers with', async () => {
    // A code Smartcar never issued (or one already spent): the server cannot redeem it.
    bg.authWindow.mockImplementation(async ({ url }) => {
      const redirect = new URL(await inConnect(url, { email: bg.email }));
      redirect.searchParams.set('code', 'stale');
      return redirect.toString();
    });

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toEqual({
      status: 'error',
      failure: {
        code: 'invalid_code',
        detail: 'This sign-in has expired or was already used. Connect again.',
      },
    });
  });

  it('tells a refused extension origin by the server’s own code', async () => {
    bg.sendAs(`chrome-extension://${'b'.repeat(32)}`);

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toMatchObject({ failure: { code: 'extension_not_allowed' } });
    expect(bg.authWindow).not.toHaveBeenCalled();
  });

  it('reports an unreachable server without opening the auth window', async () => {
    await bg.stack.stopServer();
    try {
      await send({ type: 'connect' });
    } finally {
      await bg.stack.startServer();
    }

    expect(await connectFlowItem.getValue()).toMatchObject({
      status: 'error',
      failure: { code: 'server_unreachable' },
    });
    expect(bg.authWindow).not.toHaveBeenCalled();
  });

  it('clears an earlier failure when a new flow succeeds', async () => {
    await connectFlowItem.setValue({ status: 'error', failure: { code: 'cancelled' } });

    await send({ type: 'connect' });

    expect(await connectFlowItem.getValue()).toEqual({ status: 'idle' });
  });
});

describe('when something other than the server answers', () => {
  // Our server names every error it answers, with retryAt beside retry-after; only a proxy in front
  // of it answers a bare status, so a plain HTTP server stands in for that proxy here.
  async function behindProxy(status: number, body: unknown, headers?: Record<string, string>) {
    const proxy = await startStandInServer();
    proxy.route('POST /api/connect', () => ({ status, body, ...(headers ? { headers } : {}) }));
    await serverUrlItem.setValue(proxy.url);
    try {
      await send({ type: 'connect' });
    } finally {
      await proxy.close();
    }
    return connectFlowItem.getValue();
  }

  it('takes a bare 403 for a refused extension origin', async () => {
    expect(await behindProxy(403, 'Forbidden')).toMatchObject({ failure: { code: 'extension_not_allowed' } });
  });

  it('makes do with the status of an HTML 502', async () => {
    expect(await behindProxy(502, '<html><body>Bad Gateway</body></html>')).toEqual({
      status: 'error',
      failure: { code: 'internal', detail: 'HTTP 502' },
    });
  });

  it('turns a retry-after without retryAt into a time to try again', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.parse('2026-01-15T14:00:00.000Z') });
    try {
      expect(await behindProxy(429, 'Slow down', { 'retry-after': '42' })).toEqual({
        status: 'error',
        failure: { code: 'rate_limited', retryAt: '2026-01-15T14:00:42.000Z' },
      });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a session belongs to its server', () => {
  it('is never sent to another server the options page switched to', async () => {
    // A session the old server issued; that server is gone, so its sign-out could not happen.
    const old = await bg.api.connectVehicles({ choices: { email: bg.email } });
    await sessionItem.setValue({ server: GONE_SERVER, token: old.session });
    await vehiclesItem.setValue(old.vehicles);

    await send({ type: 'sync' });
    await send({ type: 'setLock', vehicleId: carAndOther(old.vehicles).car.id, action: 'LOCK' });
    await send({ type: 'connect' });

    expect(sentPaths(bg)).toEqual(['POST /api/connect', 'POST /api/exchange']);
    expect(authorizations()).toEqual([null, null]);
    const session = await sessionItem.getValue();
    expect(session).toEqual({
      server: bg.stack.serverUrl,
      token: expect.stringMatching(SESSION_TOKEN) as string,
    });
    expect(session?.token).not.toBe(old.session);
  });

  it('signs out at the server that issued it', async () => {
    const { session } = await connected(bg);
    await serverUrlItem.setValue(GONE_SERVER);

    await send({ type: 'signOut' });

    expect(bg.sent).toMatchObject([{ path: '/api/session', authorization: `Bearer ${session.token}` }]);
    expect(await sessionItem.getValue()).toBeNull();
    expect((await bg.api.call('GET', '/api/vehicles', { session: session.token })).status).toBe(401);
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
});
