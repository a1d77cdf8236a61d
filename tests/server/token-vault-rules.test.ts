// The token vault's refresh rules, one at a time, in this process: the vault on an in-memory
// database, the official SDK against the emulator on a real socket, and the rows read back to see
// exactly what each rule wrote. Two vaults on one database stand for two server processes.
// Where a rule is about time (back-off, grace), the clock is held still so the values are exact.
import { randomBytes, randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { eq } from 'drizzle-orm';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator';
import { completeConnect } from '../../emulator/connect-driver';
import { DEV_EXTENSION_ID, chromeRedirectUrl } from '../../protocol/extension-identity';
import { loadConfig } from '../../server/config';
import { openDatabase, type DatabaseHandle } from '../../server/db';
import { connections, users } from '../../server/db/schema';
import { AccessTokenRejected, SmartcarGateway, type TokenSet } from '../../server/smartcar/gateway';
import { TokenCipher } from '../../server/vault/cipher';
import { TokenVault } from '../../server/vault/token-vault';
import { tokenRefreshes } from '../support/api-client';
import { apiErrorOf } from '../support/api-error-of';
import { NO_LIMITS, TEST_CLIENT } from '../support/stack';
import { TestClock } from '../support/test-clock';

const REDIRECT_URI = chromeRedirectUrl(DEV_EXTENSION_ID);
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const DAY = 24 * 60 * MINUTE;
/** The SDK's timeout for a token call; a lease lasts this plus five seconds. */
const TOKEN_CALL_TIMEOUT_MS = 5_000;
/** How long a wait for the vault's next step may take: the default second is short beside other work. */
const LOADED_MACHINE = { timeout: 10_000 };

type Row = typeof connections.$inferSelect;

let emulator: Emulator;
let database: DatabaseHandle;
let gateway: SmartcarGateway;
let logText = '';
const log = pino(
  { level: 'debug' },
  new PassThrough().on('data', (chunk: Buffer) => (logText += chunk.toString())),
);
const key = randomBytes(32);
const cipher = new TokenCipher(key);
let vault: TokenVault;
let accounts = 0;
/** Every vault's clock here, and the emulator's: the real time until a rule holds it. */
const clock = new TestClock();

beforeAll(async () => {
  emulator = await startEmulator({
    control: true,
    clients: [TEST_CLIENT],
    limits: NO_LIMITS,
    now: () => clock.now().getTime(),
  });
  const config = loadConfig({
    SMARTCAR_CLIENT_ID: TEST_CLIENT.clientId,
    SMARTCAR_CLIENT_SECRET: TEST_CLIENT.clientSecret,
    SMARTCAR_ORIGIN: emulator.origin,
    SMARTCAR_TIMEOUT_MS: String(TOKEN_CALL_TIMEOUT_MS),
  });
  gateway = new SmartcarGateway(config.smartcar, log, clock);
  database = await openDatabase({ embeddedDir: 'memory://' });
  vault = vaultWith(cipher);
});

beforeEach(async () => {
  // Each rule sees only its own connections (the sweeps look at all of them).
  await database.db.delete(connections);
  emulator.clearFaults();
  emulator.resetCalls();
  logText = '';
});

afterEach(() => {
  vi.restoreAllMocks();
  clock.release();
});

afterAll(async () => {
  await database.close();
  await emulator.close();
});

function vaultWith(withCipher: TokenCipher): TokenVault {
  return new TokenVault(database.db, withCipher, gateway, {
    tokenCallTimeoutMs: TOKEN_CALL_TIMEOUT_MS,
    clock,
    log,
  });
}

/** A new Connect grant from the emulator: a fresh pair, as the SDK gives it. */
async function grant(): Promise<TokenSet> {
  const url = gateway.connectUrl(REDIRECT_URI, randomUUID());
  const redirect = await completeConnect(url, { brand: 'TESLA', email: `rules${++accounts}@example.com` });
  return gateway.exchangeCode(REDIRECT_URI, redirect.searchParams.get('code') ?? '');
}

/** A stored connection of a new user; its access token expires in `accessExpiresInMs`. */
async function connect(
  options: {
    accessExpiresInMs?: number;
    refreshExpiresInMs?: number;
    by?: TokenVault;
    smartcarUserId?: string;
  } = {},
) {
  const tokens = await grant();
  const [user] = await database.db.insert(users).values({}).returning();
  if (!user) throw new Error('no user row');
  const id = await (options.by ?? vault).saveConnection(
    database.db,
    user.id,
    {
      ...tokens,
      accessExpiresAt: new Date(clock.now().getTime() + (options.accessExpiresInMs ?? 2 * 60 * MINUTE)),
      refreshExpiresAt: new Date(clock.now().getTime() + (options.refreshExpiresInMs ?? 60 * DAY)),
    },
    options.smartcarUserId ?? null,
  );
  return { id, tokens };
}

async function row(id: string): Promise<Row> {
  const [found] = await database.db.select().from(connections).where(eq(connections.id, id));
  if (!found) throw new Error(`no connection ${id}`);
  return found;
}

async function seed(id: string, values: Partial<Row>): Promise<void> {
  await database.db.update(connections).set(values).where(eq(connections.id, id));
}

/** The access token the vault hands to a Smartcar call. */
const tokenFrom = (from: TokenVault, id: string) =>
  from.withAccessToken(id, (token) => Promise.resolve(token));

/** Holds the vaults' clock still, so a delay the vault stores is exact to the millisecond. */
const holdClock = () => clock.hold();

/**
 * Each (failures, delay until the next try) the row goes through while `work` runs, on a clock
 * held still: once a delay is read, the clock jumps to its end, so the next try may start.
 */
async function retrySteps(id: string, work: Promise<unknown>) {
  const steps: [number, number | null][] = [];
  const progress = { done: false };
  const watched = work.finally(() => (progress.done = true));
  for (;;) {
    // Read once more after the work is done: its last step may come just before it ends.
    const finished = progress.done;
    const { refreshFailures, refreshRetryAt } = await row(id);
    const last = steps.at(-1);
    if (!last || last[0] !== refreshFailures) {
      steps.push([refreshFailures, refreshRetryAt ? refreshRetryAt.getTime() - clock.now().getTime() : null]);
      if (refreshRetryAt) clock.hold(refreshRetryAt.getTime());
    }
    if (finished) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { steps, result: await watched };
}

/**
 * Starts a refresh by `by` that Smartcar answers after `delayMs`; resolves once its lease is
 * taken, with the promise of its token.
 */
async function slowRefresh(by: TokenVault, id: string, delayMs: number) {
  emulator.injectFault({ endpoint: 'token.refresh_token', delayMs, times: 1 });
  const token = tokenFrom(by, id);
  await vi.waitFor(async () => {
    expect((await row(id)).refreshLeaseUntil).not.toBeNull();
  }, LOADED_MACHINE);
  return { token };
}

const refreshes = () => tokenRefreshes(emulator);
const failRefreshes = (status: number, type: string, more: { times?: number; retryAfter?: number } = {}) =>
  emulator.injectFault({ endpoint: 'token.refresh_token', status, type, ...more });

describe('reading a connection', () => {
  it('uses the stored access token while it is fresh', async () => {
    const { id, tokens } = await connect();
    expect(await tokenFrom(vault, id)).toBe(tokens.accessToken);
    expect(refreshes()).toBe(0);
  });

  it('refreshes first when an earlier refresh lost its answer, though the access token is fresh', async () => {
    const { id, tokens } = await connect();
    await seed(id, { refreshAttemptedAt: new Date(clock.now().getTime() - 5 * SECOND) });
    const token = await tokenFrom(vault, id);
    expect(token).not.toBe(tokens.accessToken);
    expect(refreshes()).toBe(1);
    expect(await row(id)).toMatchObject({
      refreshAttemptedAt: null,
      refreshFailures: 0,
      refreshLeaseUntil: null,
    });
  });

  it('answers not_found for a connection that does not exist', async () => {
    const error = await apiErrorOf(tokenFrom(vault, randomUUID()));
    expect([error.code, error.message]).toEqual(['not_found', 'This connection was not found.']);
  });

  it('answers reconnect_required for a connection marked so, without calling Smartcar', async () => {
    const { id } = await connect();
    await seed(id, { status: 'reconnect_required' });
    emulator.resetCalls();
    expect((await apiErrorOf(tokenFrom(vault, id))).code).toBe('reconnect_required');
    expect(emulator.calls().requests).toEqual({});
  });

  it('passes on a failed call that is not about the token, without a refresh', async () => {
    const { id } = await connect();
    const failure = new Error('the vehicle is asleep');
    await expect(vault.withAccessToken(id, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(refreshes()).toBe(0);
  });

  it('refreshes once when Smartcar rejects the access token, and asks to reconnect if it rejects the new one', async () => {
    const { id } = await connect();
    const seen: string[] = [];
    const call = (token: string) => {
      seen.push(token);
      return Promise.reject(new AccessTokenRejected());
    };
    expect((await apiErrorOf(vault.withAccessToken(id, call))).code).toBe('reconnect_required');
    expect(refreshes()).toBe(1);
    expect(new Set(seen).size).toBe(2);
  });

  it('does not open a token moved to another connection', async () => {
    const first = await connect();
    const second = await connect();
    emulator.resetCalls();
    await seed(second.id, { accessToken: (await row(first.id)).accessToken });
    await expect(tokenFrom(vault, second.id)).rejects.toThrow('unable to authenticate data');
    expect(emulator.calls().requests).toEqual({});
  });
});

describe('storing a connection', () => {
  it('answers unauthorized when the user was deleted meanwhile', async () => {
    const tokens = await grant();
    const error = await apiErrorOf(vault.saveConnection(database.db, randomUUID(), tokens, null));
    expect(error.code).toBe('unauthorized');
  });

  it('passes on any other failure as it is', async () => {
    const tokens = await grant();
    const [user] = await database.db.insert(users).values({}).returning();
    const broken = { ...tokens, accessExpiresAt: new Date(Number.NaN) };
    const failure = await vault
      .saveConnection(database.db, user?.id ?? '', broken, null)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RangeError);
  });
});

describe('when a refresh fails', () => {
  it('retries a refresh that may have reached Smartcar within the request, 1, 2 then 4 s apart', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    failRefreshes(500, 'SERVER');
    const startedAt = holdClock();
    const { steps, result } = await retrySteps(id, tokenFrom(vault, id));
    // Three tries in the request; the still valid access token serves it meanwhile.
    expect(refreshes()).toBe(3);
    expect(result).toBe(tokens.accessToken);
    expect(steps).toEqual([
      [0, null],
      [1, 1 * SECOND],
      [2, 2 * SECOND],
      [3, 4 * SECOND],
    ]);
    // The token may have been used: the grace minute is counted from the first try.
    expect((await row(id)).refreshAttemptedAt?.getTime()).toBe(startedAt);
  });

  it.each([
    [0, 30 * SECOND],
    [1, 60 * SECOND],
    [9, 10 * MINUTE],
  ])(
    'after %i failures, waits %i ms before trying again when the token was not used',
    async (failures, delay) => {
      const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
      await seed(id, { refreshFailures: failures });
      // Smartcar refused the request itself: it did not use the refresh token.
      failRefreshes(400, 'invalid_request');
      const now = holdClock();
      expect(await tokenFrom(vault, id)).toBe(tokens.accessToken);
      expect(refreshes()).toBe(1);
      const after = await row(id);
      expect([after.refreshFailures, (after.refreshRetryAt?.getTime() ?? 0) - now]).toEqual([
        failures + 1,
        delay,
      ]);
      expect(after.refreshAttemptedAt).toBeNull();
      expect(after.refreshLeaseUntil).toBeNull();
      expect(logText).toMatch(/"code":"upstream_error".*"msg":"token refresh failed"/);
    },
  );

  it.each([
    ['no earlier refresh', null],
    ['an earlier lost answer', 5 * SECOND],
  ])('waits out the retry-after of a 429 and keeps the mark of %s', async (_case, lostSecondsAgo) => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    const now = holdClock();
    const attemptedAt = lostSecondsAgo === null ? null : new Date(now - lostSecondsAgo);
    await seed(id, { refreshAttemptedAt: attemptedAt });
    failRefreshes(429, 'RATE_LIMIT', { retryAfter: 30, times: 1 });
    expect(await tokenFrom(vault, id)).toBe(tokens.accessToken);
    expect(refreshes()).toBe(1);
    const after = await row(id);
    expect((after.refreshRetryAt?.getTime() ?? 0) - now).toBe(30 * SECOND);
    // A 429 is a refusal: the refresh token was not used by this try.
    expect(after.refreshAttemptedAt).toEqual(attemptedAt);
  });

  it('logs a refresh token that does not open as an internal failure, never sends it, and backs off', async () => {
    const first = await connect();
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    await seed(id, { refreshToken: (await row(first.id)).refreshToken });
    const now = holdClock();
    expect(await tokenFrom(vault, id)).toBe(tokens.accessToken);
    expect(refreshes()).toBe(0);
    expect(logText).toMatch(/"code":"internal".*"msg":"token refresh failed"/);
    // Nothing was sent, so the token is not marked as possibly used: the ordinary back-off.
    const after = await row(id);
    expect(after.refreshAttemptedAt).toBeNull();
    expect((after.refreshRetryAt?.getTime() ?? 0) - now).toBe(30 * SECOND);
  });

  it('waits inside the request for a retry-after of five seconds, then tries again', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    failRefreshes(429, 'RATE_LIMIT', { retryAfter: 5, times: 1 });
    holdClock();
    const { steps, result } = await retrySteps(id, tokenFrom(vault, id));
    expect(steps).toEqual([
      [0, null],
      [1, 5 * SECOND],
      [0, null],
    ]);
    expect(result).not.toBe(tokens.accessToken);
    expect(refreshes()).toBe(2);
  });

  it('once the grace minute is over, waits the ordinary back-off after a try that may have reached Smartcar', async () => {
    const { id } = await connect({ accessExpiresInMs: MINUTE });
    const now = holdClock();
    await seed(id, { refreshAttemptedAt: new Date(now - 2 * MINUTE) });
    failRefreshes(500, 'SERVER');
    await tokenFrom(vault, id);
    expect(refreshes()).toBe(1);
    expect(((await row(id)).refreshRetryAt?.getTime() ?? 0) - now).toBe(30 * SECOND);
  });

  it('passes on the failure when the refresh failed and the access token has expired', async () => {
    const { id } = await connect({ accessExpiresInMs: -SECOND });
    failRefreshes(400, 'invalid_request');
    expect((await apiErrorOf(tokenFrom(vault, id))).code).toBe('upstream_error');
    expect(refreshes()).toBe(1);
  });

  it('marks the connection reconnect_required when Smartcar refuses the refresh token', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    emulator.revokeToken(tokens.refreshToken);
    expect((await apiErrorOf(tokenFrom(vault, id))).code).toBe('reconnect_required');
    expect(await row(id)).toMatchObject({ status: 'reconnect_required', refreshLeaseUntil: null });
    // From then on the connection answers so without asking Smartcar again.
    expect((await apiErrorOf(tokenFrom(vault, id))).code).toBe('reconnect_required');
    expect(refreshes()).toBe(1);
  });

  it.each([
    [10 * SECOND, false],
    [2 * MINUTE, true],
  ])(
    'when a refresh whose answer was lost %i ms ago is refused, logs the lost grant: %s',
    async (lostMsAgo, logged) => {
      const { id, tokens } = await connect();
      await seed(id, { refreshAttemptedAt: new Date(clock.now().getTime() - lostMsAgo) });
      emulator.revokeToken(tokens.refreshToken);
      expect((await apiErrorOf(tokenFrom(vault, id))).code).toBe('reconnect_required');
      const line = new RegExp(`"connectionId":"${id}","since":"[^"]+".*the grant is lost`);
      expect(line.test(logText)).toBe(logged);
    },
  );
});

