// The server's own rate limits on the routes that start work upstream: per client address and
// route, and per session across routes and addresses, each in a window of a minute. On PostgreSQL,
// so the test reads the counters and ends a window without waiting for it. Behind one trusted
// proxy, so each request can come from an address of the test's choosing.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../protocol/server-api';
import { REDIRECT_URI, apiClient, type ApiAnswer } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';

const PER_MINUTE = 3;

describe('rate limits', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let client: pg.Client;
  /** A session the limits have not seen, set up from an address of its own. */
  let session: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    stack = await startStack({
      env: { DATABASE_URL: database.url, RATE_LIMIT_PER_MINUTE: String(PER_MINUTE), TRUST_PROXY: '1' },
    });
    api = apiClient(stack.serverUrl);
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    ({ session } = await api.connectVehicles());
  });
  beforeEach(async () => {
    await client.query('delete from rate_limits');
  });
  afterAll(async () => {
    await client.end();
    await stack.close();
    await database.drop();
  });

  /** Calls `path` as the client at `address` (through the trusted proxy), with `session` if given. */
  const from = (
    address: string,
    method: string,
    path: string,
    options: { session?: string; body?: unknown } = {},
  ) => api.call<ErrorBody>(method, path, { ...options, headers: { 'x-forwarded-for': address } });
  const connect = (address: string, options: { session?: string } = {}) =>
    from(address, 'POST', '/api/connect', { ...options, body: { redirectUri: REDIRECT_URI } });
  const exchange = (address: string) =>
    from(address, 'POST', '/api/exchange', { body: { code: 'c', state: 's' } });
  const refresh = (address: string, options: { session?: string } = {}) =>
    from(address, 'POST', '/api/vehicles/refresh', options);
  const statuses = async (calls: (() => Promise<ApiAnswer<ErrorBody>>)[]) => {
    const answers: number[] = [];
    for (const call of calls) answers.push((await call()).status);
    return answers;
  };
  const times = <T>(count: number, value: T): T[] => Array.from({ length: count }, () => value);

  it('answers 429 with retry-after once an address starts Connect too often', async () => {
    const answers: ApiAnswer<ErrorBody>[] = [];
    for (let i = 0; i < PER_MINUTE + 2; i++) answers.push(await connect('192.0.2.1'));
    expect(answers.map((answer) => answer.status)).toEqual([...times(PER_MINUTE, 200), 429, 429]);
    const last = answers.at(-1);
    expect(last?.json.error.code).toBe('rate_limited');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another address is not held up by this one.
    expect((await connect('192.0.2.2')).status).toBe(200);
  });

  it('counts each route on its own for an address', async () => {
    const address = '192.0.2.10';
    // Connect, exchange and refresh each get the whole allowance, then each is refused.
    const calls = [() => connect(address), () => exchange(address), () => refresh(address)];
    for (const call of calls) {
      const answers = await statuses(times(PER_MINUTE + 1, call));
      expect(answers.slice(0, PER_MINUTE)).not.toContain(429);
      expect(answers.at(-1)).toBe(429);
    }
  });

  it('limits a session across addresses and routes, with one shared count', async () => {
    // Each request from a new address, so no address comes near its own limit.
    const answers = await statuses([
      () => connect('198.51.100.1', { session }),
      () => refresh('198.51.100.2', { session }),
      () => connect('198.51.100.3', { session }),
      () => refresh('198.51.100.4', { session }),
      () => connect('198.51.100.5', { session }),
    ]);
    expect(answers).toEqual([200, 202, 200, 429, 429]);
    // The same addresses without the session are still let through.
    expect((await connect('198.51.100.4')).status).toBe(200);
  });

  it('starts a new window with a full allowance once the minute has passed', async () => {
    const address = '192.0.2.20';
    const sessionFromNewAddresses = (first: number) =>
      times(PER_MINUTE + 1, 0).map((_, i) => () => refresh(`198.51.100.${first + i}`, { session }));
    const limited = [...times(PER_MINUTE + 1, () => connect(address)), ...sessionFromNewAddresses(10)];
    const expected = [...times(PER_MINUTE, 200), 429, ...times(PER_MINUTE, 202), 429];
    expect(await statuses(limited)).toEqual(expected);
    // The minute passes: every window ends a moment ago.
    await client.query("update rate_limits set reset_at = now() - interval '1 second'");
    const again = [...times(PER_MINUTE + 1, () => connect(address)), ...sessionFromNewAddresses(20)];
    expect(await statuses(again)).toEqual(expected);
  });

  it('keys on the address the trusted proxy saw, not on an entry the client wrote before it', async () => {
    const real = '192.0.2.40';
    // The client sends its own X-Forwarded-For, a new made-up address each time; the one proxy
    // appends the address it saw. Only the last entry is the proxy's word.
    const forged = (i: number) => ({ 'x-forwarded-for': `203.0.113.${i + 1}, ${real}` });
    const answers: number[] = [];
    for (let i = 0; i < PER_MINUTE + 1; i++) {
      const answer = await api.call('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI },
        headers: forged(i),
      });
      answers.push(answer.status);
    }
    expect(answers).toEqual([...times(PER_MINUTE, 200), 429]);
    const { rows } = await client.query<{ key: string }>('select key from rate_limits');
    expect(rows.map((row) => row.key)).toEqual([`/api/connect address ${real}`]);
  });

  it('adds no counter per Authorization header once the address is over its limit', async () => {
    const address = '192.0.2.30';
    for (let i = 0; i < PER_MINUTE; i++) expect((await connect(address)).status).toBe(200);
    for (let i = 0; i < 20; i++) {
      const answer = await api.call('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI },
        headers: { 'x-forwarded-for': address, authorization: `Bearer made-up-${i}` },
      });
      expect(answer.status).toBe(429);
    }
    const { rows } = await client.query<{ key: string }>('select key from rate_limits');
    expect(rows.map((row) => row.key)).toEqual([`/api/connect address ${address}`]);
  });
});
