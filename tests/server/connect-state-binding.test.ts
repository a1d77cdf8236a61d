// Connect's `state` on PostgreSQL: single-use, ten minutes long, usable only by the user and the
// extension origin it was made for, and it gives back exactly the redirect URI it was made for.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  STATE_LIFETIME_MS,
  consumeConnectState,
  createConnectState,
} from '../../server/accounts/connect-states';
import { openDatabase, type DatabaseHandle } from '../../server/db';
import { createTestDatabase } from '../support/postgres';

const REDIRECT_URI = 'https://abcdefghijklmnopabcdefghijklmnop.chromiumapp.org/';
const ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';
const OTHER_ORIGIN = 'moz-extension://5f2a6a3e-9a43-4b8b-8f4e-2b1d1c1a7e11';
const ANONYMOUS = { userId: null, origin: ORIGIN };
const anonymousState = { redirectUri: REDIRECT_URI, ...ANONYMOUS };

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

  afterAll(async () => {
    await client.end();
    await handle.close();
    await database.drop();
  });

  /** Made and used at `at` (now by default): the server passes its clock's time. */
  const create = (binding: Parameters<typeof createConnectState>[1], at = new Date()) =>
    createConnectState(handle.db, binding, at);
  const consume = (state: string, caller: Parameters<typeof consumeConnectState>[2], at = new Date()) =>
    consumeConnectState(handle.db, state, caller, at);

  const storedStates = async () =>
    (await client.query<{ count: string }>('SELECT count(*) FROM connect_states')).rows[0]?.count;

  const newUser = async () => {
    const { rows } = await client.query<{ id: string }>('INSERT INTO users DEFAULT VALUES RETURNING id');
    return rows[0]?.id ?? '';
  };

  it('answers 401, not a database error, for a user who signed out meanwhile (on another process)', async () => {
    const userId = await newUser();
    await client.query('DELETE FROM users WHERE id = $1', [userId]);
    await expect(create({ redirectUri: REDIRECT_URI, userId, origin: ORIGIN })).rejects.toMatchObject({
      statusCode: 401,
      code: 'unauthorized',
    });
  });

  it('passes any other database failure on as it is, not as a sign-out', async () => {
    // A row the table refuses for another reason than its user: no redirect URI.
    const refused = { ...anonymousState, redirectUri: null as unknown as string };
    const failure = await create(refused).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(failure).not.toMatchObject({ code: 'unauthorized' });
  });

  it('gives back the redirect URI it was made for to its user, once', async () => {
    const userId = await newUser();
    const state = await create({ redirectUri: REDIRECT_URI, userId, origin: ORIGIN });
    expect(await consume(state, { userId, origin: ORIGIN })).toEqual({
      redirectUri: REDIRECT_URI,
    });
    expect(await consume(state, { userId, origin: ORIGIN })).toBeUndefined();
  });

  it('made for a user, is refused to another user and to no user, and stays usable by its own', async () => {
    const userId = await newUser();
    const otherUserId = await newUser();
    const state = await create({ redirectUri: REDIRECT_URI, userId, origin: ORIGIN });
    expect(await consume(state, { userId: otherUserId, origin: ORIGIN })).toBeUndefined();
    expect(await consume(state, ANONYMOUS)).toBeUndefined();
    expect(await consume(state, { userId, origin: ORIGIN })).toBeDefined();
  });

  it('made without a session, is refused to a signed-in user and stays usable without one', async () => {
    const userId = await newUser();
    const state = await create(anonymousState);
    expect(await consume(state, { userId, origin: ORIGIN })).toBeUndefined();
    expect(await consume(state, ANONYMOUS)).toEqual({ redirectUri: REDIRECT_URI });
  });

  it('made for one extension origin, is refused to another origin and to none, and stays usable by its own', async () => {
    const state = await create(anonymousState);
    expect(await consume(state, { userId: null, origin: OTHER_ORIGIN })).toBeUndefined();
    expect(await consume(state, { userId: null, origin: null })).toBeUndefined();
    expect(await consume(state, ANONYMOUS)).toBeDefined();
  });

  it('made without an origin, is refused to an extension origin', async () => {
    const state = await create({
      redirectUri: REDIRECT_URI,
      userId: null,
      origin: null,
    });
    expect(await consume(state, ANONYMOUS)).toBeUndefined();
    expect(await consume(state, { userId: null, origin: null })).toBeDefined();
  });

  it('is a fresh opaque value each time, stored only as a hash', async () => {
    const first = await create(anonymousState);
    const second = await create(anonymousState);
    expect(first).not.toBe(second);
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await client.query<{ state_hash: string }>('SELECT state_hash FROM connect_states');
    expect(rows.map((row) => row.state_hash)).not.toContain(first);
  });

  it('works until the last millisecond of its ten minutes, and not after', async () => {
    // Ten minutes written out, not the server's constant: a changed lifetime turns this red.
    const tenMinutes = 10 * 60 * 1000;
    const start = Date.now();
    const onTime = await create(anonymousState, new Date(start));
    const late = await create(anonymousState, new Date(start));
    expect(await consume(onTime, ANONYMOUS, new Date(start + tenMinutes - 1))).toBeDefined();
    expect(await consume(late, ANONYMOUS, new Date(start + tenMinutes))).toBeUndefined();
  });

  it('refuses a state it never made', async () => {
    expect(await consume('never-made', ANONYMOUS)).toBeUndefined();
  });

  it('clears expired states when it makes a new one', async () => {
    const start = Date.now();
    await create(anonymousState, new Date(start));
    const later = new Date(start + STATE_LIFETIME_MS + 1);
    const fresh = await create(anonymousState, later);
    expect(await storedStates()).toBe('1');
    expect(await consume(fresh, ANONYMOUS, later)).toBeDefined();
  });
});
