// Every setting the server reads, from the environment, validated once at start.
import { isIP } from 'node:net';
import path from 'node:path';
import { z } from 'zod';
import { DEFAULT_EXTENSION_IDS, redirectUrlFor } from '../protocol/extension-identity';
import { SHOWN_PERMISSIONS } from '../protocol/shown-permissions';
import { SMARTCAR_ORIGINS } from './smartcar/sdk';

/** What the popup shows, locking included. */
const DEFAULT_SCOPE: string[] = [...SHOWN_PERMISSIONS];
/**
 * API v3 names the user on every call; `GET /v2.0/user` with the grant's own token is how Smartcar
 * proves whose grant it is (the redirect's `user_id` is only a claim), and it needs this permission.
 */
const PROOF_OF_USER = 'read_user_profile';

const list = (value: string | undefined, separator: RegExp) =>
  (value ?? '')
    .split(separator)
    .map((item) => item.trim())
    .filter(Boolean);

const Env = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8787),
  HOST: z.string().default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SMARTCAR_CLIENT_ID: z.string().min(1),
  SMARTCAR_CLIENT_SECRET: z.string().min(1),
  SMARTCAR_MODE: z.enum(['test', 'live', 'simulated']).default('test'),
  SMARTCAR_SCOPE: z.string().optional(),
  // 2.0: a token pair per connection, batch reads; 3: one application token, reads by signal.
  SMARTCAR_API_VERSION: z.enum(['2.0', '3']).default('2.0'),
  SMARTCAR_ORIGIN: z.url().optional(),
  SMARTCAR_CONNECT_ORIGIN: z.url().optional(),
  SMARTCAR_AUTH_ORIGIN: z.url().optional(),
  SMARTCAR_IAM_ORIGIN: z.url().optional(),
  SMARTCAR_API_ORIGIN: z.url().optional(),
  SMARTCAR_API_V3_ORIGIN: z.url().optional(),
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
  TRUST_PROXY: z.string().optional(),
  // Sessions are renewed at most once an hour (accounts/sessions.ts): a shorter idle time would end
  // sessions in use.
  SESSION_IDLE_DAYS: z.coerce
    .number()
    .min(1 / 24, 'must be at least an hour (1/24 of a day), as a session is renewed once an hour')
    .default(30),
  SESSION_MAX_DAYS: z.coerce.number().positive().default(180),
  MAINTENANCE_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(3600),
  // Smartcar asks for fewer than 20 requests per vehicle per hour: a read of 5 figures every 15 minutes.
  VEHICLE_DATA_MAX_AGE_SECONDS: z.coerce.number().int().min(0).default(900),
});

export type Config = ReturnType<typeof loadConfig>;

/** Every variable the server reads; the README's configuration table is checked against it. */
export const SERVER_VARIABLES = Object.keys(Env.shape);

