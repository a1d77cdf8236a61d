// Rate limits for the routes that start work upstream: per client address and per session, with
// the counters in the database so several server processes behind a load balancer share them.
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hashToken } from '../accounts/opaque-tokens';
import type { Database } from '../db';
import { rateLimits } from '../db/schema';
import type { Clock } from '../lib/clock';
import { tooManyAttempts } from './api-errors';

/** Lock and unlock per vehicle and session: a person never needs more than a few a minute. */
export const COMMANDS_PER_MINUTE = 3;

type RateLimitHook = (request: FastifyRequest) => Promise<void>;

/** The hooks limited routes run first (`onRequest`). */
export interface RateLimitHooks {
  /** Per client address and per session: routes that start work upstream. */
  limited: RateLimitHook;
  /** Lock and unlock: per vehicle too. */
  commandLimited: RateLimitHook;
}

/**
 * Registers the plugin and answers the hooks limited routes run first: `limited` throws a 429 once
 * the caller's address, or its session, went over `perMinute` requests in a minute; `commandLimited`
 * also once a vehicle got `COMMANDS_PER_MINUTE` commands from one session.
 */
export async function createRateLimiter(
  app: FastifyInstance,
  db: Database,
  perMinute: number,
  clock: Clock,
): Promise<RateLimitHooks> {
  await app.register(rateLimit, { global: false, store: databaseRateLimitStore(db, clock) });
  const window = { max: perMinute, timeWindow: 60_000 };
  const perAddress = app.createRateLimit({
    ...window,
    keyGenerator: (request) => `${request.routeOptions.url ?? ''} address ${request.ip}`,
  });
  // Shared by the limited routes: a session cannot get around its limit by changing address.
  const perSession = app.createRateLimit({
    ...window,
    keyGenerator: (request) => `session ${sessionKey(request)}`,
  });
  const perVehicle = app.createRateLimit({
    max: COMMANDS_PER_MINUTE,
    timeWindow: 60_000,
    keyGenerator: (request) => `command ${sessionKey(request)} ${vehicleIdOf(request)}`,
  });
  // The address is checked first, and the other keys only for requests it lets through, so a
  // client sending a new Authorization header each time adds no counter past its address limit.
  const check = async (request: FastifyRequest, others: (typeof perAddress)[]) => {
    for (const limit of [perAddress, ...others]) {
      const result = await limit(request);
      if (!result.isAllowed && result.isExceeded) {
        throw tooManyAttempts(result.ttlInSeconds);
      }
    }
  };
  const withSession = (request: FastifyRequest) =>
    request.headers.authorization === undefined ? [] : [perSession];
  return {
    limited: (request) => check(request, withSession(request)),
    commandLimited: (request) => check(request, [...withSession(request), perVehicle]),
  };
}

const sessionKey = (request: FastifyRequest) => hashToken(request.headers.authorization ?? '');

const vehicleIdOf = (request: FastifyRequest) => {
  const { id } = request.params as { id?: unknown };
  return hashToken(typeof id === 'string' ? id : '');
};

type Callback = (error: Error | null, result?: { current: number; ttl: number }) => void;

function databaseRateLimitStore(db: Database, clock: Clock) {
  return class DatabaseRateLimitStore implements FastifyRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number): void {
      const now = sql`${clock.now().toISOString()}::timestamptz`;
      // One statement: counts up, or starts a new window once the old one has passed.
      db.insert(rateLimits)
        .values({
          key,
          count: 1,
          resetAt: sql`${now} + ${timeWindow} * interval '1 millisecond'`,
        })
        .onConflictDoUpdate({
          target: rateLimits.key,
          set: {
            count: sql`case when ${rateLimits.resetAt} <= ${now} then 1 else ${rateLimits.count} + 1 end`,
            resetAt: sql`case when ${rateLimits.resetAt} <= ${now} then excluded.reset_at else ${rateLimits.resetAt} end`,
          },
        })
        .returning({
          current: rateLimits.count,
          // Capped to an int: a window that seems months away (the clock stepped back) must not overflow it.
          ttl: sql<number>`least(greatest(0, ceil(extract(epoch from (${rateLimits.resetAt} - ${now})) * 1000)), 2147483647)::int`,
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
