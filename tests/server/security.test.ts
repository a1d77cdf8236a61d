// Hardening of the HTTP surface: input the database cannot store, error answers in one format,
// session lifetimes, command limits, Connect state binding and sign-out across servers.
import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ErrorBody, VehiclesResponse } from '../../protocol/server-api';
import { REDIRECT_URI, apiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';

const DAY_MS = 24 * 60 * 60 * 1000;

describe.each(['embedded', 'postgresql'] as const)('the API on the %s database', (database) => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    const env: Record<string, string> = {
      SESSION_IDLE_DAYS: '30',
      SESSION_MAX_DAYS: '180',
      // No maintenance: the session tests move the clock months ahead, and a sweep running then
      // (the first comes a second after start) would delete the session they are about to use.
      MAINTENANCE_INTERVAL_SECONDS: '0',
    };
    stack = await startStack({ database, env });
    api = apiClient(stack.serverUrl);
  });
  afterEach(() => {
    stack.clock.release();
  });
  afterAll(async () => {
    await stack.close();
  });

  it.each([
    ['DELETE', '/api/vehicles/%00'],
    ['POST', '/api/vehicles/a%00b/security'],
    ['POST', '/api/vehicles/a%1Fb/security'],
  ])('answers %s %s with a 400', async (method, path) => {
    const { session } = await api.connectVehicles();
    const answer = await api.call<ErrorBody>(method, path, {
      session,
      ...(method === 'POST' ? { body: { action: 'LOCK' } } : {}),
    });
    expect(answer.status).toBe(400);
    expect(answer.json.error.code).toBe('bad_request');
  });

  it('answers a refused extension origin with 403 extension_not_allowed', async () => {
    const answer = await api.call<ErrorBody>('GET', '/api/vehicles', {
      headers: { origin: 'https://evil.example' },
    });
    expect(answer.status).toBe(403);
    expect(answer.json.error.code).toBe('extension_not_allowed');
  });

  it('ends a session unused for the idle lifetime, and deletes it', async () => {
    const { session } = await api.connectVehicles();
    stack.clock.hold(Date.now() + 31 * DAY_MS);
    const expired = await api.call<ErrorBody>('GET', '/api/vehicles', { session });
    expect([expired.status, expired.json.error.code]).toEqual([401, 'session_expired']);
    const gone = await api.call<ErrorBody>('GET', '/api/vehicles', { session });
    expect([gone.status, gone.json.error.code]).toEqual([401, 'unauthorized']);
  });

  it('renews a session in use, up to its absolute lifetime', async () => {
    const { session } = await api.connectVehicles();
    const start = Date.now();
    for (const day of [20, 40, 60, 80, 100, 120, 140, 160, 179]) {
      stack.clock.hold(start + day * DAY_MS);
      expect((await api.call('GET', '/api/vehicles', { session })).status).toBe(200);
    }
    stack.clock.hold(start + 181 * DAY_MS);
    const expired = await api.call<ErrorBody>('GET', '/api/vehicles', { session });
    expect([expired.status, expired.json.error.code]).toEqual([401, 'session_expired']);
  });

  it('limits lock and unlock per vehicle, with retry-after, and leaves the next vehicle its own limit', async () => {
    const { session, vehicles } = await api.connectVehicles({ choices: { brand: 'TESLA' } });
    const [first, second] = vehicles;
    if (!first || !second) throw new Error('two vehicles expected');
    stack.emulator.resetCalls();
    const command = (id: string, action: string) =>
      api.call<ErrorBody>('POST', `/api/vehicles/${id}/security`, { session, body: { action } });
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof command>> | undefined;
    for (const action of ['LOCK', 'UNLOCK', 'LOCK', 'UNLOCK', 'LOCK']) {
      last = await command(first.id, action);
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last?.json.error.code).toBe('rate_limited');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    // The same session's other car has a whole allowance of its own, and then is limited too: one
    // car's limit neither blocks the others nor lets a script command many cars past it.
    const others: number[] = [];
    for (const action of ['UNLOCK', 'LOCK', 'UNLOCK', 'LOCK'])
      others.push((await command(second.id, action)).status);
    expect(others).toEqual([200, 200, 200, 429]);
    const calls = stack.emulator.calls().byVehicle;
    const sent = (id: string) => (calls[id]?.lock ?? 0) + (calls[id]?.unlock ?? 0);
    expect([sent(first.id), sent(second.id)]).toEqual([3, 3]);
  });

  it('accepts a Connect state only from the extension origin that asked for it', async () => {
    const asker = 'moz-extension://0a1b2c3d-0000-4000-8000-000000000001';
    const other = 'moz-extension://0a1b2c3d-0000-4000-8000-000000000002';
    const started = await api.call<{ url: string; state: string }>('POST', '/api/connect', {
      body: { redirectUri: REDIRECT_URI },
      headers: { origin: asker },
    });
    const { completeConnect } = await import('../../emulator/connect-driver');
    const redirect = await completeConnect(started.json.url);
    const code = redirect.searchParams.get('code') ?? '';
    const state = redirect.searchParams.get('state') ?? '';
    const stolen = await api.call<ErrorBody>('POST', '/api/exchange', {
      body: { code, state },
      headers: { origin: other },
    });
    expect([stolen.status, stolen.json.error.code]).toEqual([400, 'invalid_state']);
    const own = await api.call('POST', '/api/exchange', {
      body: { code, state },
      headers: { origin: asker },
    });
    expect(own.status).toBe(200);
  });

  it.each([
    ['431, headers too large', { 'x-large': 'a'.repeat(20_000) }, '/healthz', 431],
    ['400, malformed URL', {}, '/api/vehicles/%E0%A4%A', 400],
    ['404, unknown endpoint', {}, '/nowhere', 404],
    // Node answers an over-long URL with 431, never 414; Fastify answers a wrong method with 404.
    ['431, URL too long', {}, `/api/vehicles/${'a'.repeat(20_000)}`, 431],
    ['404, wrong method on a known path', {}, '/api/session', 404],
  ] as const)('answers %s in the API error format', async (_case, headers, path, status) => {
    const answer = await rawRequest(stack.serverUrl, path, headers);
    expect(answer.status).toBe(status);
    const body = JSON.parse(answer.body) as ErrorBody;
    expect(typeof body.error.code).toBe('string');
    expect(typeof body.error.message).toBe('string');
  });
});