describe('beside another process', () => {
  it('waits for the refresh another process is making and uses its tokens', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    const theirs = await slowRefresh(vaultWith(cipher), id, 1_500);
    const ours = await tokenFrom(vault, id);
    expect(ours).toBe(await theirs.token);
    expect(ours).not.toBe(tokens.accessToken);
    expect(refreshes()).toBe(1);
  });

  it('uses the token another process stored after Smartcar rejected the one in hand', async () => {
    const { id, tokens } = await connect();
    // Nothing here waits: with the clock held, a wait for a lease would never end.
    holdClock();
    const other = vaultWith(cipher);
    const rejectFirst = (token: string) =>
      token === tokens.accessToken ? Promise.reject(new AccessTokenRejected()) : Promise.resolve(token);
    const used = await vault.withAccessToken(id, async (token) => {
      // The other process meets the same rejection first and refreshes.
      await other.withAccessToken(id, rejectFirst);
      return rejectFirst(token);
    });
    expect(used).not.toBe(tokens.accessToken);
    expect(refreshes()).toBe(1);
  });

  it('keeps the pair another process stored after its own lease ran out, and uses it', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    const other = vaultWith(cipher);
    const slow = await slowRefresh(vault, id, 3_000);
    // The lease runs out while Smartcar is slow, and the other process refreshes meanwhile.
    await seed(id, { refreshLeaseUntil: new Date(clock.now().getTime() - 1) });
    const theirs = await tokenFrom(other, id);
    expect(theirs).not.toBe(tokens.accessToken);
    expect(await slow.token).toBe(theirs);
    expect(await tokenFrom(vault, id)).toBe(theirs);
    expect(refreshes()).toBe(2);
  });

  it('waits out the lease of another process before refreshing a rejected token', async () => {
    const { id, tokens } = await connect();
    await seed(id, {
      refreshLeaseOwner: randomUUID(),
      refreshLeaseUntil: new Date(clock.now().getTime() + SECOND),
    });
    const used = await vault.withAccessToken(id, (token) =>
      token === tokens.accessToken ? Promise.reject(new AccessTokenRejected()) : Promise.resolve(token),
    );
    expect(used).not.toBe(tokens.accessToken);
    expect(refreshes()).toBe(1);
  });

  it('waits for a short back-off another process started, then refreshes', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    await seed(id, { refreshFailures: 1, refreshRetryAt: new Date(clock.now().getTime() + SECOND) });
    expect(await tokenFrom(vault, id)).not.toBe(tokens.accessToken);
    expect(refreshes()).toBe(1);
  });

  it('counts a wait for the back-off of another process among its three tries', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    await seed(id, {
      refreshFailures: 1,
      refreshRetryAt: new Date(clock.now().getTime() + SECOND),
      refreshAttemptedAt: clock.now(),
    });
    failRefreshes(500, 'SERVER');
    // The wait, then two tries (1 s, then 2 s apart): three in all.
    expect(await tokenFrom(vault, id)).toBe(tokens.accessToken);
    expect(refreshes()).toBe(2);
    expect((await row(id)).refreshFailures).toBe(3);
  });

  it('gives up waiting for the lease of another process after two leases and five seconds', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    const now = holdClock();
    await seed(id, { refreshLeaseOwner: randomUUID(), refreshLeaseUntil: new Date(now + 10 * MINUTE) });
    const tries = vi.spyOn(database.db, 'update');
    const triedAtLeast = (count: number) =>
      vi.waitFor(() => {
        expect(tries.mock.calls.length).toBeGreaterThanOrEqual(count);
      }, LOADED_MACHINE);
    const progress = { done: false };
    const waiting = tokenFrom(vault, id).finally(() => (progress.done = true));
    // The clock moves only once the vault has set its limit and tried for the lease.
    await triedAtLeast(1);
    const lease = TOKEN_CALL_TIMEOUT_MS + 5 * SECOND;
    clock.hold(now + 2 * lease + 4 * SECOND);
    // Three more tries for the lease, with the limit not yet reached.
    await triedAtLeast(tries.mock.calls.length + 3);
    expect(progress.done).toBe(false);
    clock.hold(now + 2 * lease + 6 * SECOND);
    expect(await waiting).toBe(tokens.accessToken);
    expect(refreshes()).toBe(0);
  });

  it('tries again when the lease of a stopped process runs out between its try and its look', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: -SECOND });
    const now = holdClock();
    await seed(id, { refreshLeaseOwner: randomUUID(), refreshLeaseUntil: new Date(now + 1) });
    const update = database.db.update.bind(database.db);
    vi.spyOn(database.db, 'update').mockImplementationOnce((table) => {
      // The try for the lease has its time already; the lease runs out before the look.
      clock.hold(now + 10);
      return update(table);
    });
    const token = await tokenFrom(vault, id);
    expect(token).not.toBe(tokens.accessToken);
    expect(refreshes()).toBe(1);
  });

  it('serves the stored token at once during a long back-off, and answers upstream_unavailable once it expired', async () => {
    const { id, tokens } = await connect({ accessExpiresInMs: MINUTE });
    await seed(id, { refreshFailures: 3, refreshRetryAt: new Date(clock.now().getTime() + MINUTE) });
    // With the clock held, any wait would never end.
    holdClock();
    const tries = vi.spyOn(database.db, 'update');
    expect(await tokenFrom(vault, id)).toBe(tokens.accessToken);
    expect(tries).toHaveBeenCalledTimes(1);
    await seed(id, { accessExpiresAt: new Date(clock.now().getTime() - SECOND) });
    expect((await apiErrorOf(tokenFrom(vault, id))).code).toBe('upstream_unavailable');
    expect(refreshes()).toBe(0);
  });
});

