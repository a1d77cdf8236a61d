// Periodic upkeep, in every server process: renew refresh tokens before their 60 days run out and
// drop expired Connect states and rate-limit counters. Each step is safe to run concurrently.
import { lt } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Database } from './db';
import { connectStates, rateLimits } from './db/schema';
import type { TokenVault } from './vault/token-vault';

export async function runMaintenance(db: Database, vault: TokenVault, log: FastifyBaseLogger): Promise<void> {
  const now = new Date();
  await db.delete(connectStates).where(lt(connectStates.expiresAt, now));
  await db.delete(rateLimits).where(lt(rateLimits.resetAt, now));
  const { renewed, failed } = await vault.renewExpiringRefreshTokens();
  if (renewed + failed > 0) log.info({ renewed, failed }, 'renewed refresh tokens nearing expiry');
}

/** Runs maintenance now and then every `intervalMs`; the returned function stops it. */
export function scheduleMaintenance(
  db: Database,
  vault: TokenVault,
  log: FastifyBaseLogger,
  intervalMs: number,
): () => void {
  const run = () => {
    runMaintenance(db, vault, log).catch((error: unknown) => {
      log.error({ err: error }, 'maintenance failed');
    });
  };
  const first = setTimeout(run, 1_000).unref();
  const timer = setInterval(run, intervalMs).unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
