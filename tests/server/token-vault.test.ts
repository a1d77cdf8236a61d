// Tokens stay fresh, secret and intact through expiry, revocation and upstream faults, on both
// databases. The emulator issues the tokens and counts every call that reaches it.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ErrorBody, VehiclesResponse } from '../../protocol/server-api';
import { hashToken } from '../../server/accounts/opaque-tokens';
import { apiClient, freshAccounts, tokenRefreshes, type ApiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';
import { expectEvery } from '../support/expect-every';

describe.each(['embedded', 'postgresql'] as const)('token vault on the %s database', (database) => {
  let stack: Stack;
  let api: ApiClient;
  let connect: ReturnType<typeof freshAccounts>;

  beforeAll(async () => {
    const env: Record<string, string> = {
      // Every read goes upstream, so every read needs a valid access token.
      VEHICLE_DATA_MAX_AGE_SECONDS: '0',
      // Short, for the timed-out refresh below; long enough that a loaded machine's own slowness
      // (100 requests at once) does not time out a refresh that Smartcar answered.
      SMARTCAR_TIMEOUT_MS: '2000',
      MAINTENANCE_INTERVAL_SECONDS: '1',
      // The renewal test jumps 55 days ahead: longer than a session may sit idle by default.
      SESSION_IDLE_DAYS: '90',
    };
    stack = await startStack({ database, env, tokenProxy: true });
    api = apiClient(stack.serverUrl);
    connect = freshAccounts(api, stack.emulator);
  });

  afterEach(() => {
    stack.emulator.clearFaults();
    stack.emulator.setTokenLifetimes({ accessTokenTtlSeconds: 7200 });
  });

  afterAll(async () => {
    await stack.close();
  });

  const refreshes = () => tokenRefreshes(stack.emulator);
  const vehiclesOf = (session: string) =>
    api.call<VehiclesResponse & ErrorBody>('GET', '/api/vehicles', { session });

  // What this shows is the outcome, one refresh, not how: the 100 requests join into one read per
  // vehicle before they reach the vault, and the database lease alone keeps those reads to one
  // refresh. With the vault's in-process join (SingleFlight) turned off it still passes (tried by
  // hand): that join saves lease attempts, which nothing outside the process shows.
  it('refreshes an expiring access token once for 100 concurrent refresh requests, across the lease', async () => {
    const { session } = await connect({ expiring: true });
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => api.call('POST', '/api/vehicles/refresh', { session })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 100 }, () => 202));
    const list = await api.settled(session);
    expect(refreshes()).toBe(1);
    expectEvery(list.vehicles, (v) => v.status === 'connected' && v.lastFailure === null);
  });

  it('reads with the stored token, without refreshing, while it is fresh', async () => {
    const { session } = await connect();
    await api.readNow(session);
    expect(refreshes()).toBe(0);
    expect(stack.emulator.calls().byEndpoint.batch).toBeGreaterThan(0);
  });

  it('refreshes and retries once when Smartcar rejects an access token early', async () => {
    const { session } = await connect();
    const [access] = activeTokens('access');
    expect(stack.emulator.revokeToken(access ?? '')).toBe(true);
    const list = await api.readNow(session);
    expectEvery(list.vehicles, (v) => v.status === 'connected' && v.lastFailure === null);
    expect(refreshes()).toBe(1);
  });

  it.each(['revoked', 'expired'] as const)(
    'marks a connection whose refresh token is %s as reconnect_required and loses nothing else',
    async (fate) => {
      const other = await connect();
      const { session, vehicles } = await connect({ expiring: true });
      const refreshToken = latestToken('refresh');
      if (fate === 'revoked') stack.emulator.revokeToken(refreshToken);
      else stack.emulator.expireToken(refreshToken);

      const list = await api.readNow(session);
      expect(list.vehicles.map((v) => [v.id, v.status])).toEqual(
        vehicles.map((v) => [v.id, 'reconnect_required']),
      );
      // The last data read is still there, and the other user's connection is untouched.
      expect(list.vehicles.map((v) => v.data)).toEqual(vehicles.map((v) => v.data));
      const untouched = await api.readNow(other.session);
      expectEvery(untouched.vehicles, (v) => v.status === 'connected');
      // Reconnecting with the same session brings the vehicles back.
      const again = await api.connectVehicles({ session, choices: { brand: 'TESLA' } });
      expect(again.vehicles.some((v) => v.status === 'connected')).toBe(true);
    },
  );

  it('retries a refresh that failed with a 500 and succeeds', async () => {
    const { session } = await connect({ expiring: true });
    stack.emulator.injectFault({
      endpoint: 'token.refresh_token',
      status: 500,
      type: 'SERVER',
      code: 'INTERNAL',
      times: 1,
    });
    const list = await api.readNow(session);
    expectEvery(list.vehicles, (v) => v.lastFailure === null);
    expect(refreshes()).toBe(2);
  });

  it('waits out a short retry-after on a refresh and succeeds', async () => {
    const { session } = await connect({ expiring: true });
    stack.emulator.injectFault({ endpoint: 'token.refresh_token', status: 429, retryAfter: 1, times: 1 });
    const list = await api.readNow(session);
    expectEvery(list.vehicles, (v) => v.lastFailure === null);
    expect(refreshes()).toBe(2);
  });

  it('retries a refresh that timed out, within the grace Smartcar gives the used refresh token', async () => {
    const { session } = await connect({ expiring: true });
    stack.emulator.injectFault({ endpoint: 'token.refresh_token', delayMs: 8_000, times: 1 });
    const list = await api.readNow(session);
    expectEvery(list.vehicles, (v) => v.status === 'connected' && v.lastFailure === null);
    expect(refreshes()).toBe(2);
  });

  it('keeps the tokens when Smartcar is down during a refresh, and refreshes once it is back', async () => {
    const { session, vehicles } = await connect({ expiring: true });
    stack.emulator.injectFault({
      endpoint: 'token.refresh_token',
      status: 500,
      type: 'SERVER',
      code: 'INTERNAL',
    });
    const during = await api.readNow(session);
    // The access token has not expired yet, so reads go on with it; nothing is lost.
    expect(during.vehicles.map((v) => [v.status, v.lastFailure])).toEqual(
      vehicles.map(() => ['connected', null]),
    );
    stack.emulator.clearFaults();
    try {
      stack.clock.hold(Date.now() + 10 * 60 * 1000); // past the back-off
      stack.emulator.resetCalls();
      await api.readNow(session);
      expect(refreshes()).toBe(1);
    } finally {
      stack.clock.release();
    }
  });

  // `invalid_request` "Invalid refresh_token: …" is also what another application's credentials get:
  // not proof the grant is gone, so the grant is kept and the operator told.
  it('keeps the grant when Smartcar says it does not know the refresh token', async () => {
    const { session, vehicles } = await connect({ expiring: true });
    stack.emulator.injectFault({ endpoint: 'token.refresh_token', status: 400, type: 'invalid_request' });
    const list = await api.readNow(session);
    expect(refreshes()).toBeGreaterThan(0);
    expect(list.vehicles.map((v) => v.status)).toEqual(vehicles.map(() => 'connected'));
    expect(stack.logs()).toContain('Smartcar does not know a stored refresh token');
  });

  it('does not retry a code exchange and says what happened', async () => {
    const { code, state } = await api.authorize({ choices: { email: 'exchange-fails@example.com' } });
    stack.emulator.injectFault({
      endpoint: 'token.authorization_code',
      status: 500,
      type: 'SERVER',
      code: 'INTERNAL',
    });
    const answer = await api.call<ErrorBody>('POST', '/api/exchange', { body: { code, state } });
    expect(answer.status).toBe(503);
    expect(answer.json.error.code).toBe('upstream_unavailable');
    expect(stack.emulator.calls().byEndpoint['token.authorization_code']).toBe(1);
  });

  it('renews refresh tokens nearing their 60 days in the background', async () => {
    const { session } = await connect();
    const refreshToken = latestToken('refresh');
    try {
      stack.clock.hold(Date.now() + 55 * 24 * 60 * 60 * 1000);
      await vi.waitFor(
        () => {
          expect(stack.emulator.calls().byToken[refreshToken]?.['token.refresh_token']).toBe(1);
        },
        // The sweep renews the earlier tests' connections too, one after another: on a loaded
        // machine (under mutation testing, beside browser tests) that took more than 5 s.
        { timeout: 30_000, interval: 100 },
      );
    } finally {
      stack.clock.release();
    }
    // Smartcar rotated the refresh token; the server keeps the new one.
    expect(latestToken('refresh')).not.toBe(refreshToken);
    expect((await vehiclesOf(session)).status).toBe(200);
  });

  it('never lets a token it was issued reach a response, a log line or the database in the clear', async () => {
    const { session } = await connect({ expiring: true });
    const texts = [JSON.stringify(await api.readNow(session))];
    texts.push(JSON.stringify(await api.connectVehicles({ session })));
    texts.push(stack.logs());
    texts.push(await databaseText());
    const tokens = stack.emulator.issuedTokens().map((issued) => issued.token);
    expect(tokens.length).toBeGreaterThan(4);
    for (const token of tokens) {
      for (const text of texts) expect(text).not.toContain(token);
    }
  });

  it('stores the session token only as its hash', async () => {
    const { session } = await connect();
    const stored = await databaseText();
    expect(stored).not.toContain(session);
    expect(stored).toContain(hashToken(session));
  });

  function activeTokens(kind: 'access' | 'refresh') {
    return stack.emulator
      .issuedTokens()
      .filter((issued) => issued.kind === kind && issued.status === 'active')
      .map((issued) => issued.token)
      .reverse();
  }

  function latestToken(kind: 'access' | 'refresh'): string {
    const [token] = activeTokens(kind);
    if (!token) throw new Error(`no active ${kind} token`);
    return token;
  }

  /** Everything the database holds, as text: its files for PGlite, its rows for PostgreSQL. */
  async function databaseText(): Promise<string> {
    const { databaseUrl } = stack;
    if (!databaseUrl) {
      const files = await readdir(stack.dataDir, { recursive: true, withFileTypes: true });
      const contents = await Promise.all(
        files
          .filter((file) => file.isFile())
          .map((file) => readFile(path.join(file.parentPath, file.name), 'latin1')),
      );
      return contents.join('\n');
    }
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const tables = await client.query<{ tablename: string }>(
        "select tablename from pg_tables where schemaname = 'public'",
      );
      // One query at a time: a pg client runs them in turn anyway, and pg 9 refuses overlapping ones.
      const dumps: string[] = [];
      for (const { tablename } of tables.rows) {
        const rows = await client.query<{ row: string }>(
          `select row_to_json(t)::text as row from "${tablename}" t`,
        );
        dumps.push(rows.rows.map((row) => row.row).join('\n'));
      }
      // JSON writes bytea as `\\x` and hex digits: turn them back into the bytes they are.
      return dumps
        .join('\n')
        .replace(/\\\\x([0-9a-f]*)/g, (_match, hex: string) => Buffer.from(hex, 'hex').toString('latin1'));
    } finally {
      await client.end();
    }
  }
});
