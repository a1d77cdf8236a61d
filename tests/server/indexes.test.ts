// The hot paths' indexes, shown by PostgreSQL's own plans: each query the server runs often (on
// every uncached GET /api/vehicles, in the sweeps every process runs, in every disconnect) must be
// answerable through its index, so a later migration cannot drop one silently. Sequential scans
// are switched off for the plan, as an empty test table would otherwise always be scanned.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db';
import { createTestDatabase } from '../support/postgres';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  // The server's own migrations make the schema.
  const handle = await openDatabase({ databaseUrl: database.url, embeddedDir: 'unused' });
  await handle.close();
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await database.drop();
});

interface PlanNode {
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Every index the plan of `query` reads. */
async function indexesUsedBy(query: string, values: unknown[]): Promise<string[]> {
  await client.query('BEGIN');
  try {
    await client.query('SET LOCAL enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': [{ Plan: PlanNode }] }>(
      `EXPLAIN (FORMAT JSON) ${query}`,
      values,
    );
    const names: string[] = [];
    const visit = (node: PlanNode) => {
      if (node['Index Name']) names.push(node['Index Name']);
      node.Plans?.forEach(visit);
    };
    const [plan] = rows[0]?.['QUERY PLAN'] ?? [];
    if (plan) visit(plan.Plan);
    return names;
  } finally {
    await client.query('ROLLBACK');
  }
}

const USER = '00000000-0000-4000-8000-000000000001';

describe('the indexes of the hot paths', () => {
  it.each([
    [
      "a user's connections not listed yet (every uncached vehicle list)",
      'connections_user_id',
      `select id from connections where user_id = $1 and status = 'active' and vehicles_listed_at is null`,
      [USER],
    ],
    [
      'refreshes whose answer was lost (the sweep every two seconds)',
      'connections_refresh_attempted_at',
      `select id from connections where status = 'active' and refresh_attempted_at is not null
         and (refresh_lease_until is null or refresh_lease_until < now())`,
      [],
    ],
    [
      'refresh tokens nearing their 60 days (the renewal sweep)',
      'connections_refresh_expires_at',
      `select id from connections where status = 'active' and refresh_expires_at < $1`,
      [new Date()],
    ],
    [
      'users left without a session (the sign-out sweep)',
      'sessions_user_id',
      `select id from users where not exists (select 1 from sessions where sessions.user_id = users.id) limit 100`,
      [],
    ],
    [
      'another user with the same car (disconnect and sign-out)',
      'vehicles_id',
      `select vehicles.user_id from vehicles join connections on connections.id = vehicles.connection_id
         where vehicles.id = $1 and vehicles.user_id <> $2 and connections.status = 'active' limit 1`,
      ['vehicle-1', USER],
    ],
  ])('finds %s through %s', async (_path, index, query, values) => {
    expect(await indexesUsedBy(query, values)).toContain(index);
  });
});
