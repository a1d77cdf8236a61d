// The extension's sessions: an opaque bearer token per user, stored only as a hash.
import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { Database } from './db';
import { sessions, users } from './db/schema';
import { unauthorized } from './errors';
import { hashToken, newOpaqueToken } from './tokens';

export interface Caller {
  userId: string;
  /** The bearer token the caller sent, echoed back so the extension keeps one session. */
  sessionToken: string;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,128})$/;

/**
 * How long a process trusts a session it has looked up. Another process's sign-out takes effect
 * here within this time; this process's own takes effect at once.
 */
export const SESSION_CACHE_MS = 5_000;

export class Sessions {
  private readonly known = new LRUCache<string, string>({ max: 10_000, ttl: SESSION_CACHE_MS });

  constructor(private readonly db: Database) {}

  /**
   * The caller's session, null when no Authorization header was sent; an unknown or malformed
   * session is an error, never a silent fallback to a new user.
   */
  async findCaller(request: FastifyRequest): Promise<Caller | null> {
    const header = request.headers.authorization;
    if (header === undefined) return null;
    const token = BEARER.exec(header)?.[1];
    if (!token) throw unauthorized();
    const tokenHash = hashToken(token);
    let userId = this.known.get(tokenHash);
    if (userId === undefined) {
      const [session] = await this.db
        .select({ userId: sessions.userId })
        .from(sessions)
        .where(eq(sessions.tokenHash, tokenHash));
      if (!session) throw unauthorized();
      userId = session.userId;
      this.known.set(tokenHash, userId);
    }
    return { userId, sessionToken: token };
  }

  async requireCaller(request: FastifyRequest): Promise<Caller> {
    const caller = await this.findCaller(request);
    if (!caller) throw unauthorized();
    return caller;
  }

  /** Creates a user and its first session, inside the caller's transaction. */
  async createUserWithSession(tx: Database): Promise<Caller> {
    const [user] = await tx.insert(users).values({}).returning({ id: users.id });
    if (!user) throw new Error('Inserting a user returned no row.');
    const sessionToken = newOpaqueToken();
    await tx.insert(sessions).values({ tokenHash: hashToken(sessionToken), userId: user.id });
    return { userId: user.id, sessionToken };
  }

  /** Forgets a signed-out session in this process at once. */
  forget(caller: Caller): void {
    this.known.delete(hashToken(caller.sessionToken));
  }
}