describe('the sweeps', () => {
  it('renews refresh tokens nearing their 60 days and counts those it could not', async () => {
    const due = await connect({ refreshExpiresInMs: 3 * DAY });
    const dead = await connect({ refreshExpiresInMs: 3 * DAY });
    const later = await connect({ refreshExpiresInMs: 30 * DAY });
    emulator.revokeToken(dead.tokens.refreshToken);
    expect(await vault.renewExpiringRefreshTokens()).toEqual({ renewed: 1, failed: 1 });
    expect((await row(due.id)).refreshExpiresAt.getTime()).toBeGreaterThan(clock.now().getTime() + 50 * DAY);
    expect((await row(dead.id)).status).toBe('reconnect_required');
    expect(emulator.calls().byToken[later.tokens.refreshToken]).toBeUndefined();
  });

  it('counts a renewal as failed while a back-off runs and the access token has expired', async () => {
    const { id } = await connect({ accessExpiresInMs: -SECOND, refreshExpiresInMs: 3 * DAY });
    await seed(id, { refreshFailures: 2, refreshRetryAt: new Date(clock.now().getTime() + 10 * MINUTE) });
    holdClock();
    expect(await vault.renewExpiringRefreshTokens()).toEqual({ renewed: 0, failed: 1 });
    expect(refreshes()).toBe(0);
  });

  it('retries each refresh whose answer was lost, unless another process holds its lease', async () => {
    const lost = await connect();
    const leased = await connect();
    await connect();
    const lostAt = new Date(clock.now().getTime() - 5 * SECOND);
    await seed(lost.id, { refreshAttemptedAt: lostAt });
    await seed(leased.id, {
      refreshAttemptedAt: lostAt,
      refreshLeaseOwner: randomUUID(),
      refreshLeaseUntil: new Date(clock.now().getTime() + MINUTE),
    });
    expect(await vault.recoverLostRefreshes()).toBe(1);
    expect(refreshes()).toBe(1);
    expect((await row(lost.id)).refreshAttemptedAt).toBeNull();
    expect(await vault.recoverLostRefreshes()).toBe(0);
  });
});

