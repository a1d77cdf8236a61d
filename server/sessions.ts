import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
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
 * The caller's session, null when no Authorization header was sent; an unknown or malformed
 * session is an error, never a silent fallback to a new user.
 */
export async function findCaller(db: Database, request: FastifyRequest): Promise<Caller | null> {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const token = BEARER.exec(header)?.[1];
  if (!token) throw unauthorized();
  const [session] = await db
    .select({ userId: sessions.userId })
    .from(sessions)
    .where(eq(sessions.tokenHash, hashToken(token)));
  if (!session) throw unauthorized();
  return { userId: session.userId, sessionToken: token };
}

export async function requireCaller(db: Database, request: FastifyRequest): Promise<Caller> {
  const caller = await findCaller(db, request);
  if (!caller) throw unauthorized();
  return caller;
}

/** Creates a user and its first session, inside the caller's transaction. */
export async function createUserWithSession(db: Database): Promise<Caller> {
  const [user] = await db.insert(users).values({}).returning({ id: users.id });
  if (!user) throw new Error('Inserting a user returned no row.');
  const sessionToken = newOpaqueToken();
  await db.insert(sessions).values({ tokenHash: hashToken(sessionToken), userId: user.id });
  return { userId: user.id, sessionToken };
}
