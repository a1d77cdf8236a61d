// Keeps each connection's Smartcar tokens encrypted and fresh. A token is decrypted only to make
// a Smartcar call and never leaves this module except as the argument of that call.
//
// Refreshing, across any number of server processes, follows these rules:
//
// - One refresh per connection at a time: a process first takes the connection's lease, a
//   conditional UPDATE that succeeds only when no other lease is running and the back-off is over.
//   No transaction and no pool connection is held while Smartcar answers: the lease is a column.
//   A lease lasts one token call (the SDK's timeout plus a margin), so a process killed mid-refresh
//   holds it up for seconds only.
// - Smartcar rotates the pair on every refresh and keeps the used refresh token valid for one
//   minute (https://smartcar.com/docs/api-reference/authorization/token-refresh). An answer can be
//   lost after Smartcar used the token (dropped connection, timeout, process killed before the
//   commit), so `refresh_attempted_at` records when the stored token was first sent without an
//   answer coming back. While that minute runs, retries come within seconds (each process sweeps
//   for such connections, see `recoverLostRefreshes`), never after the ordinary back-off.
// - New tokens are written only if the stored refresh token is still the one that was sent, so a
//   slow process whose lease ran out can never overwrite a newer pair with an older one.
// - A connection becomes `reconnect_required` only when Smartcar answers `invalid_grant` for the
//   refresh token we hold: the grant is gone (revoked, 60 days passed), or a lost answer could not
//   be retried within the minute, which the rules above exist to prevent and which is logged.
// - Back-off lives in the database (`refresh_failures`, `refresh_retry_at`), shared by every
//   process, and is part of the lease's condition, so it is checked again when a lease is taken.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, isNotNull, isNull, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import pLimit from 'p-limit';
import { isForeignKeyViolation, type Database } from '../db';
import { connections, type StoredConnection } from '../db/schema';
import { ApiError, notFound, reconnectRequired, unauthorized, upstreamUnavailable } from '../http/api-errors';
import { later, type Clock } from '../lib/clock';
import { Lease } from '../lib/lease';
import { SingleFlight } from '../../utils/single-flight';
import {
  AccessTokenRejected,
  RefreshTokenRejected,
  type SmartcarGateway,
  type TokenSet,
} from '../smartcar/gateway';
import type { TokenCipher } from './cipher';

/** Refresh this long before the access token expires, so no call goes out with a dying token. */
const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** The sweep renews connections whose refresh token would lapse within this time. */
const REFRESH_TOKEN_RENEWAL_MARGIN_MS = 7 * 24 * 60 * 60 * 1000;
/** Smartcar keeps a used refresh token valid this long after its first use. */
const REFRESH_GRACE_MS = 60 * 1000;
/** After a lost answer, retry this soon (doubling up to the cap), so several tries fit in the grace. */
const LOST_ANSWER_RETRY_MS = 1_000;
const LOST_ANSWER_RETRY_CAP_MS = 4_000;
/** After a failure that left the token unused, wait this long (doubling up to the cap). */
const REFRESH_BACKOFF_MS = 30_000;
const REFRESH_BACKOFF_CAP_MS = 10 * 60 * 1000;
/** A request tries at most this often itself, and waits at most this long between tries. */
const TRIES_PER_REQUEST = 3;
const LONGEST_WAIT_IN_REQUEST_MS = 5_000;
/** How often a request waiting for another process's refresh looks again. */
const LEASE_POLL_MS = 100;
/** Token calls at once per process: more wait their turn without holding anything. */
export const CONCURRENT_TOKEN_CALLS = 4;

type ConnectionRow = StoredConnection;

/** Why a connection is refreshed: as SQL for the lease's condition, and as a check on a row read. */
interface RefreshReason {
  where(now: Date): SQL | undefined;
  holds(row: ConnectionRow, now: Date): boolean;
}

