// Opening the database: any number of server processes may start together on an empty PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db';
import journal from '../../server/db/migrations/meta/_journal.json';
import { createTestDatabase } from '../support/postgres';

describe('migrations on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('run once when five openers start together on an empty database', async () => {
    const opened = await Promise.allSettled(
      Array.from({ length: 5 }, () => openDatabase({ databaseUrl: database.url, embeddedDir: 'unused' })),
    );
    for (const result of opened) if (result.status === 'fulfilled') await result.value.close();
    expect(opened.map((result) => result.status)).toEqual(opened.map(() => 'fulfilled'));

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const applied = await client.query<{ n: number }>(
        'select count(*)::int as n from drizzle.__drizzle_migrations',
      );
      expect(applied.rows[0]?.n).toBe(journal.entries.length);
    } finally {
      await client.end();
    }
  });
});
