// Every setting the server reads, from the environment, validated once at start.
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_EXTENSION_IDS, redirectUrlFor } from '../protocol/extension-identity';
import { SHOWN_PERMISSIONS } from '../protocol/permissions';

/** What the popup shows, locking included; DESIGN.md "Configuration". */
const DEFAULT_SCOPE: string[] = [...SHOWN_PERMISSIONS];

const list = (value: string | undefined, separator: RegExp) =>
  (value ?? '')
    .split(separator)
    .map((item) => item.trim())
    .filter(Boolean);

const Env = z.object({
  NODE_ENV: z.string().default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SMARTCAR_CLIENT_ID: z.string().min(1),
  SMARTCAR_CLIENT_SECRET: z.string().min(1),
  SMARTCAR_MODE: z.enum(['test', 'live', 'simulated']).default('test'),
  SMARTCAR_SCOPE: z.string().optional(),
  SMARTCAR_AUTH_ORIGIN: z.url().optional(),
  SMARTCAR_API_ORIGIN: z.url().optional(),
  // Smartcar answers a vehicle request in 3-45 s on average and up to 300 s; its SDK waits 310 s.
  SMARTCAR_TIMEOUT_MS: z.coerce.number().int().min(100).default(310_000),
  SMARTCAR_REQUEST_BUDGET: z.coerce.number().int().min(1).default(500),
  SMARTCAR_CONCURRENCY: z.coerce.number().int().min(1).default(8),
  SMARTCAR_WAIT_SECONDS: z.coerce.number().min(0).max(60).default(15),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL')
    .optional(),
  DATA_DIR: z.string().default('data'),
  TOKEN_ENCRYPTION_KEY: z.string().optional(),
  TOKEN_ENCRYPTION_OLD_KEYS: z.string().optional(),
  EXTENSION_IDS: z.string().optional(),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(20),
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  MAINTENANCE_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3600),
  // Smartcar asks for fewer than 20 requests per vehicle per hour: a read of 5 figures every 15 minutes.
  VEHICLE_DATA_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(900),
});

export type Config = ReturnType<typeof loadConfig>;

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const extensionIds = e.EXTENSION_IDS ? list(e.EXTENSION_IDS, /,/) : DEFAULT_EXTENSION_IDS;
  const production = e.NODE_ENV === 'production';
  if (production && !e.TOKEN_ENCRYPTION_KEY) {
    throw new Error('TOKEN_ENCRYPTION_KEY is required in production (32 random bytes, base64).');
  }
  return {
    production,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    smartcar: {
      clientId: e.SMARTCAR_CLIENT_ID,
      clientSecret: e.SMARTCAR_CLIENT_SECRET,
      mode: e.SMARTCAR_MODE,
      scope: e.SMARTCAR_SCOPE ? list(e.SMARTCAR_SCOPE, /\s+/) : DEFAULT_SCOPE,
      authOrigin: e.SMARTCAR_AUTH_ORIGIN,
      apiOrigin: e.SMARTCAR_API_ORIGIN,
      timeoutMs: e.SMARTCAR_TIMEOUT_MS,
    },
    reads: {
      /** Billed requests per vehicle per calendar month (UTC) that reads and commands stay within. */
      budget: e.SMARTCAR_REQUEST_BUDGET,
      /** Smartcar calls in flight at once in this process; more wait their turn. */
      concurrency: e.SMARTCAR_CONCURRENCY,
      /** How long a request the person waits on (a connect, a lock) waits for Smartcar before answering that it is under way. */
      waitMs: e.SMARTCAR_WAIT_SECONDS * 1000,
      /** Automatic reads of a vehicle are never closer together than this, whatever the budget allows. */
      minIntervalMs: e.VEHICLE_DATA_MAX_AGE_SECONDS * 1000,
    },
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    encryption: {
      key: e.TOKEN_ENCRYPTION_KEY,
      oldKeys: list(e.TOKEN_ENCRYPTION_OLD_KEYS, /,/),
    },
    extensionIds,
    allowedRedirectUris: new Set(extensionIds.map(redirectUrlFor)),
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    trustProxy: e.TRUST_PROXY === 'true',
    maintenanceIntervalMs: e.MAINTENANCE_INTERVAL_SECONDS * 1000,
  };
}
