// The database: PostgreSQL when DATABASE_URL is set, otherwise PGlite (PostgreSQL compiled to WASM)
// in the data folder. Both speak the same SQL, so the schema, queries and migrations are shared.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/node-postgres';
import { migrate as migratePostgres } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as schema from './schema';

export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/** A row refers to one another request deleted meanwhile (a user signed out on another process). */
export function isForeignKeyViolation(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === '23503') return true;
  }
  return false;
}

export interface DatabaseHandle {
  db: Database;
  /** Where the data lives, for logs: a redacted URL or a folder. */
  location: string;
  close(): Promise<void>;
}

// Beside this module in the sources, and beside the bundle in dist/server (build:server copies them).
const migrationsFolder = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** Any number that no other application on the same PostgreSQL uses as an advisory lock. */
const MIGRATION_LOCK = 7_419_260_301;

/**
 * Several processes may start at once on an empty database: one migrates while the others wait,
 * then find nothing left to do. The lock is a session lock on one connection, held only here.
 */
async function migrateUnderLock(pool: pg.Pool): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await migratePostgres(drizzlePostgres(client, { schema }), { migrationsFolder });
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    client.release();
  }
}

/**
 * Opens the database and brings its schema up to date.
 * `embeddedDir` may be `memory://` for a throwaway database (tests).
 */
export async function openDatabase(options: {
  databaseUrl?: string | undefined;
  embeddedDir: string;
  /** Told when PostgreSQL ends an idle connection (a restart, a failover); the pool opens a new one. */
  onConnectionLost?: (error: Error) => void;
}): Promise<DatabaseHandle> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({ connectionString: options.databaseUrl, max: 10 });
    // Without a listener, pg's 'error' event for an idle client would end the whole process.
    pool.on('error', options.onConnectionLost ?? (() => undefined));
    const db = drizzlePostgres(pool, { schema });
    await migrateUnderLock(pool);
    const url = new URL(options.databaseUrl);
    url.password = '';
    return { db, location: url.toString(), close: () => pool.end() };
  }
  const inMemory = options.embeddedDir === 'memory://';
  // PGlite silently falls back to memory when its folder is missing, so create it first; the
  // data folder above it holds the development key too, so it is the owner's alone.
  if (!inMemory) {
    mkdirSync(path.dirname(options.embeddedDir), { recursive: true, mode: 0o700 });
    mkdirSync(options.embeddedDir, { recursive: true, mode: 0o700 });
  }
  const client = new PGlite(inMemory ? undefined : options.embeddedDir);
  const db = drizzlePglite(client, { schema });
  await migratePglite(db, { migrationsFolder });
  return { db, location: inMemory ? 'memory' : options.embeddedDir, close: () => client.close() };
}
