// Connect's `state`: single-use, expires after ten minutes, bound to the redirect URI it was
// made for and to the caller's user, if any.
import { and, eq, gt, lt } from 'drizzle-orm';
import type { Database } from './db';
import { connectStates } from './db/schema';
import { hashToken, newOpaqueToken } from './tokens';

export const STATE_LIFETIME_MS = 10 * 60 * 1000;

export async function createConnectState(
  db: Database,
  binding: { redirectUri: string; userId: string | null },
): Promise<string> {
  const state = newOpaqueToken();
  const now = new Date();
  await db.delete(connectStates).where(lt(connectStates.expiresAt, now));
  await db.insert(connectStates).values({
    stateHash: hashToken(state),
    redirectUri: binding.redirectUri,
    userId: binding.userId,
    expiresAt: new Date(now.getTime() + STATE_LIFETIME_MS),
  });
  return state;
}

/** Deletes and returns the state's binding; undefined if it is unknown, used or expired. */
export async function consumeConnectState(db: Database, state: string) {
  const [binding] = await db
    .delete(connectStates)
    .where(and(eq(connectStates.stateHash, hashToken(state)), gt(connectStates.expiresAt, new Date())))
    .returning({ redirectUri: connectStates.redirectUri, userId: connectStates.userId });
  return binding;
}
