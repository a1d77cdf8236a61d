// Keeps each connection's Smartcar tokens encrypted and fresh. A token is decrypted only to make
// a Smartcar call and never leaves this module except as the argument of that call.
import { eq } from 'drizzle-orm';
import type { Database } from '../db';
import { connections } from '../db/schema';
import { ApiError, notFound } from '../errors';
import { RefreshTokenRejected, type SmartcarGateway, type TokenSet } from '../smartcar';
import type { TokenCipher } from './cipher';

/** Refresh this long before the access token expires, so no call goes out with a dying token. */
export const REFRESH_MARGIN_MS = 5 * 60 * 1000;

type ConnectionRow = typeof connections.$inferSelect;

export const reconnectRequired = () =>
  new ApiError(409, 'reconnect_required', 'Smartcar access has ended for this vehicle. Connect it again.');

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

  /** A valid access token for the connection, refreshed first if it is about to expire. */
  async accessToken(connectionId: string): Promise<string> {
    const [row] = await this.db.select().from(connections).where(eq(connections.id, connectionId));
    if (!row) throw notFound('This connection');
    if (row.status !== 'active') throw reconnectRequired();
    if (isFresh(row)) return this.open(row, 'access');
    let pending = this.inFlight.get(connectionId);
    if (!pending) {
      pending = this.refreshUnderLock(connectionId).finally(() => this.inFlight.delete(connectionId));
      this.inFlight.set(connectionId, pending);
    }
    return pending;
  }

  private async refreshUnderLock(connectionId: string): Promise<string> {
    const outcome = await this.db.transaction(async (tx) => {
      // FOR UPDATE serialises refreshes across server processes; the rotated pair is committed
      // before the lock is released, so no process ever refreshes with a superseded token.
      const [row] = await tx.select().from(connections).where(eq(connections.id, connectionId)).for('update');
      if (!row) return { kind: 'gone' } as const;
      if (row.status !== 'active') return { kind: 'reconnect' } as const;
      if (isFresh(row)) return { kind: 'token', token: this.open(row, 'access') } as const;
      let tokens: TokenSet;
      try {
        tokens = await this.smartcar.refresh(this.open(row, 'refresh'));
      } catch (error) {
        if (!(error instanceof RefreshTokenRejected)) throw error;
        await tx
          .update(connections)
          .set({ status: 'reconnect_required', updatedAt: new Date() })
          .where(eq(connections.id, connectionId));
        return { kind: 'reconnect' } as const;
      }
      await tx
        .update(connections)
        .set({ ...this.seal(connectionId, tokens), refreshFailures: 0, updatedAt: new Date() })
        .where(eq(connections.id, connectionId));
      return { kind: 'token', token: tokens.accessToken } as const;
    });
    if (outcome.kind === 'gone') throw notFound('This connection');
    if (outcome.kind === 'reconnect') throw reconnectRequired();
    return outcome.token;
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

const isFresh = (row: ConnectionRow) => row.accessExpiresAt.getTime() - Date.now() > REFRESH_MARGIN_MS;
