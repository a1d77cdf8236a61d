// Keeps each connection's Smartcar tokens encrypted and fresh. A token is decrypted only to make
// a Smartcar call and never leaves this module except as the argument of that call.
import { and, eq, lt, ne } from 'drizzle-orm';
import type { Database } from '../db';
import { connections } from '../db/schema';
import { ApiError, notFound } from '../errors';
import { AccessTokenRejected, RefreshTokenRejected, type SmartcarGateway, type TokenSet } from '../smartcar';
import type { TokenCipher } from './cipher';

/** Refresh this long before the access token expires, so no call goes out with a dying token. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;
/** The sweep renews connections whose refresh token would lapse within this time. */
export const REFRESH_TOKEN_RENEWAL_MARGIN_MS = 7 * 24 * 60 * 60 * 1000;
/** After a failed refresh, wait this long (doubling per failure, up to the cap) before trying again. */
const REFRESH_BACKOFF_MS = 30_000;
const REFRESH_BACKOFF_CAP_MS = 10 * 60 * 1000;

type ConnectionRow = typeof connections.$inferSelect;
type NeedsRefresh = (row: ConnectionRow, now: number) => boolean;

export const reconnectRequired = () =>
  new ApiError(409, 'reconnect_required', 'Smartcar access has ended for this vehicle. Connect it again.');

const upstreamUnavailable = () =>
  new ApiError(503, 'upstream_unavailable', 'Smartcar is not answering right now. Try again in a moment.');

const accessTokenExpiring: NeedsRefresh = (row, now) =>
  row.accessExpiresAt.getTime() - now <= REFRESH_MARGIN_MS;
const refreshTokenExpiring: NeedsRefresh = (row, now) =>
  row.refreshExpiresAt.getTime() - now <= REFRESH_TOKEN_RENEWAL_MARGIN_MS;