const accessTokenExpiring: RefreshReason = {
  where: (now) => lte(connections.accessExpiresAt, new Date(now.getTime() + REFRESH_MARGIN_MS)),
  holds: (row, now) => row.accessExpiresAt.getTime() - now.getTime() <= REFRESH_MARGIN_MS,
};
const refreshTokenExpiring: RefreshReason = {
  where: (now) =>
    lte(connections.refreshExpiresAt, new Date(now.getTime() + REFRESH_TOKEN_RENEWAL_MARGIN_MS)),
  holds: (row, now) => row.refreshExpiresAt.getTime() - now.getTime() <= REFRESH_TOKEN_RENEWAL_MARGIN_MS,
};
/** A refresh whose answer never came: the stored token may already be used. */
const answerLost: RefreshReason = {
  where: () => isNotNull(connections.refreshAttemptedAt),
  holds: (row) => row.refreshAttemptedAt !== null,
};
/** Smartcar refused this access token, unless another request replaced it meanwhile. */
const accessTokenRejected = (sealed: Buffer): RefreshReason => ({
  where: () => eq(connections.accessToken, sealed),
  holds: (row) => row.accessToken.equals(sealed),
});
const either = (a: RefreshReason, b: RefreshReason): RefreshReason => ({
  where: (now) => or(a.where(now), b.where(now)),
  holds: (row, now) => a.holds(row, now) || b.holds(row, now),
});

/** An access token in the clear, and as stored, to tell later whether it was replaced. */
interface AccessToken {
  token: string;
  sealed: Buffer;
}

type Attempt =
  | ({ kind: 'token' } & AccessToken)
  | { kind: 'reconnect' }
  | { kind: 'failed'; error: unknown; retryAt: Date; row: ConnectionRow };

export class TokenVault {
  /** One proof of a connection's Smartcar user at a time in this process. */
  private readonly proofs = new SingleFlight<string | null>();
  /** One refresh per connection at a time in this process; the lease covers other processes. */
  private readonly refreshes = new SingleFlight<AccessToken>();
  private readonly tokenCalls = pLimit(CONCURRENT_TOKEN_CALLS);
  /** Names this process in the leases it takes. */
  private readonly leaseOwner = randomUUID();
  /** Lasts one token call (the SDK's timeout) plus a margin. */
  private readonly lease: Lease;
  private readonly clock: Clock;
  private readonly log: FastifyBaseLogger;

  constructor(
    private readonly db: Database,
    private readonly cipher: TokenCipher,
    private readonly smartcar: SmartcarGateway,
    options: { tokenCallTimeoutMs: number; clock: Clock; log: FastifyBaseLogger },
  ) {
    this.clock = options.clock;
    this.lease = new Lease(connections.refreshLeaseUntil, options.tokenCallTimeoutMs + 5_000, options.clock);
    this.log = options.log;
  }

  /**
   * Stores a new connection's tokens, and the Smartcar user id Smartcar proved for them when it
   * did, inside the caller's transaction; returns its id.
   */
  async saveConnection(
    tx: Database,
    userId: string,
    tokens: TokenSet,
    smartcarUserId: string | null,
  ): Promise<string> {
    const id = crypto.randomUUID();
    try {
      await tx.insert(connections).values({ id, userId, ...this.seal(id, tokens, smartcarUserId) });
    } catch (error) {
      // The user signed out on another process while Smartcar answered.
      if (isForeignKeyViolation(error)) throw unauthorized();
      throw error;
    }
    return id;
  }

