// The server as separate processes, as it is deployed: several on one PostgreSQL share their
// refreshes, and a process killed mid-write leaves a consistent database behind.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator';
import { apiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { newEncryptionKey, startServerProcess, type ServerProcess } from '../support/server-process';
import { NO_LIMITS, TEST_CLIENT } from '../support/stack';
import { startTokenProxy, type TokenProxy } from '../support/token-proxy';
import { hashToken } from '../../server/accounts/opaque-tokens';
import journal from '../../server/db/migrations/meta/_journal.json';
import { expectEvery } from '../support/expect-every';

let emulator: Emulator;
const baseEnv = () => ({
  SMARTCAR_CLIENT_ID: TEST_CLIENT.clientId,
  SMARTCAR_CLIENT_SECRET: TEST_CLIENT.clientSecret,
  SMARTCAR_ORIGIN: emulator.origin,
  TOKEN_ENCRYPTION_KEY: newEncryptionKey(),
});

beforeAll(async () => {
  emulator = await startEmulator({ control: true, clients: [TEST_CLIENT], limits: NO_LIMITS });
});
afterAll(() => emulator.close());

describe('server processes on one PostgreSQL', () => {
  let servers: ServerProcess[] = [];
  let databaseUrl: string;
  let dropDatabase: () => Promise<void>;
  let proxy: TokenProxy;
  let env: Record<string, string>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    databaseUrl = database.url;
    dropDatabase = database.drop;
    proxy = await startTokenProxy(emulator.origin);
    env = {
      ...baseEnv(),
      SMARTCAR_AUTH_ORIGIN: proxy.origin,
      DATABASE_URL: database.url,
      VEHICLE_DATA_MAX_AGE_SECONDS: '0',
      // A short lease, so a refresh left behind by a killed process is taken over soon.
      SMARTCAR_TIMEOUT_MS: '3000',
    };
  });

  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await proxy.close();
    await dropDatabase();
  });

  it('start three at once on an empty database, migrating it once', async () => {
    servers = await Promise.all(Array.from({ length: 3 }, () => startServerProcess(env, undefined, 120_000)));
    const applied = await query<{ n: number }>(
      databaseUrl,
      'select count(*)::int as n from drizzle.__drizzle_migrations',
    );
    expect(applied[0]?.n).toBe(journal.entries.length);
    await servers.pop()?.stop();
  });

  it('refreshes an expired access token exactly once for 100 concurrent refresh requests', async () => {
    const [first, second] = servers.map((server) => apiClient(server.url));
    if (!first || !second) throw new Error('two servers expected');
    emulator.setTokenLifetimes({ accessTokenTtlSeconds: 60 });
    const { session } = await first.connectVehicles({ choices: { email: 'shared@example.com' } });
    emulator.setTokenLifetimes({ accessTokenTtlSeconds: 7200 });
    emulator.resetCalls();

    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        (i % 2 ? first : second).call('POST', '/api/vehicles/refresh', { session }),
      ),
    );

    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(100);
    const lists = [await first.settled(session), await second.settled(session)];
    expect(emulator.calls().byEndpoint['token.refresh_token']).toBe(1);
    expectEvery(
      lists.flatMap((list) => list.vehicles),
      (v) => v.status === 'connected',
    );
  });

  // The survivor takes the refresh over on its own, inside the minute Smartcar keeps the used
  // refresh token valid, although no request comes in.
  it.each(['sent', 'answered', 'delivered'] as const)(
    'keeps the grant when a process is killed with its refresh %s',
    async (step) => {
      const survivor = servers[0];
      if (!survivor) throw new Error('a running server expected');
      const doomed = await startServerProcess(env);
      emulator.setTokenLifetimes({ accessTokenTtlSeconds: 60 });
      const { session } = await apiClient(doomed.url).connectVehicles({
        choices: { email: `killed-${step}@example.com` },
      });
      emulator.setTokenLifetimes({ accessTokenTtlSeconds: 7200 });
      const requested = proxy.requested();
      const delivered = proxy.delivered();

      const reached = proxy.holdAt(step);
      void apiClient(doomed.url)
        .call('POST', '/api/vehicles/refresh', { session })
        .catch(() => undefined);
      await reached;
      await doomed.stop('SIGKILL');

      await vi.waitFor(
        async () => {
          const [row] = await query<{ status: string; attempted: string | null }>(
            databaseUrl,
            `select c.status, c.refresh_attempted_at as attempted from connections c
             join vehicles v on v.connection_id = c.id join sessions s on s.user_id = c.user_id
             where s.token_hash = $1 limit 1`,
            [hashToken(session)],
          );
          expect(row).toEqual({ status: 'active', attempted: null });
        },
        { timeout: 40_000, interval: 500 },
      );
      const list = await apiClient(survivor.url).settled(session);
      expect(list.vehicles.map((v) => v.status)).toEqual(list.vehicles.map(() => 'connected'));
      expect(list.vehicles.length).toBeGreaterThan(0);
      const ended = await query<{ n: number }>(
        databaseUrl,
        "select count(*)::int as n from connections where status = 'reconnect_required'",
      );
      expect(ended[0]?.n).toBe(0);
      console.info(
        `killed with the refresh ${step}: ${proxy.requested() - requested} refresh request(s), ` +
          `${proxy.delivered() - delivered} answered`,
      );
    },
    60_000,
  );
});

