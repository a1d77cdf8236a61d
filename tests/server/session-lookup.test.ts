// How the server finds the caller's session from the Authorization header, over real HTTP on
// PostgreSQL. Sessions are put straight into the database, so the test picks their tokens.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../protocol/server-api';
import { hashToken } from '../../server/tokens';
import { REDIRECT_URI, apiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';

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

  /** Stores a session for `token` the way the server does: only its hash. */
  async function storeSession(token: string): Promise<void> {
    const { rows } = await client.query<{ id: string }>('INSERT INTO users DEFAULT VALUES RETURNING id');
    await client.query('INSERT INTO sessions (token_hash, user_id) VALUES ($1, $2)', [
      hashToken(token),
      rows[0]?.id,
    ]);
  }

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

  it('forgets a signed-out session at once, though it was just looked up', async () => {
    const token = 'signs-out-now';
    await storeSession(token);
    expect((await vehicles(`Bearer ${token}`)).status).toBe(200);
    const signOut = await apiClient(stack.serverUrl).call('DELETE', '/api/session', { session: token });
    expect(signOut.status).toBe(204);
    expect((await vehicles(`Bearer ${token}`)).status).toBe(401);
  });
});