  /**
   * Runs a Smartcar call with the connection's access token. If Smartcar rejects the token
   * before its time (revoked, expired early), the token is refreshed once and the call retried.
   */
  async withAccessToken<T>(connectionId: string, call: (accessToken: string) => Promise<T>): Promise<T> {
    const { token, sealed } = await this.accessToken(connectionId);
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof AccessTokenRejected)) throw error;
    }
    const fresh = await this.refreshShared(connectionId, accessTokenRejected(sealed));
    try {
      return await call(fresh.token);
    } catch (error) {
      throw error instanceof AccessTokenRejected ? reconnectRequired() : error;
    }
  }

  /** A valid access token for the connection, refreshed first if it is about to expire. */
  private async accessToken(connectionId: string): Promise<AccessToken> {
    const row = await this.read(connectionId);
    const reason = either(accessTokenExpiring, answerLost);
    return reason.holds(row, this.clock.now()) ? this.refreshShared(connectionId, reason) : this.stored(row);
  }

  private stored(row: ConnectionRow): AccessToken {
    return { token: this.open(row, 'access'), sealed: row.accessToken };
  }

  private async read(connectionId: string): Promise<ConnectionRow> {
    const [row] = await this.db.select().from(connections).where(eq(connections.id, connectionId));
    if (!row) throw notFound('This connection');
    if (row.status !== 'active') throw reconnectRequired();
    return row;
  }

  /**
   * Renews every connection whose refresh token nears its 60 days, so a connection in use never
   * lapses. Safe to run in every process at once: the lease lets one of them do each.
   */
  async renewExpiringRefreshTokens(): Promise<{ renewed: number; failed: number }> {
    const due = await this.db
      .select({ id: connections.id })
      .from(connections)
      .where(
        and(
          eq(connections.status, 'active'),
          lt(connections.refreshExpiresAt, later(this.clock, REFRESH_TOKEN_RENEWAL_MARGIN_MS)),
        ),
      );
    let failed = 0;
    for (const { id } of due) {
      await this.refreshShared(id, refreshTokenExpiring).catch(() => (failed += 1));
    }
    return { renewed: due.length - failed, failed };
  }

  /**
   * Refuses to run when stored tokens were sealed with a key the configuration no longer has:
   * better a clear message at start than every vehicle failing later.
   */
  async assertKeysAvailable(): Promise<void> {
    const used = await this.db.selectDistinct({ keyId: connections.keyId }).from(connections);
    const missing = used.map((row) => row.keyId).filter((keyId) => !this.cipher.hasKey(keyId));
    if (missing.length > 0) {
      throw new Error(
        `Stored tokens are encrypted with key(s) ${missing.join(', ')}, which are not configured. ` +
          'Put the previous key in TOKEN_ENCRYPTION_OLD_KEYS, or run `npm run reencrypt` with it first.',
      );
    }
  }

  /** Re-encrypts every connection still sealed with an older key; answers how many it moved. */
  async reencryptAll(): Promise<number> {
    const stale = await this.db
      .select({ id: connections.id })
      .from(connections)
      .where(ne(connections.keyId, this.cipher.currentKeyId));
    for (const { id } of stale) {
      await this.db.transaction(async (tx) => {
        const [row] = await tx.select().from(connections).where(eq(connections.id, id)).for('update');
        if (!row || row.keyId === this.cipher.currentKeyId) return;
        await tx.update(connections).set(this.resealed(row)).where(eq(connections.id, id));
      });
    }
    return stale.length;
  }

  /**
   * Retries refreshes whose answer was lost, while Smartcar still honours the used token. Runs
   * every few seconds in every process; a lease lets one of them do each.
   */
  async recoverLostRefreshes(): Promise<number> {
    const now = this.clock.now();
    const due = await this.db
      .select({ id: connections.id })
      .from(connections)
      .where(and(eq(connections.status, 'active'), answerLost.where(now), this.lease.free(now)));
    await Promise.all(due.map(({ id }) => this.refreshShared(id, answerLost).catch(() => undefined)));
    return due.length;
  }

  private refreshShared(connectionId: string, reason: RefreshReason): Promise<AccessToken> {
    return this.refreshes.run(connectionId, () => this.refresh(connectionId, reason));
  }

  /** Refreshes under the lease, or waits for the process that holds it; see the rules at the top. */
  private async refresh(connectionId: string, reason: RefreshReason): Promise<AccessToken> {
    const giveUpAt = this.nowMs() + 2 * this.lease.ms + LONGEST_WAIT_IN_REQUEST_MS;
    let tries = 0;
    for (;;) {
      const attempt = await this.tokenCalls(() => this.tryRefresh(connectionId, reason));
      if (attempt) {
        tries += 1;
        if (attempt.kind === 'token') return attempt;
        if (attempt.kind === 'reconnect') throw reconnectRequired();
        const wait = attempt.retryAt.getTime() - this.nowMs();
        if (tries < TRIES_PER_REQUEST && wait <= LONGEST_WAIT_IN_REQUEST_MS) {
          await sleep(Math.max(0, wait));
          continue;
        }
        // The stored token may still serve this request; the sweep or a later request tries again.
        if (attempt.row.accessExpiresAt.getTime() > this.nowMs()) return this.stored(attempt.row);
        throw attempt.error;
      }
      // No lease: another process is refreshing, the back-off runs, or there is nothing to do.
      const row = await this.read(connectionId);
      const now = this.clock.now();
      if (!reason.holds(row, now)) return this.stored(row);
      const leased = row.refreshLeaseUntil !== null && row.refreshLeaseUntil > now;
      const retryIn = (row.refreshRetryAt?.getTime() ?? 0) - now.getTime();
      if ((leased || retryIn <= 0) && this.nowMs() < giveUpAt) {
        await sleep(LEASE_POLL_MS);
        continue;
      }
      if (retryIn > 0 && retryIn <= LONGEST_WAIT_IN_REQUEST_MS && tries < TRIES_PER_REQUEST) {
        tries += 1;
        await sleep(retryIn);
        continue;
      }
      if (row.accessExpiresAt > now) return this.stored(row);
      throw upstreamUnavailable();
    }
  }

  /** One refresh under the lease; undefined when the lease could not be taken. */
  private async tryRefresh(connectionId: string, reason: RefreshReason): Promise<Attempt | undefined> {
    const leased = await this.takeLease(connectionId, reason);
    if (!leased) return undefined;
    const { row, attemptedBefore } = leased;
    let tokens: TokenSet;
    let smartcarUserId: string | null;
    try {
      // Opened before the call: once Smartcar has rotated the pair, nothing may keep it from being saved.
      smartcarUserId = this.openUserId(row);
      tokens = await this.smartcar.refresh(this.open(row, 'refresh'));
    } catch (error) {
      if (error instanceof RefreshTokenRejected) {
        await this.markReconnectRequired(row, attemptedBefore);
        return { kind: 'reconnect' };
      }
      return this.recordFailure(row, attemptedBefore, error);
    }
    return this.save(row, tokens, smartcarUserId);
  }

  /**
   * Takes the connection's refresh lease when it is free, the back-off is over and `reason` still
   * holds; answers the row, and when its token was first sent without an answer before this try.
   */
  private async takeLease(
    connectionId: string,
    reason: RefreshReason,
  ): Promise<{ row: ConnectionRow; attemptedBefore: Date | null } | undefined> {
    const now = this.clock.now();
    const [before] = await this.db
      .select({ attemptedAt: connections.refreshAttemptedAt })
      .from(connections)
      .where(eq(connections.id, connectionId));
    const [row] = await this.db
      .update(connections)
      .set({
        refreshLeaseOwner: this.leaseOwner,
        refreshLeaseUntil: this.lease.until(now),
        // Marked before the call: from here on Smartcar may use the token without us hearing back.
        refreshAttemptedAt: sql`coalesce(${connections.refreshAttemptedAt}, ${now.toISOString()}::timestamptz)`,
      })
      .where(
        and(
          eq(connections.id, connectionId),
          eq(connections.status, 'active'),
          this.lease.free(now),
          or(isNull(connections.refreshRetryAt), lte(connections.refreshRetryAt, now)),
          reason.where(now),
        ),
      )
      .returning();
    return row && { row, attemptedBefore: before?.attemptedAt ?? null };
  }

  /** Smartcar says the refresh token is dead: the grant is gone. */
  private async markReconnectRequired(row: ConnectionRow, attemptedBefore: Date | null): Promise<void> {
    if (attemptedBefore && this.nowMs() - attemptedBefore.getTime() > REFRESH_GRACE_MS) {
      this.log.error(
        { connectionId: row.id, since: attemptedBefore.toISOString() },
        'a refresh whose answer was lost was retried after Smartcar’s grace period; the grant is lost',
      );
    }
    await this.db
      .update(connections)
      .set({ ...RELEASED, status: 'reconnect_required', updatedAt: this.clock.now() })
      .where(sentTokenUnchanged(row));
  }

  /** Any other failure: back off, keeping the mark of a token Smartcar may have used. */
  private async recordFailure(
    row: ConnectionRow,
    attemptedBefore: Date | null,
    error: unknown,
  ): Promise<Attempt> {
    const failures = row.refreshFailures + 1;
    const attemptedAt = mayHaveReachedSmartcar(error) ? row.refreshAttemptedAt : attemptedBefore;
    const now = this.clock.now();
    const retryAt = new Date(now.getTime() + retryDelay(failures, attemptedAt, error, now));
    await this.db
      .update(connections)
      .set({
        ...RELEASED,
        refreshFailures: failures,
        refreshRetryAt: retryAt,
        refreshAttemptedAt: attemptedAt,
      })
      .where(sentTokenUnchanged(row));
    this.log.warn(
      { connectionId: row.id, failures, code: error instanceof ApiError ? error.code : 'internal' },
      'token refresh failed',
    );
    return { kind: 'failed', error, retryAt, row };
  }

  /** Stores the new pair unless another process stored a newer one meanwhile; answers the pair in use. */
  private async save(row: ConnectionRow, tokens: TokenSet, smartcarUserId: string | null): Promise<Attempt> {
    const sealed = this.seal(row.id, tokens, smartcarUserId);
    const [saved] = await this.db
      .update(connections)
      .set({
        ...sealed,
        ...RELEASED,
        refreshFailures: 0,
        refreshRetryAt: null,
        refreshAttemptedAt: null,
        updatedAt: this.clock.now(),
      })
      .where(sentTokenUnchanged(row))
      .returning({ id: connections.id });
    if (saved) return { kind: 'token', token: tokens.accessToken, sealed: sealed.accessToken };
    // Our lease ran out and another process stored a newer pair: use that one.
    return { kind: 'token', ...this.stored(await this.read(row.id)) };
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }

  /**
   * The Smartcar user the connection's grant belongs to. Asked of Smartcar with the grant's own
   * token the first time (connections made before API v3, or whose proof failed at connect) and
   * stored sealed from then on.
   */
  smartcarUserId(connectionId: string): Promise<string | null> {
    return this.proofs.run(connectionId, () => this.proveUserId(connectionId));
  }

  /**
   * Null when Smartcar will not tell (a grant made without `read_user_profile`, before API v3):
   * such a connection keeps being served through its own tokens.
   */
  private async proveUserId(connectionId: string): Promise<string | null> {
    const row = await this.read(connectionId);
    const stored = this.openUserId(row);
    if (stored !== null) return stored;
    const proven = await this.withAccessToken(connectionId, (token) => this.smartcar.userId(token));
    // Only beside tokens already under the current key, and without touching them: a refresh in
    // flight saves its new pair only while the stored refresh token is the one it sent. A row
    // still under an older key is proven again after `npm run reencrypt` moves it.
    if (proven !== null && row.keyId === this.cipher.currentKeyId) {
      await this.db
        .update(connections)
        .set({ smartcarUserId: this.cipher.encrypt(proven, aad(row.id, 'smartcar_user_id')) })
        .where(
          and(
            eq(connections.id, row.id),
            eq(connections.keyId, row.keyId),
            isNull(connections.smartcarUserId),
          ),
        );
    }
    return proven;
  }

  /** Every sealed field of the row, sealed again with the current key. */
  private resealed(row: ConnectionRow) {
    return this.seal(row.id, this.openTokens(row), this.openUserId(row));
  }

  private seal(connectionId: string, tokens: TokenSet, smartcarUserId: string | null) {
    const seal = (value: string, field: SealedField) => this.cipher.encrypt(value, aad(connectionId, field));
    return {
      keyId: this.cipher.currentKeyId,
      accessToken: seal(tokens.accessToken, 'access_token'),
      refreshToken: seal(tokens.refreshToken, 'refresh_token'),
      accessExpiresAt: tokens.accessExpiresAt,
      refreshExpiresAt: tokens.refreshExpiresAt,
      // Left as it is when unknown: a proof stored meanwhile is not cleared.
      ...(smartcarUserId === null ? {} : { smartcarUserId: seal(smartcarUserId, 'smartcar_user_id') }),
    };
  }

  private openTokens(row: ConnectionRow): TokenSet {
    return {
      accessToken: this.open(row, 'access'),
      refreshToken: this.open(row, 'refresh'),
      accessExpiresAt: row.accessExpiresAt,
      refreshExpiresAt: row.refreshExpiresAt,
    };
  }

  private openUserId(row: ConnectionRow): string | null {
    if (row.smartcarUserId === null) return null;
    return this.cipher.decrypt(row.smartcarUserId, row.keyId, aad(row.id, 'smartcar_user_id'));
  }

  private open(row: ConnectionRow, which: 'access' | 'refresh'): string {
    const sealed = which === 'access' ? row.accessToken : row.refreshToken;
    return this.cipher.decrypt(sealed, row.keyId, aad(row.id, `${which}_token`));
  }
}