export class TokenVault {
  /** One refresh per connection at a time in this process; the row lock covers other processes. */
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    private readonly db: Database,
    private readonly cipher: TokenCipher,
    private readonly smartcar: SmartcarGateway,
  ) {}

  /** Stores a new connection's tokens, inside the caller's transaction; returns its id. */
  async saveConnection(tx: Database, userId: string, tokens: TokenSet): Promise<string> {
    const id = crypto.randomUUID();
    await tx.insert(connections).values({ id, userId, ...this.seal(id, tokens) });
    return id;
  }

  /**
   * Runs a Smartcar call with the connection's access token. If Smartcar rejects the token
   * before its time (revoked, expired early), the token is refreshed once and the call retried.
   */
  async withAccessToken<T>(connectionId: string, call: (accessToken: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken(connectionId);
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof AccessTokenRejected)) throw error;
    }
    // Unless another request already replaced the rejected token, this one refreshes it.
    const fresh = await this.refreshShared(connectionId, (row) => this.open(row, 'access') === token);
    try {
      return await call(fresh);
    } catch (error) {
      throw error instanceof AccessTokenRejected ? reconnectRequired() : error;
    }
  }

  /** A valid access token for the connection, refreshed first if it is about to expire. */
  private async accessToken(connectionId: string): Promise<string> {
    const [row] = await this.db.select().from(connections).where(eq(connections.id, connectionId));
    if (!row) throw notFound('This connection');
    if (row.status !== 'active') throw reconnectRequired();
    const now = Date.now();
    if (!accessTokenExpiring(row, now)) return this.open(row, 'access');
    if (inBackoff(row, now)) {
      // Smartcar failed us moments ago: use the old token while it lasts rather than hammer it.
      if (row.accessExpiresAt.getTime() > now) return this.open(row, 'access');
      throw upstreamUnavailable();
    }
    return this.refreshShared(connectionId, accessTokenExpiring);
  }

  /**
   * Renews every connection whose refresh token nears its 60 days, so a connection in use never
   * lapses. Safe to run in every process at once: the row lock lets one of them do each.
   */
  async renewExpiringRefreshTokens(): Promise<{ renewed: number; failed: number }> {
    const due = await this.db
      .select({ id: connections.id })
      .from(connections)
      .where(
        and(
          eq(connections.status, 'active'),
          lt(connections.refreshExpiresAt, new Date(Date.now() + REFRESH_TOKEN_RENEWAL_MARGIN_MS)),
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
        const tokens = {
          accessToken: this.open(row, 'access'),
          refreshToken: this.open(row, 'refresh'),
          accessExpiresAt: row.accessExpiresAt,
          refreshExpiresAt: row.refreshExpiresAt,
        };
        await tx.update(connections).set(this.seal(id, tokens)).where(eq(connections.id, id));
      });
    }
    return stale.length;
  }

  private refreshShared(connectionId: string, needsRefresh: NeedsRefresh): Promise<string> {
    let pending = this.inFlight.get(connectionId);
    if (!pending) {
      pending = this.refreshUnderLock(connectionId, needsRefresh).finally(() =>
        this.inFlight.delete(connectionId),
      );
      this.inFlight.set(connectionId, pending);
    }
    return pending;
  }

  private async refreshUnderLock(connectionId: string, needsRefresh: NeedsRefresh): Promise<string> {
    const outcome = await this.db.transaction(async (tx) => {
      // FOR UPDATE serialises refreshes across server processes; the rotated pair is committed
      // before the lock is released, so no process ever refreshes with a superseded token.
      const [row] = await tx.select().from(connections).where(eq(connections.id, connectionId)).for('update');
      if (!row) return { kind: 'gone' } as const;
      if (row.status !== 'active') return { kind: 'reconnect' } as const;
      // Another process may have refreshed while this one waited for the lock.
      if (!needsRefresh(row, Date.now())) return { kind: 'token', token: this.open(row, 'access') } as const;
      let tokens: TokenSet;
      try {
        tokens = await this.smartcar.refresh(this.open(row, 'refresh'));
      } catch (error) {
        if (error instanceof RefreshTokenRejected) {
          await tx
            .update(connections)
            .set({ status: 'reconnect_required', updatedAt: new Date() })
            .where(eq(connections.id, connectionId));
          return { kind: 'reconnect' } as const;
        }
        await tx
          .update(connections)
          .set({ refreshFailures: row.refreshFailures + 1, refreshFailedAt: new Date() })
          .where(eq(connections.id, connectionId));
        const stillValid = row.accessExpiresAt.getTime() > Date.now();
        return stillValid
          ? ({ kind: 'token', token: this.open(row, 'access') } as const)
          : ({ kind: 'failed', error } as const);
      }
      await tx
        .update(connections)
        .set({
          ...this.seal(connectionId, tokens),
          refreshFailures: 0,
          refreshFailedAt: null,
          updatedAt: new Date(),
        })
        .where(eq(connections.id, connectionId));
      return { kind: 'token', token: tokens.accessToken } as const;
    });
    switch (outcome.kind) {
      case 'gone':
        throw notFound('This connection');
      case 'reconnect':
        throw reconnectRequired();
      case 'failed':
        throw outcome.error;
      case 'token':
        return outcome.token;
    }
  }

  private seal(connectionId: string, tokens: TokenSet) {
    return {
      keyId: this.cipher.currentKeyId,
      accessToken: this.cipher.encrypt(tokens.accessToken, aad(connectionId, 'access')),
      refreshToken: this.cipher.encrypt(tokens.refreshToken, aad(connectionId, 'refresh')),
      accessExpiresAt: tokens.accessExpiresAt,
      refreshExpiresAt: tokens.refreshExpiresAt,
    };
  }

  private open(row: ConnectionRow, which: 'access' | 'refresh'): string {
    const sealed = which === 'access' ? row.accessToken : row.refreshToken;
    return this.cipher.decrypt(sealed, row.keyId, aad(row.id, which));
  }
}

/** Binds a ciphertext to its row and field: moved anywhere else, it no longer decrypts. */
const aad = (connectionId: string, which: 'access' | 'refresh') =>
  `connections/${connectionId}/${which}_token`;

function inBackoff(row: ConnectionRow, now: number): boolean {
  if (!row.refreshFailedAt || row.refreshFailures === 0) return false;
  const wait = Math.min(REFRESH_BACKOFF_MS * 2 ** (row.refreshFailures - 1), REFRESH_BACKOFF_CAP_MS);
  return now - row.refreshFailedAt.getTime() < wait;
}