describe('graceful shutdown', () => {
  it('finishes a request in flight before exiting on SIGTERM', async () => {
    const server = await startServerProcess({ ...baseEnv(), VEHICLE_DATA_MAX_AGE_SECONDS: '0' });
    const api = apiClient(server.url);
    const { code, state } = await api.authorize({ choices: { email: 'graceful@example.com' } });
    // The exchange waits for Smartcar's token endpoint: a request in flight for a second.
    emulator.injectFault({ endpoint: 'token.authorization_code', delayMs: 1_000, times: 1 });
    const inFlight = api.call('POST', '/api/exchange', { body: { code, state } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stopped = server.stop('SIGTERM');
    const answer = await inFlight;
    await stopped;
    expect(answer.status).toBe(200);
    expect(server.child.exitCode).toBe(0);
    emulator.clearFaults();
  }, 120_000); // a first start on the embedded database (initdb in WASM) is slow on a busy machine
});

describe.each(['embedded', 'postgresql'] as const)('a server killed during 50 exchanges (%s)', (database) => {
  let env: Record<string, string>;
  let dataDir: string;
  let cleanUp: () => Promise<void>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'car-connect-kill-'));
    env = { ...baseEnv(), DATA_DIR: dataDir };
    cleanUp = () => rm(dataDir, { recursive: true, force: true });
    if (database === 'postgresql') {
      const db = await createTestDatabase();
      env.DATABASE_URL = db.url;
      cleanUp = async () => {
        await db.drop();
        await rm(dataDir, { recursive: true, force: true });
      };
    }
  });
  afterAll(() => cleanUp());

  it('leaves every connection complete or absent, and the restarted server works', async () => {
    let server = await startServerProcess(env);
    const api = apiClient(server.url);
    const grants = await Promise.all(
      Array.from({ length: 50 }, (_, i) => api.authorize({ choices: { email: `crash${i}@example.com` } })),
    );

    let answered = 0;
    const exchanges = grants.map(({ code, state }) =>
      api.call<{ session: string }>('POST', '/api/exchange', { body: { code, state } }).then(
        (answer) => {
          answered += 1;
          return answer;
        },
        () => undefined, // the connection died with the process
      ),
    );
    // Kill it once some exchanges have finished and others are still in flight.
    while (answered < 5) await new Promise((resolve) => setTimeout(resolve, 5));
    await server.stop('SIGKILL');
    const finished = (await Promise.all(exchanges)).filter((answer) => answer?.status === 200);
    expect(finished.length).toBeGreaterThanOrEqual(5);
    expect(finished.length).toBeLessThan(50);

    const counts = await inspect(env);
    expect(counts.listedConnectionsWithoutVehicles).toBe(0);
    expect(counts.usersWithoutSessions).toBe(0);
    expect(counts.connections).toBeGreaterThanOrEqual(finished.length);

    server = await startServerProcess(env);
    try {
      const restarted = apiClient(server.url);
      // The restarted server lists the vehicles of connections stored before the kill.
      for (const answer of finished) {
        const list = await restarted.settled(answer?.json.session ?? '');
        expect(list.vehicles.length).toBeGreaterThan(0);
      }
      const fresh = await restarted.connectVehicles({ choices: { email: 'after-crash@example.com' } });
      expect(fresh.vehicles.length).toBeGreaterThan(0);
    } finally {
      await server.stop();
    }
  }, 180_000); // two starts, the first on an empty embedded database
});

/** Checks the invariants the exchange's transaction guarantees, straight in the database. */
async function inspect(env: Record<string, string>) {
  const queries = {
    connections: 'select count(*)::int as n from connections',
    // A connection is stored before its vehicles are listed (`vehicles_listed_at` null until then).
    listedConnectionsWithoutVehicles:
      'select count(*)::int as n from connections c where c.vehicles_listed_at is not null and not exists (select 1 from vehicles v where v.connection_id = c.id)',
    usersWithoutSessions:
      'select count(*)::int as n from users u where not exists (select 1 from sessions s where s.user_id = u.id)',
  };
  const run = async (query: (sql: string) => Promise<number>) => ({
    connections: await query(queries.connections),
    listedConnectionsWithoutVehicles: await query(queries.listedConnectionsWithoutVehicles),
    usersWithoutSessions: await query(queries.usersWithoutSessions),
  });
  if (env.DATABASE_URL) {
    const client = new pg.Client({ connectionString: env.DATABASE_URL });
    await client.connect();
    try {
      return await run(async (sql) => (await client.query<{ n: number }>(sql)).rows[0]?.n ?? -1);
    } finally {
      await client.end();
    }
  }
  // Opening the folder replays PGlite's write-ahead log, as the restarted server will.
  const db = new PGlite(path.join(env.DATA_DIR ?? '', 'db'));
  try {
    return await run(async (sql) => (await db.query<{ n: number }>(sql)).rows[0]?.n ?? -1);
  } finally {
    await db.close();
  }
}

async function query<Row>(url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows as Row[];
  } finally {
    await client.end();
  }
}