describe('encryption keys', () => {
  it('the start-up key check fails on tokens sealed with keys it lacks, and names every one', async () => {
    const olderKey = randomBytes(32);
    const older = new TokenCipher(olderKey);
    await connect({ by: vaultWith(older) });
    await connect();
    const error: unknown = await vaultWith(new TokenCipher(randomBytes(32)))
      .assertKeysAvailable()
      .catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(Error);
    const { message } = error as Error;
    const listed = [
      `${older.currentKeyId}, ${cipher.currentKeyId}`,
      `${cipher.currentKeyId}, ${older.currentKeyId}`,
    ];
    expect(listed.some((keys) => message.includes(`key(s) ${keys}, which are not configured`))).toBe(true);
    expect(message).toContain('Put the previous key in TOKEN_ENCRYPTION_OLD_KEYS');
    const withBoth = vaultWith(new TokenCipher(randomBytes(32), [olderKey, key]));
    await expect(withBoth.assertKeysAvailable()).resolves.toBeUndefined();
  });

  it('re-encrypts the others when a connection is deleted while it runs', async () => {
    const gone = await connect();
    const kept = await connect();
    const next = new TokenCipher(randomBytes(32), [key]);
    const transaction = database.db.transaction.bind(database.db);
    vi.spyOn(database.db, 'transaction').mockImplementationOnce(async (work) => {
      await database.db.delete(connections).where(eq(connections.id, gone.id));
      return transaction(work);
    });
    expect(await vaultWith(next).reencryptAll()).toBe(2);
    expect((await row(kept.id)).keyId).toBe(next.currentKeyId);
  });

  it('keeps the Smartcar user id sealed through a refresh and a re-encryption under a new key', async () => {
    const { id } = await connect({ accessExpiresInMs: 0, smartcarUserId: 'smartcar-user-1' });
    await tokenFrom(vault, id);
    expect((await row(id)).refreshFailures).toBe(0);
    const nextKey = randomBytes(32);
    expect(await vaultWith(new TokenCipher(nextKey, [key])).reencryptAll()).toBe(1);
    const onlyTheNewKey = vaultWith(new TokenCipher(nextKey));
    expect(await onlyTheNewKey.smartcarUserId(id)).toBe('smartcar-user-1');
  });

  it('re-encrypts every connection under the current key, once', async () => {
    const first = await connect();
    const second = await connect();
    const nextKey = randomBytes(32);
    const next = new TokenCipher(nextKey, [key]);
    const rotated = vaultWith(next);
    expect(await rotated.reencryptAll()).toBe(2);
    expect((await row(first.id)).keyId).toBe(next.currentKeyId);
    expect((await row(second.id)).keyId).toBe(next.currentKeyId);
    expect(await rotated.reencryptAll()).toBe(0);
    // The new key alone opens them, and they are the tokens Smartcar issued.
    const newKeyOnly = vaultWith(new TokenCipher(nextKey));
    expect(await tokenFrom(newKeyOnly, first.id)).toBe(first.tokens.accessToken);
    expect(await tokenFrom(newKeyOnly, second.id)).toBe(second.tokens.accessToken);
  });
});
