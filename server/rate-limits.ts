// Rate limits for the routes that start work upstream: per client address and per session, with
// the counters in the database so several server processes behind a load balancer share them.
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Database } from './db';
import { rateLimits } from './db/schema';
import { ApiError } from './errors';
import { hashToken } from './tokens';

/**
 * Registers the plugin and answers the hook a limited route runs first: it throws a 429 once the
 * caller's address, or its session, went over `perMinute` requests in a minute.
 */
export async function createRateLimiter(app: FastifyInstance, db: Database, perMinute: number) {
  await app.register(rateLimit, { global: false, store: databaseRateLimitStore(db) });
  const window = { max: perMinute, timeWindow: 60_000 };
  const perAddress = app.createRateLimit({
    ...window,
    keyGenerator: (request) => `${request.routeOptions.url ?? ''} address ${request.ip}`,
  });
  // Shared by the limited routes: a session cannot get around its limit by changing address.
  const perSession = app.createRateLimit({
    ...window,
    keyGenerator: (request) => `session ${hashToken(request.headers.authorization ?? '')}`,
  });
  return async (request: FastifyRequest): Promise<void> => {
    const checks = [perAddress(request)];
    if (request.headers.authorization !== undefined) checks.push(perSession(request));
    for (const check of await Promise.all(checks)) {
      if (!check.isAllowed && check.isExceeded) {
        throw new ApiError(
          429,
          'rate_limited',
          'Too many attempts. Wait a minute, then try again.',
          check.ttlInSeconds,
        );
      }
    }
  };
}

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

function databaseRateLimitStore(db: Database) {
  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      // One statement: counts up, or starts a new window once the old one has passed.
      db.insert(rateLimits)
        .values({
          key,
          count: 1,
          resetAt: sql`now() + ${timeWindow} * interval '1 millisecond'`,
        })
        .onConflictDoUpdate({
          target: rateLimits.key,
          set: {
            count: sql`case when ${rateLimits.resetAt} <= now() then 1 else ${rateLimits.count} + 1 end`,
            resetAt: sql`case when ${rateLimits.resetAt} <= now() then excluded.reset_at else ${rateLimits.resetAt} end`,
          },
        })
        .returning({
          current: rateLimits.count,
          ttl: sql<number>`greatest(0, ceil(extract(epoch from (${rateLimits.resetAt} - now())) * 1000))::int`,
        })
        .then(
          ([row]) => {
            callback(null, row ?? { current: 1, ttl: timeWindow });
          },
          (error: unknown) => {
            callback(error instanceof Error ? error : new Error(String(error)));
          },
        );
    }

    /** Keys already name their route, so a route needs no store of its own. */
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
