// Random and malformed requests to every endpoint: never a 5xx, never a crash, and nothing stored
// changes except what a valid request is allowed to add.
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTENSION_ORIGIN, REDIRECT_URI, apiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';

const CASES = 10_000;

describe('the API under random input', () => {
  let stack: Stack;
  let databaseUrl: string;
  let dropDatabase: () => Promise<void>;
  let seeded: { session: string; vehicleId: string; vehicleIds: string[] };

  beforeAll(async () => {
    const database = await createTestDatabase();
    databaseUrl = database.url;
    dropDatabase = database.drop;
    // Data never goes stale during the run, so no valid read writes anything either.
    stack = await startStack({
      env: { DATABASE_URL: databaseUrl, VEHICLE_DATA_MAX_AGE_SECONDS: '86400', LOG_LEVEL: 'warn' },
    });
    const { session, vehicles } = await apiClient(stack.serverUrl).connectVehicles();
    seeded = { session, vehicleId: vehicles[0]?.id ?? '', vehicleIds: vehicles.map((vehicle) => vehicle.id) };
  });

  afterAll(async () => {
    await stack.close();
    await dropDatabase();
  });

  it(`answers ${CASES} random requests with a 4xx or a success, and changes nothing it should not`, async () => {
    const before = await snapshot(databaseUrl);
    const printable = fc.string({ unit: 'grapheme-ascii', maxLength: 40 });
    const anyText = fc.string({ unit: 'binary', maxLength: 200 });
    // Control characters, which a database refuses inside text (a NUL id once answered 500).
    const controlled = fc
      .tuple(printable, fc.integer({ min: 0, max: 0x1f }), printable)
      .map(([before, code, after]) => encodeURIComponent(before + String.fromCharCode(code) + after));
    const segment = fc.oneof(
      printable.map(encodeURIComponent),
      fc.constantFrom('..', '%2e%2e', '%ff', 'a'.repeat(300), seeded.vehicleId, 'vehicles', 'security'),
      controlled,
    );
    const path = fc.oneof(
      fc.constantFrom(
        '/api/connect',
        '/api/exchange',
        '/api/vehicles',
        '/api/session',
        `/api/vehicles/${seeded.vehicleId}`,
        `/api/vehicles/${seeded.vehicleId}/security`,
        '/healthz',
        '/readyz',
      ),
      fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `/api/${parts.join('/')}`),
      fc
        .tuple(fc.oneof(controlled, segment), fc.constantFrom('', '/security'))
        .map(([id, rest]) => `/api/vehicles/${id}${rest}`),
    );
    const query = fc.option(
      fc.oneof(
        fc.constantFrom(
          'units=imperial',
          'units=metric',
          'units=',
          'units[]=x',
          'units=metric&units=imperial',
        ),
        fc
          .tuple(printable, printable)
          .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`),
      ),
      { nil: undefined },
    );
    const jsonField = fc.oneof(
      fc.jsonValue(),
      printable,
      fc.constant(REDIRECT_URI),
      fc.constant('x'.repeat(600)),
    );
    const body = fc.option(
      fc.oneof(
        fc.jsonValue().map((value) => JSON.stringify(value)),
        anyText,
        fc
          .record(
            {
              redirectUri: fc.oneof(fc.constant(REDIRECT_URI), jsonField),
              code: jsonField,
              state: jsonField,
              action: fc.oneof(fc.constantFrom('LOCK', 'UNLOCK'), jsonField),
              units: fc.oneof(fc.constantFrom('metric', 'imperial'), jsonField),
              make: fc.oneof(fc.constant('TESLA'), jsonField),
              singleVehicle: fc.oneof(fc.boolean(), jsonField),
              extra: jsonField,
            },
            { requiredKeys: [] },
          )
          .map((value) => JSON.stringify(value)),
        fc.constant(JSON.stringify({ redirectUri: 'x'.repeat(20_000) })),
      ),
      { nil: undefined },
    );
    const headers = fc.record(
      {
        'content-type': fc.oneof(
          fc.constantFrom(
            'application/json',
            'text/plain',
            'application/x-www-form-urlencoded',
            'application/json; charset=latin1',
          ),
          printable,
        ),
        // The seeded session too, so requests reach the handlers behind authentication (lock,
        // disconnect, refresh, sign-out) and not only the session check.
        authorization: fc.oneof(
          { arbitrary: fc.constant(`Bearer ${seeded.session}`), weight: 4 },
          printable,
          printable.map((token) => `Bearer ${token}`),
          fc.constant(`Bearer ${'A'.repeat(43)}`),
          fc.constant('Bearer '),
        ),
        // Mostly the extension's own origin, so most requests get past the origin check.
        origin: fc.oneof(
          { arbitrary: fc.constant(EXTENSION_ORIGIN), weight: 8 },
          fc.constantFrom('https://evil.example', 'null', 'moz-extension://x'),
          printable,
        ),
      },
      { requiredKeys: [] },
    );
    const method = fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD');

    let successfulConnects = 0;
    /** Whether a valid lock or read with the seeded session may have changed its vehicle's row. */
    const seen = { changedData: false };
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        method,
        path,
        query,
        headers,
        body,
        async (verb, route, search, headerSet, payload) => {
          const withBody = payload !== undefined && verb !== 'GET' && verb !== 'HEAD';
          // The seeded session may not end itself or its vehicle, so it stays usable for every case.
          const seededSession = headerSet.authorization === `Bearer ${seeded.session}`;
          const ending = route === '/api/session' || route === `/api/vehicles/${seeded.vehicleId}`;
          if (seededSession && verb === 'DELETE' && ending) headerSet.authorization = 'Bearer ended';
          const response = await fetch(`${stack.serverUrl}${route}${search ? `?${search}` : ''}`, {
            method: verb,
            headers: headerSet,
            ...(withBody ? { body: payload } : {}),
          });
          await response.arrayBuffer();
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
          if (verb === 'POST' && route === '/api/connect' && response.status === 200) successfulConnects += 1;
          if (seededSession && verb === 'POST' && response.status < 400) seen.changedData = true;
          expect(response.status).toBeLessThan(500);
        },
      ),
      { numRuns: CASES },
    );

    expect([...statuses.values()].reduce((sum, count) => sum + count, 0)).toBe(CASES);
    const api = apiClient(stack.serverUrl);
    expect((await api.call('GET', '/healthz')).status).toBe(200);

    // Still serving the seeded user's vehicles. A valid Connect start may add a pending state and
    // the seeded session's locks and reads may change its vehicle's row; nothing else may change.
    const list = await api.call<{ vehicles: { id: string }[] }>('GET', '/api/vehicles', {
      session: seeded.session,
    });
    expect(list.json.vehicles.map((vehicle) => vehicle.id)).toEqual(seeded.vehicleIds);
    const {
      connect_states: statesAfter = [],
      vehicles: vehiclesAfter,
      ...restAfter
    } = await snapshot(databaseUrl);
    const { connect_states: statesBefore = [], vehicles: vehiclesBefore, ...restBefore } = before;
    expect(statesAfter.length - statesBefore.length).toBe(successfulConnects);
    if (!seen.changedData) expect(vehiclesAfter).toEqual(vehiclesBefore);
    expect(restAfter).toEqual(restBefore);
  }, 300_000);
});

/** Every row of every table but the rate-limit counters, which change with any request by design. */
async function snapshot(url: string): Promise<Record<string, unknown[]>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ tablename: string }>(
      "select tablename from pg_tables where schemaname = 'public' and tablename <> 'rate_limits' order by 1",
    );
    const result: Record<string, unknown[]> = {};
    for (const { tablename } of tables.rows) {
      result[tablename] = (await client.query(`select * from "${tablename}" order by 1`)).rows;
    }
    return result;
  } finally {
    await client.end();
  }
}
