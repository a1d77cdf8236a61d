// Periodic upkeep, in every server process: retry refreshes whose answer was lost, renew refresh
// tokens before their 60 days run out, drop expired Connect states, sessions and rate-limit
// counters, and sign out users whose sessions have all ended (their Smartcar grants are revoked
// and their tokens deleted: nobody can use them any more). Each step is safe to run concurrently.
import { lt } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { connectStates, rateLimits } from '../db/schema';
import { SingleFlight } from '../../utils/single-flight';
import type { ServerParts } from '../wiring';

type Parts = Pick<ServerParts, 'clock' | 'database' | 'vault' | 'sessions' | 'disconnects'>;

/** Signing out revokes each vehicle at Smartcar; a run does this many users, the next run the rest. */
const ENDED_USERS_PER_RUN = 100;

async function runMaintenance(
  { clock, database: { db }, vault, sessions, disconnects }: Parts,
  log: FastifyBaseLogger,
): Promise<void> {
  const now = clock.now();
  await db.delete(connectStates).where(lt(connectStates.expiresAt, now));
  await db.delete(rateLimits).where(lt(rateLimits.resetAt, now));
  await sessions.deleteEnded();
  const ended = await sessions.usersWithoutSession(ENDED_USERS_PER_RUN);
  for (const userId of ended) await disconnects.signOut(userId);
  if (ended.length > 0) log.info({ users: ended.length }, 'signed out users whose sessions ended');
  const { renewed, failed } = await vault.renewExpiringRefreshTokens();
  if (renewed + failed > 0) log.info({ renewed, failed }, 'renewed refresh tokens nearing expiry');
}

/**
 * How often each process looks for refreshes whose answer was lost: several times inside the
 * minute Smartcar keeps a used refresh token valid (token-vault.ts).
 */
const RECOVERY_INTERVAL_MS = 2_000;

/** Runs maintenance now and then every `intervalMs`; the returned function stops it. */
export function scheduleMaintenance(parts: Parts, log: FastifyBaseLogger, intervalMs: number): () => void {
  // A run that calls Smartcar can outlast the interval; the next one joins it, not runs beside it.
  const running = new SingleFlight<void>();
  const run = () => {
    void running.run('maintenance', () =>
      runMaintenance(parts, log).catch((error: unknown) => {
        log.error({ err: error }, 'maintenance failed');
      }),
    );
  };
  const recover = () => {
    parts.vault.recoverLostRefreshes().catch((error: unknown) => {
      log.error({ err: error }, 'retrying lost refreshes failed');
    });
  };
  const first = setTimeout(run, 1_000).unref();
  const timer = setInterval(run, intervalMs).unref();
  const recovery = setInterval(recover, RECOVERY_INTERVAL_MS).unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
    clearInterval(recovery);
  };
}
