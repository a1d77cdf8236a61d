// A store for @fastify/rate-limit that keeps its counters in the database, so several server
// processes behind a load balancer share one limit per client.
import type { FastifyRateLimitStore } from '@fastify/rate-limit';
import { sql } from 'drizzle-orm';
import type { Database } from './db';
import { rateLimits } from './db/schema';

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

export function databaseRateLimitStore(db: Database) {
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

    /** Keys already name their route (see `app.ts`), so a route needs no store of its own. */
    child(): FastifyRateLimitStore {
      return this;
    }
  };
}
