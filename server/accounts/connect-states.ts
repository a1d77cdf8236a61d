// Connect's `state`: single-use, expires after ten minutes, bound to the redirect URI it was
// made for, to the caller's user if any, and to the extension origin that asked for it (one per
// installation in Firefox). Smartcar's codes are not bound to a state (no PKCE): see the README's
// Security section for what this does and does not prevent.
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import { isForeignKeyViolation, type Database } from '../db';
import { connectStates } from '../db/schema';
import { unauthorized } from '../http/api-errors';
import { hashToken, newOpaqueToken } from './opaque-tokens';

export const STATE_LIFETIME_MS = 10 * 60 * 1000;

export async function createConnectState(
  db: Database,
  binding: { redirectUri: string; userId: string | null; origin: string | null },
  now: Date,
): Promise<string> {
  const state = newOpaqueToken();
  await db.delete(connectStates).where(lt(connectStates.expiresAt, now));
  try {
    await db.insert(connectStates).values({
      stateHash: hashToken(state),
      redirectUri: binding.redirectUri,
      userId: binding.userId,
      origin: binding.origin,
      expiresAt: new Date(now.getTime() + STATE_LIFETIME_MS),
    });
  } catch (error) {
    // The caller signed out on another process since its session was checked.
    if (isForeignKeyViolation(error)) throw unauthorized();
    throw error;
  }
  return state;
}

/**
 * Deletes and returns the state's binding; undefined if it is unknown, used, expired, or asked for
 * by another user or from another extension origin (then it stays usable by its owner).
 */
export async function consumeConnectState(
  db: Database,
  state: string,
  caller: { userId: string | null; origin: string | null },
  now: Date,
) {
  const [binding] = await db
    .delete(connectStates)
    .where(
      and(
        eq(connectStates.stateHash, hashToken(state)),
        gt(connectStates.expiresAt, now),
        caller.userId === null ? isNull(connectStates.userId) : eq(connectStates.userId, caller.userId),
        caller.origin === null ? isNull(connectStates.origin) : eq(connectStates.origin, caller.origin),
      ),
    )
    .returning({ redirectUri: connectStates.redirectUri });
  return binding;
}