// Maintenance runs every second here, and the clock jumps a month: alone on its back end, so no
// other test's session ends with it.
describe('a user whose sessions all ended', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ env: { SESSION_IDLE_DAYS: '30', MAINTENANCE_INTERVAL_SECONDS: '1' } });
  });
  afterAll(async () => {
    stack.clock.release();
    await stack.close();
  });

  it('is signed out by maintenance: each vehicle revoked at Smartcar once, the session unknown', async () => {
    const api = apiClient(stack.serverUrl);
    const { session, vehicles } = await api.connectVehicles({ choices: { email: 'ended@example.com' } });
    stack.emulator.resetCalls();
    const revoked = (of: { id: string }[]) =>
      of.map((vehicle) => stack.emulator.calls().byVehicle[vehicle.id]?.disconnect ?? 0);
    const start = stack.clock.hold(Date.now() + 31 * DAY_MS);
    await vi.waitFor(() => {
      expect(revoked(vehicles)).toEqual(vehicles.map(() => 1));
    }, 10_000);
    const gone = await api.call<ErrorBody>('GET', '/api/vehicles', { session });
    expect([gone.status, gone.json.error.code]).toEqual([401, 'unauthorized']);
    // Later runs find nobody left to sign out. A later run is seen to finish first: it signs out
    // another user, whose sessions end only after the first user was signed out.
    const signOutRuns = () =>
      stack
        .logs()
        .split('\n')
        .filter((line) => line.includes('signed out users whose sessions ended'))
        .map((line) => (JSON.parse(line) as { users: number }).users);
    await vi.waitFor(() => {
      expect(signOutRuns()).toEqual([1]);
    }, 5_000);
    const later = await api.connectVehicles({ choices: { email: 'ended-later@example.com' } });
    stack.clock.hold(start + 31 * DAY_MS);
    await vi.waitFor(() => {
      expect(signOutRuns().length).toBe(2);
    }, 10_000);
    expect(revoked(later.vehicles)).toEqual(later.vehicles.map(() => 1));
    expect(revoked(vehicles)).toEqual(vehicles.map(() => 1));
    expect(signOutRuns()).toEqual([1, 1]);
  });
});

