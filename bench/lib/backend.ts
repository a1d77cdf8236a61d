// The back ends the server figures run against, each in its own process: the emulator, our
// server (embedded database or PostgreSQL) and the tutorial-shaped baseline.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEV_CLIENT, completeConnect } from '../../emulator';
import { apiClient, EXTENSION_ORIGIN } from '../../tests/support/api-client';
import { createTestDatabase } from '../../tests/support/postgres';
import { freePort, startChild, type ChildServer } from './processes';

export type DatabaseKind = 'embedded' | 'postgres';
export const DATABASE_KINDS: DatabaseKind[] = ['embedded', 'postgres'];
export const DATABASE_LABEL: Record<DatabaseKind, string> = {
  embedded: 'embedded (PGlite)',
  postgres: 'PostgreSQL',
};

/** A GET the load generator repeats, with what it takes to be answered 200. */
export interface Endpoint {
  url: string;
  headers: Record<string, string>;
}

/**
 * The emulator answering at once and without Smartcar's limits: the figures measure our server, and
 * the load generator makes far more requests than Smartcar's buckets allow. Its state stays in
 * memory, so no run starts from another's (or from `npm start`'s).
 */
export async function startEmulatorProcess(): Promise<ChildServer> {
  const port = await freePort();
  const emulator = await startChild({
    entry: 'emulator/main.ts',
    env: {
      EMULATOR_PORT: String(port),
      EMULATOR_CONTROL: '1',
      EMULATOR_LATENCY: 'instant',
      EMULATOR_STATE_FILE: 'none',
    },
    port,
    readyPath: '/__emulator/calls',
  });
  const limits = await fetch(`${emulator.url}/__emulator/limits`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      appBucketSize: null,
      vehicleRequestsPerWindow: null,
      monthlyRequestsPerVehicle: null,
    }),
  });
  if (!limits.ok) throw new Error(`the emulator refused to lift its limits: ${limits.status}`);
  return emulator;
}

/** Every Smartcar service on the emulator: SMARTCAR_ORIGIN for our server, the SDK's own two for the baseline. */
const smartcarEnv = (emulatorOrigin: string) => ({
  SMARTCAR_CLIENT_ID: DEV_CLIENT.clientId,
  SMARTCAR_CLIENT_SECRET: DEV_CLIENT.clientSecret,
  SMARTCAR_ORIGIN: emulatorOrigin,
  SMARTCAR_API_ORIGIN: emulatorOrigin,
  SMARTCAR_AUTH_ORIGIN: emulatorOrigin,
});

/** Where a server keeps its data: a fresh data folder, and a throwaway PostgreSQL database if asked. */
export interface ServerData {
  database: DatabaseKind;
  env: Record<string, string>;
  remove(): Promise<void>;
}

export async function createServerData(database: DatabaseKind): Promise<ServerData> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'car-connect-bench-'));
  const postgres = database === 'postgres' ? await createTestDatabase() : undefined;
  return {
    database,
    env: { DATA_DIR: dataDir, ...(postgres ? { DATABASE_URL: postgres.url } : {}) },
    remove: async () => {
      await rm(dataDir, { recursive: true, force: true });
      await postgres?.drop();
    },
  };
}

/**
 * Our server as `npm run server` runs it, on the given data (created on first start, reused on a
 * restart). Data stays fresh for a day so reads never go upstream.
 */
export async function startServerProcess(emulatorOrigin: string, data: ServerData): Promise<ChildServer> {
  const port = await freePort();
  return startChild({
    entry: 'server/main.ts',
    env: {
      ...smartcarEnv(emulatorOrigin),
      ...data.env,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '1000000',
      VEHICLE_DATA_MAX_AGE_SECONDS: '86400',
    },
    port,
    readyPath: '/readyz',
    // A first start on the embedded database runs initdb inside WASM: allow it time.
    timeoutMs: 60_000,
  });
}

export async function startBaselineProcess(emulatorOrigin: string): Promise<ChildServer> {
  const port = await freePort();
  return startChild({
    entry: 'bench/baseline/server.ts',
    env: {
      ...smartcarEnv(emulatorOrigin),
      SMARTCAR_REDIRECT_URI: 'https://example.com/auth',
      PORT: String(port),
    },
    port,
    readyPath: '/healthz',
  });
}

/** Connects vehicles through our server as the extension does; returns the popup's refresh request. */
export async function connectToServer(serverUrl: string): Promise<Endpoint> {
  const { session } = await apiClient(serverUrl).connectVehicles();
  return {
    url: `${serverUrl}/api/vehicles`,
    headers: { origin: EXTENSION_ORIGIN, authorization: `Bearer ${session}` },
  };
}

/** Walks the tutorial's /login and /exchange; returns its vehicle request. */
export async function connectToBaseline(baselineUrl: string): Promise<Endpoint> {
  const login = await fetch(`${baselineUrl}/login`, { redirect: 'manual' });
  const authUrl = login.headers.get('location');
  if (!authUrl) throw new Error(`baseline /login did not redirect (${login.status})`);
  const redirect = await completeConnect(authUrl);
  const code = redirect.searchParams.get('code') ?? '';
  const exchange = await fetch(`${baselineUrl}/exchange?code=${encodeURIComponent(code)}`);
  if (!exchange.ok) throw new Error(`baseline /exchange failed (${exchange.status})`);
  return { url: `${baselineUrl}/vehicle`, headers: {} };
}
