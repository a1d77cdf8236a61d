// The whole back end for a test: the emulator and the server on real sockets, the server on a
// real database in a fresh folder (or PostgreSQL), every log line kept for leak checks.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { startEmulator, type Emulator, type Limits } from '../../emulator';
import {
  DEV_EXTENSION_ID,
  GECKO_ID,
  chromeRedirectUrl,
  firefoxRedirectUrl,
} from '../../protocol/extension-identity';
import { buildApp } from '../../server/http/app';
import { loadConfig } from '../../server/config';
import { createTestDatabase } from './postgres';
import { TestClock } from './test-clock';
import { startTokenProxy, type TokenProxy } from './token-proxy';

export const TEST_CLIENT = {
  clientId: 'test-client-id',
  clientSecret: 'test-client-secret',
  redirectUris: [chromeRedirectUrl(DEV_EXTENSION_ID), firefoxRedirectUrl(GECKO_ID)],
};

export interface Stack {
  serverUrl: string;
  emulator: Emulator;
  /** Between the server and the emulator's token endpoint, when asked for. */
  tokenProxy: TokenProxy | undefined;
  /** The server's and the emulator's clock: a test holds or moves it to move their time. */
  clock: TestClock;
  /** The server's data folder: the embedded database and nothing else. */
  dataDir: string;
  /** The PostgreSQL database of this stack alone, when it runs on one; dropped by `close`. */
  databaseUrl: string | undefined;
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** Everything the server logged so far, one JSON line per entry. */
  logs(): string;
  close(): Promise<void>;
}

export interface StackOptions {
  /** The embedded database (default), or a fresh PostgreSQL database of the stack's own. */
  database?: 'embedded' | 'postgresql';
  /** Fixed port (e2e builds bake the server URL in); any free port when omitted. */
  serverPort?: number;
  /** Extra server environment, e.g. DATABASE_URL or VEHICLE_DATA_MAX_AGE_SECONDS. */
  env?: Record<string, string>;
  /** Send the server's token calls through a `TokenProxy`, to lose answers on purpose. */
  tokenProxy?: boolean;
  /**
   * The emulator's rate limits and monthly allowance. Off unless a test asks: tests make far more
   * requests than Smartcar's buckets allow, and only the tests of the limits want them.
   */
  limits?: Partial<Limits>;
  /** The emulator's latency options (instant otherwise). */
  latency?: { vehicleLatencyMs?: number; latencyScale?: number };
}

/** Every emulator limit turned off, for tests that start the emulator themselves. */
export const NO_LIMITS: Partial<Limits> = {
  appBucketSize: null,
  vehicleRequestsPerWindow: null,
  monthlyRequestsPerVehicle: null,
};

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  // One clock for both sides, as on the real platform: moving it moves Smartcar's time too.
  const clock = new TestClock();
  const emulator = await startEmulator({
    now: () => clock.now().getTime(),
    control: true,
    clients: [TEST_CLIENT],
    limits: { ...NO_LIMITS, ...options.limits },
    ...options.latency,
  });
  const tokenProxy = options.tokenProxy ? await startTokenProxy(emulator.origin) : undefined;
  const postgres = options.database === 'postgresql' ? await createTestDatabase() : undefined;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'car-connect-test-'));
  let logText = '';
  const logStream = new PassThrough();
  logStream.on('data', (chunk: Buffer) => (logText += chunk.toString()));

  const config = loadConfig({
    SMARTCAR_CLIENT_ID: TEST_CLIENT.clientId,
    SMARTCAR_CLIENT_SECRET: TEST_CLIENT.clientSecret,
    SMARTCAR_ORIGIN: emulator.origin,
    SMARTCAR_AUTH_ORIGIN: tokenProxy?.origin ?? emulator.origin,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'debug',
    PORT: String(options.serverPort ?? 0),
    // Tests connect far more often than a person; the rate-limit test sets its own limit.
    RATE_LIMIT_PER_MINUTE: '10000',
    ...(postgres ? { DATABASE_URL: postgres.url } : {}),
    ...options.env,
  });

  let server: FastifyInstance | undefined;
  let port = config.port;
  const startServer = async () => {
    server = await buildApp(config, { logStream, clock });
    await server.listen({ host: config.host, port });
    const address = server.server.address();
    if (address && typeof address === 'object') port = address.port;
  };
  const stopServer = async () => {
    await server?.close();
    server = undefined;
  };
  await startServer();

  return {
    serverUrl: `http://${config.host}:${port}`,
    emulator,
    tokenProxy,
    clock,
    dataDir,
    databaseUrl: postgres?.url,
    startServer,
    stopServer,
    logs: () => logText,
    close: async () => {
      await stopServer();
      await tokenProxy?.close();
      await emulator.close();
      await rm(dataDir, { recursive: true, force: true });
      await postgres?.drop();
    },
  };
}