describe('two servers on one PostgreSQL', () => {
  let stacks: Stack[];
  let dropDatabase: () => Promise<void>;
  let databaseUrl: string;

  beforeAll(async () => {
    const db = await createTestDatabase();
    dropDatabase = db.drop;
    databaseUrl = db.url;
    stacks = [
      await startStack({ env: { DATABASE_URL: db.url, RATE_LIMIT_PER_MINUTE: '3' } }),
      await startStack({ env: { DATABASE_URL: db.url, RATE_LIMIT_PER_MINUTE: '3' } }),
    ];
  });
  afterAll(async () => {
    await Promise.all(stacks.map((stack) => stack.close()));
    await dropDatabase();
  });

  it('share one rate limit per address', async () => {
    const [first, second] = stacks.map((stack) => apiClient(stack.serverUrl));
    if (!first || !second) throw new Error('two servers expected');
    const statuses: number[] = [];
    for (const api of [first, second, first, second]) {
      statuses.push((await api.call('POST', '/api/connect', { body: { redirectUri: REDIRECT_URI } })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });

  it('see a sign-out at once, and answer 401 (not 5xx) to the signed-out session', async () => {
    const [first, second] = stacks.map((stack) => apiClient(stack.serverUrl));
    if (!first || !second) throw new Error('two servers expected');
    await forgetRateLimits(databaseUrl); // a new minute after the test above
    const { session } = await first.connectVehicles();
    expect((await second.call<VehiclesResponse>('GET', '/api/vehicles', { session })).status).toBe(200);
    expect((await first.call('DELETE', '/api/session', { session })).status).toBe(204);
    const list = await second.call<ErrorBody>('GET', '/api/vehicles', { session });
    const connect = await second.call<ErrorBody>('POST', '/api/connect', {
      session,
      body: { redirectUri: REDIRECT_URI },
    });
    expect([list.status, list.json.error.code]).toEqual([401, 'unauthorized']);
    expect([connect.status, connect.json.error.code]).toEqual([401, 'unauthorized']);
  });

  it('see a lock and a disconnect made on the other server at once, though each keeps answers a few seconds', async () => {
    const [first, second] = stacks.map((stack) => apiClient(stack.serverUrl));
    if (!first || !second) throw new Error('two servers expected');
    await forgetRateLimits(databaseUrl);
    const { session, vehicles } = await first.connectVehicles({ choices: { brand: 'TESLA' } });
    const [locked, disconnected] = vehicles;
    if (!locked || !disconnected) throw new Error('two vehicles expected');
    const list = async () => (await second.call<VehiclesResponse>('GET', '/api/vehicles', { session })).json;
    // The second server has built (and keeps) its answer before either change.
    const before = await list();
    expect(before.vehicles.find((v) => v.id === locked.id)?.data.security?.isLocked).toBe(true);

    expect(
      (
        await first.call('POST', `/api/vehicles/${locked.id}/security`, {
          session,
          body: { action: 'UNLOCK' },
        })
      ).status,
    ).toBe(200);
    expect((await list()).vehicles.find((v) => v.id === locked.id)?.data.security?.isLocked).toBe(false);

    expect((await first.call('DELETE', `/api/vehicles/${disconnected.id}`, { session })).status).toBe(204);
    expect((await list()).vehicles.map((v) => v.id)).not.toContain(disconnected.id);
  });
});

async function forgetRateLimits(url: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('delete from rate_limits');
  } finally {
    await client.end();
  }
}

/** A request as raw bytes, for what fetch refuses to send (oversized headers, broken escapes). */
async function rawRequest(serverUrl: string, path: string, headers: Record<string, string>) {
  const { hostname, port } = new URL(serverUrl);
  const socket = connect(Number(port), hostname);
  const lines = [`GET ${path} HTTP/1.1`, `host: ${hostname}`, 'connection: close'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n`);
  let text = '';
  for await (const chunk of socket) text += (chunk as Buffer).toString();
  const [head = '', body = ''] = text.split('\r\n\r\n');
  return { status: Number(head.split(' ')[1]), body };
}

describe('readiness', () => {
  it('answers /readyz with 503 once the database is gone', async () => {
    const db = await createTestDatabase();
    const stack = await startStack({ env: { DATABASE_URL: db.url } });
    try {
      expect((await apiClient(stack.serverUrl).call('GET', '/readyz')).status).toBe(200);
      await db.drop();
      const answer = await apiClient(stack.serverUrl).call<ErrorBody>('GET', '/readyz');
      expect([answer.status, answer.json.error.code]).toEqual([503, 'internal']);
    } finally {
      await stack.close().catch(() => undefined);
    }
  });
});
