// One schema for the embedded database (PGlite) and PostgreSQL. Migrations are generated from it
// with `npm run db:generate` into ./migrations and applied on start.
import { sql } from 'drizzle-orm';
import {
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import type { VehicleData } from '../../protocol/api';

const bytes = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (value) => Buffer.from(value),
});

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();

export const users = pgTable('users', {
  id: uuid('id')
    .primaryKey()
    .default(sql`gen_random_uuid()`),
  createdAt: createdAt(),
});

/** The extension's sessions. Only a SHA-256 of the bearer token is kept. */
export const sessions = pgTable('sessions', {
  tokenHash: text('token_hash').primaryKey(),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  createdAt: createdAt(),
  /** Renewed on use, at most once an hour; an idle session expires. */
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull().defaultNow(),
});

/** Pending Connect flows: single-use, short-lived, bound to a redirect URI and maybe a user. */
export const connectStates = pgTable(
  'connect_states',
  {
    stateHash: text('state_hash').primaryKey(),
    redirectUri: text('redirect_uri').notNull(),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    /** The Origin that asked for it (per installation in Firefox); the exchange must come from it. */
    origin: text('origin'),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('connect_states_expires_at').on(table.expiresAt)],
);

/** One Smartcar token pair, which may cover several vehicles. Tokens are AES-256-GCM ciphertexts. */
export const connections = pgTable('connections', {
  id: uuid('id')
    .primaryKey()
    .default(sql`gen_random_uuid()`),
  userId: uuid('user_id')
    .notNull()
    .references(() => users.id, { onDelete: 'cascade' }),
  keyId: text('key_id').notNull(),
  accessToken: bytes('access_token').notNull(),
  refreshToken: bytes('refresh_token').notNull(),
  accessExpiresAt: timestamp('access_expires_at', { withTimezone: true }).notNull(),
  refreshExpiresAt: timestamp('refresh_expires_at', { withTimezone: true }).notNull(),
  /** 'active', or 'reconnect_required' once the refresh token is dead. */
  status: text('status').notNull().default('active'),
  /** Consecutive failed refreshes, and when the next may start: back-off shared by every process. */
  refreshFailures: integer('refresh_failures').notNull().default(0),
  refreshRetryAt: timestamp('refresh_retry_at', { withTimezone: true }),
  /**
   * When the stored refresh token was first sent to Smartcar without an answer coming back. Smartcar
   * may have rotated the pair; the old token then works only for a minute after that time.
   */
  refreshAttemptedAt: timestamp('refresh_attempted_at', { withTimezone: true }),
  /** The process refreshing this connection, and until when it may; see token-vault.ts. */
  refreshLeaseOwner: text('refresh_lease_owner'),
  refreshLeaseUntil: timestamp('refresh_lease_until', { withTimezone: true }),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});

/** A user's vehicle, with the attributes and data last read from Smartcar. */
export const vehicles = pgTable(
  'vehicles',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    id: text('id').notNull(),
    connectionId: uuid('connection_id')
      .notNull()
      .references(() => connections.id, { onDelete: 'cascade' }),
    make: text('make').notNull(),
    model: text('model').notNull(),
    year: integer('year').notNull(),
    permissions: jsonb('permissions').$type<string[]>().notNull(),
    units: text('units').$type<'metric' | 'imperial'>().notNull().default('metric'),
    data: jsonb('data').$type<VehicleData>().notNull(),
    fetchedAt: timestamp('fetched_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.id] }),
    index('vehicles_connection_id').on(table.connectionId),
  ],
);

/** Request counters for rate limits, shared by every server process. */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  count: integer('count').notNull(),
  resetAt: timestamp('reset_at', { withTimezone: true }).notNull(),
});