/** A setting is missing or wrong: the person starting the server can fix it, no stack trace needed. */
export class ConfigError extends Error {}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Which proxies may tell the client's address in X-Forwarded-For: a hop count, or their addresses
 * and CIDR ranges (as Fastify's `trustProxy` takes them). Never `true`: then every client could
 * write its own address and slip past the per-address limits.
 */
function parseTrustProxy(value: string | undefined): false | number | string[] {
  if (value === undefined || value === '' || value === 'false') return false;
  if (value === 'true') {
    throw new ConfigError(
      'TRUST_PROXY=true would let any client choose its own address. Give the number of proxies in ' +
        'front of the server (e.g. 1) or their addresses (e.g. 10.0.0.0/8,192.168.1.5).',
    );
  }
  if (/^\d+$/.test(value)) return Number(value);
  const entries = list(value, /,/);
  const invalid = entries.filter((entry) => {
    const [address = '', prefix, ...rest] = entry.split('/');
    const version = isIP(address);
    if (version === 0 || rest.length > 0) return true;
    if (prefix === undefined) return false;
    return !/^\d+$/.test(prefix) || Number(prefix) > (version === 4 ? 32 : 128);
  });
  if (invalid.length > 0) {
    throw new ConfigError(`TRUST_PROXY: not a hop count, an address or a CIDR range: ${invalid.join(', ')}.`);
  }
  const wide = entries.filter((entry) => {
    const [address = '', prefix] = entry.split('/');
    if (prefix === undefined) return false;
    // An IPv4-mapped IPv6 range (`::ffff:0.0.0.0/96`) matches IPv4 clients: its width is IPv4's.
    if (/^::ffff:/i.test(address)) return Number(prefix) - 96 < WIDEST_PROXY_PREFIX[4];
    return Number(prefix) < WIDEST_PROXY_PREFIX[isIP(address) === 4 ? 4 : 6];
  });
  if (wide.length > 0) {
    throw new ConfigError(
      `TRUST_PROXY: ${wide.join(', ')} would trust clients, not proxies: a proxy range is /8 (IPv4) or /32 (IPv6) at the widest.`,
    );
  }
  return entries;
}

/** The widest CIDR range a load balancer's addresses need; anything wider takes in clients too. */
const WIDEST_PROXY_PREFIX = { 4: 8, 6: 32 };

/** Chrome's extension IDs (32 letters a to p) and Firefox's add-on IDs (`name@domain` or a `{GUID}`). */
const EXTENSION_ID = /^(?:[a-p]{32}|[\w.+-]*@[\w.-]+|\{[0-9a-fA-F-]{36}\})$/;

/**
 * The extension IDs allowed to connect: the development ones when unset. A list with no ID or a
 * malformed one is refused, not read as "none" (Firefox's origins would still pass CORS).
 */
function parseExtensionIds(value: string | undefined): string[] {
  if (!value) return DEFAULT_EXTENSION_IDS;
  const ids = list(value, /,/);
  const invalid = ids.filter((id) => !EXTENSION_ID.test(id));
  if (ids.length === 0 || invalid.length > 0) {
    throw new ConfigError(
      `EXTENSION_IDS: ${ids.length === 0 ? 'no ID given' : `not an extension ID: ${invalid.join(', ')}`}. ` +
        'Give the 32-letter IDs of your published extension, comma-separated.',
    );
  }
  return ids;
}

/** A key that could not have come from `openssl rand -base64 32` is refused at start, by name. */
function checkKey(name: string, base64: string): void {
  const key = Buffer.from(base64, 'base64');
  const problem =
    key.length !== 32 || key.toString('base64') !== base64
      ? 'must be 32 bytes, base64-encoded'
      : new Set(key).size < 8
        ? 'is not random (too few different bytes)'
        : undefined;
  if (problem) throw new ConfigError(`${name} ${problem}: make one with \`openssl rand -base64 32\`.`);
}

export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return `${name}: ${env[name] === undefined ? 'not set' : issue.message}`;
    });
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const e = parsed.data;
  const extensionIds = parseExtensionIds(e.EXTENSION_IDS);
  const oldKeys = list(e.TOKEN_ENCRYPTION_OLD_KEYS, /,/);
  if (e.TOKEN_ENCRYPTION_KEY !== undefined) checkKey('TOKEN_ENCRYPTION_KEY', e.TOKEN_ENCRYPTION_KEY);
  for (const key of oldKeys) checkKey('TOKEN_ENCRYPTION_OLD_KEYS: a key', key);
  if (e.SESSION_MAX_DAYS < e.SESSION_IDLE_DAYS) {
    throw new ConfigError('SESSION_MAX_DAYS must be at least SESSION_IDLE_DAYS.');
  }
  const production = e.NODE_ENV === 'production';
  if (production && !e.TOKEN_ENCRYPTION_KEY) {
    throw new ConfigError('TOKEN_ENCRYPTION_KEY is required in production (32 random bytes, base64).');
  }
  // The development ID's key is public, so anyone could load an extension with that ID.
  if (production && !e.EXTENSION_IDS) {
    throw new ConfigError('EXTENSION_IDS is required in production: the IDs of your published extension.');
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
      apiVersion: e.SMARTCAR_API_VERSION,
      scope: e.SMARTCAR_SCOPE
        ? list(e.SMARTCAR_SCOPE, /\s+/)
        : e.SMARTCAR_API_VERSION === '3'
          ? [...DEFAULT_SCOPE, PROOF_OF_USER]
          : DEFAULT_SCOPE,
      // Each service where its own variable says, else where SMARTCAR_ORIGIN says (an emulator
      // serving them all), else Smartcar's.
      origins: {
        connect: e.SMARTCAR_CONNECT_ORIGIN ?? e.SMARTCAR_ORIGIN ?? SMARTCAR_ORIGINS.connect,
        auth: e.SMARTCAR_AUTH_ORIGIN ?? e.SMARTCAR_ORIGIN ?? SMARTCAR_ORIGINS.auth,
        iam: e.SMARTCAR_IAM_ORIGIN ?? e.SMARTCAR_ORIGIN ?? SMARTCAR_ORIGINS.iam,
        api: e.SMARTCAR_API_ORIGIN ?? e.SMARTCAR_ORIGIN ?? SMARTCAR_ORIGINS.api,
        apiV3: e.SMARTCAR_API_V3_ORIGIN ?? e.SMARTCAR_ORIGIN ?? SMARTCAR_ORIGINS.apiV3,
      },
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
      oldKeys,
    },
    extensionIds,
    allowedRedirectUris: new Set(extensionIds.map(redirectUrlFor)),
    rateLimitPerMinute: e.RATE_LIMIT_PER_MINUTE,
    trustProxy: parseTrustProxy(e.TRUST_PROXY),
    session: { idleMs: e.SESSION_IDLE_DAYS * DAY_MS, maxMs: e.SESSION_MAX_DAYS * DAY_MS },
    maintenanceIntervalMs: e.MAINTENANCE_INTERVAL_SECONDS * 1000,
  };
}
