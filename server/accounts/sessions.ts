// The extension's sessions: an opaque bearer token per user, stored only as a hash. A session ends
// when unused for the idle lifetime or, used or not, after the absolute lifetime.
//
// Every request looks its session up in the database (one primary-key read), so a sign-out on any
// server process takes effect on all of them at once; no process keeps a copy that could outlive it.
import { eq, lt, notExists, or } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { Database } from '../db';
import { sessions, users } from '../db/schema';
import { sessionExpired, unauthorized } from '../http/api-errors';
import type { Clock } from '../lib/clock';
import { hashToken, newOpaqueToken } from './opaque-tokens';

export interface Caller {
  userId: string;
  /** The bearer token the caller sent, echoed back so the extension keeps one session. */
  sessionToken: string;
  /** The user's `vehicles_version` when the session was looked up. */
  vehiclesVersion: number;
}

export interface SessionLifetime {
  /** A session unused this long has ended. */
  idleMs: number;
  /** A session this old has ended, however often it was used. */
  maxMs: number;
}

const BEARER = /^Bearer ([A-Za-z0-9_-]{1,128})$/;

/** Renewing the idle lifetime is a write: do it at most this often per session, not per request. */
const SESSION_RENEWAL_MS = 60 * 60 * 1000;

export class Sessions {
  constructor(
    private readonly db: Database,
    private readonly lifetime: SessionLifetime,
    private readonly clock: Clock,
  ) {}

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
    const [session] = await this.db
      .select({
        userId: sessions.userId,
        createdAt: sessions.createdAt,
        lastUsedAt: sessions.lastUsedAt,
        vehiclesVersion: users.vehiclesVersion,
      })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(eq(sessions.tokenHash, tokenHash));
    if (!session) throw unauthorized();
    const now = this.clock.now().getTime();
    if (
      now - session.lastUsedAt.getTime() >= this.lifetime.idleMs ||
      now - session.createdAt.getTime() >= this.lifetime.maxMs
    ) {
      await this.db.delete(sessions).where(eq(sessions.tokenHash, tokenHash));
      throw sessionExpired();
    }
    if (now - session.lastUsedAt.getTime() >= SESSION_RENEWAL_MS) {
      await this.db
        .update(sessions)
        .set({ lastUsedAt: new Date(now) })
        .where(eq(sessions.tokenHash, tokenHash));
    }
    return { userId: session.userId, sessionToken: token, vehiclesVersion: session.vehiclesVersion };
  }

  async requireCaller(request: FastifyRequest): Promise<Caller> {
    const caller = await this.findCaller(request);
    if (!caller) throw unauthorized();
    return caller;
  }

  /** Creates a user and its first session, inside the caller's transaction. */
  async createUserWithSession(tx: Database): Promise<Caller> {
    const [user] = await tx
      .insert(users)
      .values({})
      .returning({ id: users.id, vehiclesVersion: users.vehiclesVersion });
    if (!user) throw new Error('Inserting a user returned no row.');
    const sessionToken = newOpaqueToken();
    const now = this.clock.now();
    await tx
      .insert(sessions)
      .values({ tokenHash: hashToken(sessionToken), userId: user.id, createdAt: now, lastUsedAt: now });
    return { userId: user.id, sessionToken, vehiclesVersion: user.vehiclesVersion };
  }

  /** Users whose every session has ended: nobody can reach their vehicles any more (maintenance). */
  async usersWithoutSession(limit: number): Promise<string[]> {
    const rows = await this.db
      .select({ id: users.id })
      .from(users)
      .where(notExists(this.db.select().from(sessions).where(eq(sessions.userId, users.id))))
      .limit(limit);
    return rows.map((row) => row.id);
  }

  /** Deletes sessions that have ended (maintenance). */
  async deleteEnded(): Promise<void> {
    const now = this.clock.now().getTime();
    await this.db
      .delete(sessions)
      .where(
        or(
          lt(sessions.lastUsedAt, new Date(now - this.lifetime.idleMs)),
          lt(sessions.createdAt, new Date(now - this.lifetime.maxMs)),
        ),
      );
  }
}