const RELEASED = { refreshLeaseOwner: null, refreshLeaseUntil: null };

/**
 * Writes only while the stored refresh token is still the one sent, so a slow process whose lease
 * ran out never overwrites a newer pair with an older one.
 */
const sentTokenUnchanged = (row: ConnectionRow) =>
  and(eq(connections.id, row.id), eq(connections.refreshToken, row.refreshToken));

/** Binds a ciphertext to its row and field: moved anywhere else, it no longer decrypts. */
type SealedField = 'access_token' | 'refresh_token' | 'smartcar_user_id';
const aad = (connectionId: string, field: SealedField) => `connections/${connectionId}/${field}`;

/**
 * How long to wait before the next try. A 429 says how long itself. While a token Smartcar may
 * have used is still in its grace minute, tries come within seconds; otherwise the back-off doubles.
 */
function retryDelay(failures: number, attemptedAt: Date | null, error: unknown, now: Date): number {
  if (error instanceof ApiError && error.retryAfter) return error.retryAfter * 1000;
  const inGrace = attemptedAt !== null && now.getTime() - attemptedAt.getTime() < REFRESH_GRACE_MS;
  return inGrace
    ? Math.min(LOST_ANSWER_RETRY_MS * 2 ** (failures - 1), LOST_ANSWER_RETRY_CAP_MS)
    : Math.min(REFRESH_BACKOFF_MS * 2 ** (failures - 1), REFRESH_BACKOFF_CAP_MS);
}

/**
 * Whether Smartcar may have used the refresh token although we got no tokens back: anything but
 * a clear refusal (a 429, or a 4xx about our request) counts, as a 5xx can follow the rotation.
 * The gateway turns every failure of the call into an ApiError, so any other error came before
 * the call (a stored token that does not open): nothing was sent.
 */
function mayHaveReachedSmartcar(error: unknown): boolean {
  if (!(error instanceof ApiError)) return false;
  return error.statusCode !== 429 && error.code !== 'upstream_error';
}
