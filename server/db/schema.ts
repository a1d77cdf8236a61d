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
import type { PendingCommand, ReadFailure, VehicleData, VehicleReadTimes } from '../../protocol/server-api';

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
  /**
   * Raised after every change to the user's vehicles; a process's cached answer is used only
   * while it still matches, so a change made by any process shows at once on all of them.
   */
  vehiclesVersion: integer('vehicles_version').notNull().default(0),
});

/** The extension's sessions. Only a SHA-256 of the bearer token is kept. */
export const sessions = pgTable(
  'sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: createdAt(),
    /** Renewed on use, at most once an hour; an idle session expires. */
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // Users left without a session (the sign-out sweep) and a user's deletion look sessions up by user.
  (table) => [index('sessions_user_id').on(table.userId)],
);

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
export const connections = pgTable(
  'connections',
  {
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
    /**
     * The Smartcar user the grant belongs to, as Smartcar answered it for the grant's own token
     * (never as the Connect redirect claims it), sealed like the tokens: API v3 names the user
     * with it on every call. Null until Smartcar has answered it.
     */
    smartcarUserId: bytes('smartcar_user_id'),
    /** When its vehicle list was stored; null while Smartcar has not answered it yet. */
    vehiclesListedAt: timestamp('vehicles_listed_at', { withTimezone: true }),
    /** A process listing its vehicles holds this lease (renewed while it works), so only one does. */
    listLeaseUntil: timestamp('list_lease_until', { withTimezone: true }),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    // A user's connections not listed yet: every uncached answer of GET /api/vehicles asks.
    index('connections_user_id').on(table.userId),
    // The lost-answer sweep, every two seconds in every process: almost always no row.
    index('connections_refresh_attempted_at')
      .on(table.refreshAttemptedAt)
      .where(sql`${table.refreshAttemptedAt} is not null`),
    // The renewal sweep: refresh tokens nearing their 60 days.
    index('connections_refresh_expires_at').on(table.refreshExpiresAt),
  ],
);

/** A lock or unlock not confirmed yet; `ended` once Smartcar's call ended without telling the outcome. */
export type StoredCommand = PendingCommand & { ended?: boolean };

/** What a vehicle read asks for: everything the popup shows, or only the lock status (after a command). */
export type ReadScope = 'all' | 'security';

/** A user's vehicle, with the attributes and data last read from Smartcar, and its read's progress. */
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
    /** Null until a read answers them (or forever, without `read_vehicle_info`). */
    make: text('make'),
    model: text('model'),
    year: integer('year'),
    /** Null until `GET /permissions` has answered for the current grant. */
    permissions: jsonb('permissions').$type<string[]>(),
    /** Unit system of `data`; reads store metric, answers convert. */
    units: text('units').$type<'metric' | 'imperial'>().notNull().default('metric'),
    data: jsonb('data').$type<VehicleData>().notNull().default({}),
    /** When each figure in `data` was read. */
    readAt: jsonb('read_at').$type<VehicleReadTimes>().notNull().default({}),
    /** Figures the vehicle answered it cannot give (an electric car has no fuel): never asked again. */
    incapable: jsonb('incapable').$type<string[]>().notNull().default([]),
    /** When the last read succeeded. */
    fetchedAt: timestamp('fetched_at', { withTimezone: true }),
    /** When the last read began, successful or not: automatic reads are paced from it. */
    readAttemptedAt: timestamp('read_attempted_at', { withTimezone: true }),
    /** A read that is wanted and not finished yet (survives a process that dies mid-read). */
    readRequested: text('read_requested').$type<ReadScope>(),
    /** A process reading the vehicle holds this lease (renewed while it works), so only one does. */
    readLeaseUntil: timestamp('read_lease_until', { withTimezone: true }),
    lastFailure: jsonb('last_failure').$type<ReadFailure>(),
    pendingCommand: jsonb('pending_command').$type<StoredCommand>(),
    createdAt: createdAt(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.id] }),
    index('vehicles_connection_id').on(table.connectionId),
    // Whether another of our users has the same car (disconnect and sign-out): by Smartcar's id.
    index('vehicles_id').on(table.id),
  ],
);

export type StoredConnection = typeof connections.$inferSelect;
export type StoredVehicle = typeof vehicles.$inferSelect;

/** Request counters for rate limits, shared by every server process. */
export const rateLimits = pgTable('rate_limits', {
  key: text('key').primaryKey(),
  count: integer('count').notNull(),
  resetAt: timestamp('reset_at', { withTimezone: true }).notNull(),
});

/** Billed Smartcar requests per Smartcar vehicle id and calendar month (UTC, `YYYY-MM`). */
export const vehicleUsage = pgTable(
  'vehicle_usage',
  {
    vehicleId: text('vehicle_id').notNull(),
    month: text('month').notNull(),
    billed: integer('billed').notNull().default(0),
  },
  (table) => [primaryKey({ columns: [table.vehicleId, table.month] })],
);

/**
 * Times before which Smartcar must not be asked again, after it said so: `application` for its
 * application-wide rate limit (with a failure count for exponential back-off), `vehicle:<id>` for
 * one vehicle's rate limits and monthly allowance.
 */
export const smartcarHolds = pgTable('smartcar_holds', {
  key: text('key').primaryKey(),
  until: timestamp('until', { withTimezone: true }).notNull(),
  failures: integer('failures').notNull().default(0),
  /** The answer to give meanwhile, as an API error code and sentence. */
  code: text('code').notNull(),
  message: text('message').notNull(),
});
