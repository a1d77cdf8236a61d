// How the server finds the caller's session from the Authorization header, over real HTTP on
// PostgreSQL. Sessions are put straight into the database, so the test picks their tokens.
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../protocol/server-api';
import { Sessions } from '../../server/accounts/sessions';
import { systemClock } from '../../server/lib/clock';
import { hashToken } from '../../server/accounts/opaque-tokens';
import { REDIRECT_URI, apiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/** A stored session, sent in malformed headers. */
const STORED = 'stored-session-token';

describe('session lookup', () => {
  let stack: Stack;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    stack = await startStack({ env: { DATABASE_URL: database.url } });
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    await storeSession(STORED);
  });

  afterAll(async () => {
    await client.end();
    await stack.close();
    await database.drop();
  });

  /** Stores a session for `token` the way the server does: only its hash. Answers its user's id. */
  async function storeSession(
    token: string,
    { createdAgoMs = 0, usedAgoMs = 0 }: { createdAgoMs?: number; usedAgoMs?: number } = {},
  ): Promise<string> {
    const { rows } = await client.query<{ id: string }>('INSERT INTO users DEFAULT VALUES RETURNING id');
    const userId = rows[0]?.id ?? '';
    const now = Date.now();
    await client.query(
      'INSERT INTO sessions (token_hash, user_id, created_at, last_used_at) VALUES ($1, $2, $3, $4)',
      [hashToken(token), userId, new Date(now - createdAgoMs), new Date(now - usedAgoMs)],
    );
    return userId;
  }

  const lastUsed = async (token: string) => {
    const { rows } = await client.query<{ last_used_at: Date }>(
      'SELECT last_used_at FROM sessions WHERE token_hash = $1',
      [hashToken(token)],
    );
    return rows[0]?.last_used_at.getTime();
  };

  const vehicles = (authorization?: string) =>
    apiClient(stack.serverUrl).call<ErrorBody>('GET', '/api/vehicles', {
      headers: authorization === undefined ? {} : { authorization },
    });

  it.each([
    ['one character', 'a'],
    ['128 characters', 'x'.repeat(128)],
    ['every kind of base64url character', 'AZaz09_-'],
    ['a token as the server makes them', 'q3F0b2tlbi1mb3ItdGhlLXRlc3Qtb25seS0xMjM0NTY'],
  ])('accepts a stored session token of %s', async (_name, token) => {
    await storeSession(token);
    const answer = await vehicles(`Bearer ${token}`);
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({ vehicles: [] });
  });

  it.each([
    ['129 characters', 'y'.repeat(129)],
    ['a dot', 'abc.def'],
    ['a plus', 'abc+def'],
    ['a slash', 'abc/def'],
    ['a space inside', 'abc def'],
  ])('refuses a token of %s with a 401, even when it is stored', async (_name, token) => {
    await storeSession(token);
    const answer = await vehicles(`Bearer ${token}`);
    expect(answer.status).toBe(401);
    expect(answer.json.error.code).toBe('unauthorized');
  });

  it.each([
    ['text before "Bearer"', (token: string) => `xBearer ${token}`],
    ['text after the token', (token: string) => `Bearer ${token} x`],
    ['two spaces', (token: string) => `Bearer  ${token}`],
    ['another scheme', (token: string) => `Basic ${token}`],
    ['no token', () => 'Bearer '],
  ])('refuses a stored session sent with %s', async (_name, header) => {
    const answer = await vehicles(header(STORED));
    expect(answer.status).toBe(401);
    expect(answer.json.error.code).toBe('unauthorized');
  });

  it('refuses a well-formed token that no session has', async () => {
    const answer = await vehicles('Bearer never-stored');
    expect(answer.status).toBe(401);
    expect(answer.json.error.code).toBe('unauthorized');
  });

  it('refuses a request that needs a session and sends none', async () => {
    const answer = await vehicles();
    expect(answer.status).toBe(401);
    expect(answer.json.error.code).toBe('unauthorized');
  });

  it('starts a Connect without a session, for a new user', async () => {
    const answer = await apiClient(stack.serverUrl).call('POST', '/api/connect', {
      body: { redirectUri: REDIRECT_URI },
    });
    expect(answer.status).toBe(200);
  });

  it('stores the session a first connection makes only as its hash, and finds it by that', async () => {
    const { session } = await apiClient(stack.serverUrl).connectVehicles();
    const { rows } = await client.query<{ token_hash: string }>(
      'SELECT token_hash FROM sessions WHERE token_hash = $1',
      [hashToken(session)],
    );
    expect(rows).toHaveLength(1);
    const clear = await client.query('SELECT 1 FROM sessions WHERE token_hash = $1', [session]);
    expect(clear.rows).toHaveLength(0);
    expect((await vehicles(`Bearer ${session}`)).status).toBe(200);
  });

  // The server's defaults: 30 days unused, 180 days in all, renewed at most hourly.
  it.each([
    ['unused for the idle lifetime', 401, { usedAgoMs: 30 * DAY_MS + MINUTE_MS, createdAgoMs: 40 * DAY_MS }],
    ['unused a day less than the idle lifetime', 200, { usedAgoMs: 29 * DAY_MS, createdAgoMs: 40 * DAY_MS }],
    ['older than the absolute lifetime, though used now', 401, { createdAgoMs: 180 * DAY_MS + MINUTE_MS }],
    ['a day younger than the absolute lifetime', 200, { createdAgoMs: 179 * DAY_MS }],
  ] as const)('answers a session %s with %i', async (name, status, ages) => {
    const token = `lifetime-${name.replace(/[^a-z]+/g, '-')}`;
    await storeSession(token, ages);
    const answer = await vehicles(`Bearer ${token}`);
    expect(answer.status).toBe(status);
    if (status === 401) expect(answer.json.error.code).toBe('session_expired');
  });

  it('renews a session used after an hour or more, and not one used minutes ago', async () => {
    await storeSession('used-two-hours-ago', { usedAgoMs: 2 * HOUR_MS });
    await storeSession('used-ten-minutes-ago', { usedAgoMs: 10 * MINUTE_MS });
    const before = Date.now();
    const unchanged = await lastUsed('used-ten-minutes-ago');
    await vehicles('Bearer used-two-hours-ago');
    await vehicles('Bearer used-ten-minutes-ago');
    expect(await lastUsed('used-two-hours-ago')).toBeGreaterThanOrEqual(before - 1_000);
    expect(await lastUsed('used-ten-minutes-ago')).toBe(unchanged);
  });

  it('deletes ended sessions, and then finds the users left without one (maintenance)', async () => {
    const sessions = new Sessions(drizzle(client), { idleMs: 30 * DAY_MS, maxMs: 180 * DAY_MS }, systemClock);
    const idle = await storeSession('ended-idle', { usedAgoMs: 31 * DAY_MS, createdAgoMs: 31 * DAY_MS });
    const old = await storeSession('ended-old', { createdAgoMs: 181 * DAY_MS });
    const live = await storeSession('still-live', { usedAgoMs: 29 * DAY_MS, createdAgoMs: 179 * DAY_MS });
    await sessions.deleteEnded();
    expect(await lastUsed('ended-idle')).toBeUndefined();
    expect(await lastUsed('ended-old')).toBeUndefined();
    expect(await lastUsed('still-live')).toBeDefined();
    const ended = await sessions.usersWithoutSession(1000);
    expect(ended).toEqual(expect.arrayContaining([idle, old]));
    expect(ended).not.toContain(live);
    expect(await sessions.usersWithoutSession(1)).toHaveLength(1);
  });

  it('forgets a signed-out session at once, though it was just looked up', async () => {
    const token = 'signs-out-now';
    await storeSession(token);
    expect((await vehicles(`Bearer ${token}`)).status).toBe(200);
    const signOut = await apiClient(stack.serverUrl).call('DELETE', '/api/session', { session: token });
    expect(signOut.status).toBe(204);
    expect((await vehicles(`Bearer ${token}`)).status).toBe(401);
  });
});
