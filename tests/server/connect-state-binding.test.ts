// Connect's `state` on PostgreSQL: single-use, ten minutes long, and it gives back exactly the
// redirect URI and user it was made for.
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { STATE_LIFETIME_MS, consumeConnectState, createConnectState } from '../../server/connect-states';
import { openDatabase, type DatabaseHandle } from '../../server/db';
import { createTestDatabase } from '../support/postgres';

const REDIRECT_URI = 'https://abcdefghijklmnopabcdefghijklmnop.chromiumapp.org/';

describe('connect states', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let handle: DatabaseHandle;
  let client: pg.Client;

  beforeAll(async () => {
    database = await createTestDatabase();
    handle = await openDatabase({ databaseUrl: database.url, embeddedDir: 'unused' });
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  afterAll(async () => {
    await client.end();
    await handle.close();
    await database.drop();
  });

  const storedStates = async () =>
    (await client.query<{ count: string }>('SELECT count(*) FROM connect_states')).rows[0]?.count;

  it('lasts ten minutes', () => {
    expect(STATE_LIFETIME_MS).toBe(10 * 60 * 1000);
  });

  it('gives back the redirect URI and the user it was made for, once', async () => {
    const { rows } = await client.query<{ id: string }>('INSERT INTO users DEFAULT VALUES RETURNING id');
    const userId = rows[0]?.id ?? '';
    const state = await createConnectState(handle.db, { redirectUri: REDIRECT_URI, userId });
    expect(await consumeConnectState(handle.db, state)).toEqual({ redirectUri: REDIRECT_URI, userId });
    expect(await consumeConnectState(handle.db, state)).toBeUndefined();
  });

  it('made without a session, gives back no user', async () => {
    const state = await createConnectState(handle.db, { redirectUri: REDIRECT_URI, userId: null });
    expect(await consumeConnectState(handle.db, state)).toEqual({ redirectUri: REDIRECT_URI, userId: null });
  });

  it('is a fresh opaque value each time, stored only as a hash', async () => {
    const first = await createConnectState(handle.db, { redirectUri: REDIRECT_URI, userId: null });
    const second = await createConnectState(handle.db, { redirectUri: REDIRECT_URI, userId: null });
    expect(first).not.toBe(second);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await client.query<{ state_hash: string }>('SELECT state_hash FROM connect_states');
    expect(rows.map((row) => row.state_hash)).not.toContain(first);
  });

  it('works until the last millisecond of its ten minutes, and not after', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const onTime = await createConnectState(handle.db, { redirectUri: REDIRECT_URI, userId: null });
    const late = await createConnectState(handle.db, { redirectUri: REDIRECT_URI, userId: null });
    vi.setSystemTime(start + STATE_LIFETIME_MS - 1);
    expect(await consumeConnectState(handle.db, onTime)).toBeDefined();
    vi.setSystemTime(start + STATE_LIFETIME_MS);
    expect(await consumeConnectState(handle.db, late)).toBeUndefined();
  });

  it('refuses a state it never made', async () => {
    expect(await consumeConnectState(handle.db, 'never-made')).toBeUndefined();
  });

  it('clears expired states when it makes a new one', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    await createConnectState(handle.db, { redirectUri: REDIRECT_URI, userId: null });
    vi.setSystemTime(Date.now() + STATE_LIFETIME_MS + 1);
    const fresh = await createConnectState(handle.db, { redirectUri: REDIRECT_URI, userId: null });
    expect(await storedStates()).toBe('1');
    expect(await consumeConnectState(handle.db, fresh)).toBeDefined();
  });
});
