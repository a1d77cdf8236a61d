// A user's vehicles as the extension sees them: always answered from storage at once. Reads of
// the car run in the background (see reads.ts) when an automatic read is due (paced by the
// request budget), when the person asks, or after a lock whose outcome Smartcar has not confirmed.
import { setTimeout as sleep } from 'node:timers/promises';
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { UnitSystem, Vehicle, VehicleData, VehiclesResponse } from '../protocol/server-api';
import { monthOf, startOfNextMonth, type RequestBudget } from './budget';
import type { Config } from './config';
import type { Database } from './db';
import { connections, users, vehicles, type ReadScope } from './db/schema';
import {
  ApiError,
  budgetSpent,
  holdError,
  lockNotPermitted,
  notFound,
  reconnectRequired,
  UpstreamError,
  type Hold,
} from './api-errors';
import { COMMAND_SETTLED_MS, LEASE_MS, VehicleReader, deleteEmptyConnections, readCost } from './reads';
import type { SmartcarGateway } from './smartcar';
import type { TokenVault } from './vault/token-vault';

type VehicleRow = typeof vehicles.$inferSelect;
interface Row {
  vehicle: VehicleRow;
  status: string;
}

/**
 * How long a process reuses a user's answer while nothing is being read, so a popup opened again
 * and again costs no database work. Another process's change shows here within this time; this
 * process's own changes show at once.
 */
export const ANSWER_CACHE_MS = 5_000;

interface CachedAnswer {
  /** The user's `vehicles_version` the answer was built at; any change since raises it. */
  version: number;
  units: UnitSystem | undefined;
  answer: VehiclesResponse;
  /** The answer must be built again from this time on (ms since the epoch): a read falls due. */
  until: number;
}

/** What a lock or unlock came to within the time the person waits. */
export interface LockOutcome {
  vehicle: Vehicle;
  confirmed: boolean;
}

export class VehicleService {
  private readonly answers = new LRUCache<string, CachedAnswer>({ max: 10_000, ttl: ANSWER_CACHE_MS });
  private readonly reader: VehicleReader;
  /** How long a request the person waits on waits for Smartcar. */
  private readonly waitMs: number;

  constructor(
    private readonly db: Database,
    private readonly vault: TokenVault,
    private readonly smartcar: SmartcarGateway,
    private readonly budget: RequestBudget,
    settings: Config['reads'],
    private readonly log: FastifyBaseLogger,
  ) {
    this.waitMs = settings.waitMs;
    this.reader = new VehicleReader(db, vault, smartcar, budget, log, settings.concurrency, (userId) =>
      this.changed(userId),
    );
  }

  /**
   * Lists a newly stored connection's vehicles (free) and starts reading them; waits for the list
   * at most the configured time. A list Smartcar has not answered by then is finished in the
   * background and counted in `pendingConnections`.
   */
  async addConnection(userId: string, connectionId: string): Promise<void> {
    await this.changed(userId);
    await Promise.race([this.reader.list(userId, connectionId), sleep(this.waitMs)]);
  }

  /**
   * The user's vehicles from storage; starts the reads that are due, and lists connections not
   * listed yet. With the `vehicles_version` the caller's session was looked up at, an answer this
   * process built at that version is reused for a few seconds.
   */
  async list(userId: string, units?: UnitSystem, version?: number): Promise<VehiclesResponse> {
    const cached = this.answers.get(userId);
    if (cached && cached.version === version && cached.units === units && Date.now() < cached.until) {
      return cached.answer;
    }

    const now = new Date();
    const [rows, pending] = await Promise.all([this.rows(userId), this.pendingConnections(userId)]);
    for (const connectionId of pending) void this.reader.list(userId, connectionId);
    const context = await this.context(rows, now);
    const due: { row: Row; scope: ReadScope }[] = [];
    for (const row of rows) {
      if (row.status !== 'active') continue;
      const scope = dueRead(row.vehicle, context, now);
      if (scope) due.push({ row, scope });
    }
    for (const { row, scope } of due) {
      if (!row.vehicle.readRequested) await this.requestRead(row.vehicle, scope, { unlessReadSince: true });
      row.vehicle.readRequested = row.vehicle.readRequested === 'all' ? 'all' : scope;
      void this.reader.read(userId, row.vehicle.id);
    }
    const answer = {
      vehicles: rows.map((row) => toApiVehicle(row, context, units)),
      pendingConnections: pending.length,
    };
    const quiet = pending.length === 0 && answer.vehicles.every((vehicle) => !vehicle.reading);
    if (quiet && version !== undefined) {
      const nextRead = Math.min(
        ...answer.vehicles.map((vehicle) => (vehicle.nextReadAt ? Date.parse(vehicle.nextReadAt) : Infinity)),
      );
      this.answers.set(userId, {
        version,
        units,
        answer,
        until: Math.min(nextRead, Date.now() + ANSWER_CACHE_MS),
      });
    }
    return answer;
  }

  /**
   * The person asked for fresh data: reads every connected vehicle now, whatever the pacing,
   * unless Smartcar's limits or the month's budget say to wait (then that error, when no vehicle
   * could be read).
   */
  async refresh(userId: string, units?: UnitSystem): Promise<VehiclesResponse> {
    const now = new Date();
    const rows = (await this.rows(userId)).filter((row) => row.status === 'active');
    const context = await this.context(rows, now);
    if (context.application) throw holdError(context.application, now);
    let refused: ApiError | undefined;
    let started = 0;
    for (const { vehicle } of rows) {
      const hold = context.holds.get(vehicle.id);
      if (hold) {
        refused ??= holdError(hold, now);
        continue;
      }
      if (!this.budget.allows(context.billed.get(vehicle.id) ?? 0, readCost(vehicle, 'all'))) {
        refused ??= budgetSpent(now);
        continue;
      }
      await this.requestRead(vehicle, 'all');
      void this.reader.read(userId, vehicle.id);
      started += 1;
    }
    await this.changed(userId);
    if (refused && started === 0) throw refused;
    return this.list(userId, units);
  }

  /**
   * Locks or unlocks the vehicle; needs the `control_security` permission. Not retried: a command
   * that timed out may still have reached the car. Waits a bounded time for Smartcar: a command
   * not answered by then is "sent, not yet confirmed", and the next lock-status read confirms it.
   */
  async setLock(
    userId: string,
    vehicleId: string,
    action: 'LOCK' | 'UNLOCK',
    units?: UnitSystem,
  ): Promise<LockOutcome> {
    const row = await this.row(userId, vehicleId);
    if (!row.vehicle.permissions?.includes('control_security')) {
      throw lockNotPermitted(row.vehicle.permissions !== null);
    }
    if (row.status !== 'active') throw reconnectRequired();
    const now = new Date();
    const hold = await this.budget.holdFor(vehicleId, now);
    if (hold) throw holdError(hold, now);
    const [billed] = (await this.budget.billed([vehicleId], now)).values();
    if (!this.budget.allows(billed ?? 0, 1)) throw budgetSpent(now);

    const pendingCommand = { action, sentAt: now.toISOString() };
    await this.update(row.vehicle, { pendingCommand });
    await this.changed(userId);
    const command = this.reader.limited(() =>
      this.vault.withAccessToken(row.vehicle.connectionId, (token) =>
        this.smartcar.setLock(vehicleId, token, action),
      ),
    );
    const settled = command.then(
      async () => {
        await this.budget.record(vehicleId, 1);
        const current = await this.row(userId, vehicleId);
        const security = { isLocked: action === 'LOCK' };
        await this.update(current.vehicle, {
          data: { ...current.vehicle.data, security },
          readAt: { ...current.vehicle.readAt, security: new Date().toISOString() },
          ...(current.vehicle.pendingCommand?.sentAt === pendingCommand.sentAt
            ? { pendingCommand: null }
            : {}),
        });
        return true;
      },
      async (error: unknown) => {
        if (error instanceof UpstreamError && error.transient) {
          // Smartcar may have passed the command on before it failed to answer: count it
          // (conservatively) and let a lock-status read settle it.
          await this.budget.record(vehicleId, 1);
          const current = await this.row(userId, vehicleId);
          if (current.vehicle.pendingCommand?.sentAt === pendingCommand.sentAt) {
            await this.update(current.vehicle, { pendingCommand: { ...pendingCommand, ended: true } });
          }
          await this.requestRead(row.vehicle, 'security');
          void this.reader.read(userId, vehicleId);
          return false;
        }
        // Refused: nothing happened at the car.
        const current = await this.row(userId, vehicleId);
        if (current.vehicle.pendingCommand?.sentAt === pendingCommand.sentAt) {
          await this.update(current.vehicle, { pendingCommand: null });
        }
        if (error instanceof UpstreamError) await this.budget.holdAfter(error, vehicleId);
        throw error;
      },
    );
    const waited = await Promise.race([settled, sleep(this.waitMs).then(() => undefined)]);
    // A command still running is let go: its own completion updates the row.
    if (waited === undefined) {
      settled.catch((error: unknown) => {
        if (!(error instanceof ApiError)) this.log.error({ err: error }, 'lock command failed');
      });
    }
    await this.changed(userId);
    const current = await this.row(userId, vehicleId);
    const context = await this.context([current], new Date());
    return { vehicle: toApiVehicle(current, context, units), confirmed: waited === true };
  }

  /**
   * Forgets the vehicle and revokes Smartcar's access to it (unless another of our users still has
   * the car, see `revokeUnlessShared`), then its tokens if it was the connection's last vehicle.
   */
  async disconnect(userId: string, vehicleId: string): Promise<void> {
    const row = await this.row(userId, vehicleId);
    // Forgotten before the shared-car check, so two users disconnecting the same car at once cannot
    // each see the other's row and both leave it connected at Smartcar.
    await this.db.delete(vehicles).where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
    try {
      if (row.status === 'active') await this.revokeUnlessShared(row.vehicle);
    } catch (error) {
      // Smartcar did not take the disconnect: the vehicle stays, so the person can try again.
      await this.db.insert(vehicles).values(row.vehicle).onConflictDoNothing();
      await this.changed(userId);
      throw error;
    }
    await deleteEmptyConnections(this.db, userId);
    await this.changed(userId);
  }

  /**
   * Signs the user out of everything: each vehicle is disconnected from Smartcar where it still
   * can be, then the user and all it owns (sessions, tokens, vehicles) are deleted.
   */
  async signOut(userId: string): Promise<void> {
    const rows = await this.rows(userId);
    // Forgotten first, as in `disconnect`; the tokens stay until the user is deleted below.
    await this.db.delete(vehicles).where(eq(vehicles.userId, userId));
    await Promise.all(
      rows
        .filter((row) => row.status === 'active')
        .map((row) =>
          this.revokeUnlessShared(row.vehicle).catch((error: unknown) => {
            // Signing out must not depend on Smartcar being up; the grant then lapses on its own.
            this.log.warn(
              { vehicleId: row.vehicle.id, code: error instanceof ApiError ? error.code : 'internal' },
              'disconnect failed at sign-out',
            );
          }),
        ),
    );
    await this.db.delete(users).where(eq(users.id, userId));
    this.answers.delete(userId);
  }

  /**
   * Call after the user's vehicles changed (the change committed): raises the user's version, so
   * no process answers from an answer built before it.
   */
  private async changed(userId: string): Promise<void> {
    this.answers.delete(userId);
    await this.db
      .update(users)
      .set({ vehiclesVersion: sql`${users.vehiclesVersion} + 1` })
      .where(eq(users.id, userId));
  }

  /**
   * Ends this application's access to the vehicle at Smartcar. Smartcar's disconnect is per vehicle
   * and application, not per grant: while another of our users still has the car connected (the
   * same account signed in from another browser), revoking would end their access too, so the
   * vehicle is only forgotten here. The caller has deleted its own row of the vehicle already.
   */
  private async revokeUnlessShared(vehicle: VehicleRow): Promise<void> {
    const [sharedWith] = await this.db
      .select({ userId: vehicles.userId })
      .from(vehicles)
      .innerJoin(connections, eq(connections.id, vehicles.connectionId))
      .where(
        and(
          eq(vehicles.id, vehicle.id),
          ne(vehicles.userId, vehicle.userId),
          eq(connections.status, 'active'),
        ),
      )
      .limit(1);
    if (sharedWith) return;
    try {
      await this.vault.withAccessToken(vehicle.connectionId, (token) =>
        this.smartcar.disconnect(vehicle.id, token),
      );
    } catch (error) {
      // A connection that can no longer refresh has no access left to revoke.
      if (!(error instanceof ApiError && error.code === 'reconnect_required')) throw error;
    }
  }

  /**
   * Marks a read as wanted, in storage first, so another process or a restart finishes it. With
   * `unlessReadSince`, only if no read has begun since `vehicle` was loaded (an automatic read
   * that another request already started is not asked for twice).
   */
  private async requestRead(
    vehicle: VehicleRow,
    scope: ReadScope,
    options: { unlessReadSince?: boolean } = {},
  ): Promise<void> {
    await this.db
      .update(vehicles)
      .set({
        readRequested: scope === 'all' ? 'all' : sql`coalesce(${vehicles.readRequested}, ${scope})`,
      })
      .where(
        and(
          eq(vehicles.userId, vehicle.userId),
          eq(vehicles.id, vehicle.id),
          ...(options.unlessReadSince
            ? [
                isNull(vehicles.readRequested),
                vehicle.readAttemptedAt
                  ? eq(vehicles.readAttemptedAt, vehicle.readAttemptedAt)
                  : isNull(vehicles.readAttemptedAt),
              ]
            : []),
        ),
      );
  }

  private update(vehicle: VehicleRow, changes: Partial<VehicleRow>) {
    return this.db
      .update(vehicles)
      .set(changes)
      .where(and(eq(vehicles.userId, vehicle.userId), eq(vehicles.id, vehicle.id)));
  }

  private async context(rows: Row[], now: Date): Promise<AnswerContext> {
    const ids = rows.map((row) => row.vehicle.id);
    const [billed, holds] = await Promise.all([this.budget.billed(ids, now), this.budget.holds(ids, now)]);
    return { now, billed, holds: holds.vehicles, application: holds.application, budget: this.budget };
  }

  private rows(userId: string): Promise<Row[]> {
    return this.db
      .select({ vehicle: vehicles, status: connections.status })
      .from(vehicles)
      .innerJoin(connections, eq(connections.id, vehicles.connectionId))
      .where(eq(vehicles.userId, userId))
      .orderBy(vehicles.createdAt, vehicles.id);
  }

  private async pendingConnections(userId: string): Promise<string[]> {
    const rows = await this.db
      .select({ id: connections.id })
      .from(connections)
      .where(
        and(
          eq(connections.userId, userId),
          eq(connections.status, 'active'),
          isNull(connections.vehiclesListedAt),
        ),
      );
    return rows.map((row) => row.id);
  }

  private async row(userId: string, vehicleId: string): Promise<Row> {
    const [row] = await this.db
      .select({ vehicle: vehicles, status: connections.status })
      .from(vehicles)
      .innerJoin(connections, eq(connections.id, vehicles.connectionId))
      .where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
    if (!row) throw notFound('This vehicle');
    return row;
  }
}

interface AnswerContext {
  now: Date;
  /** Billed requests this month per Smartcar vehicle id. */
  billed: Map<string, number>;
  holds: Map<string, Hold>;
  application: Hold | undefined;
  budget: RequestBudget;
}

/** When the server will next read the vehicle by itself: paced by the budget, after any hold. */
function nextAutomaticRead(vehicle: VehicleRow, context: AnswerContext): Date {
  const billed = context.billed.get(vehicle.id) ?? 0;
  const interval = context.budget.autoReadInterval(billed, readCost(vehicle, 'all'), context.now);
  const paced =
    interval === null
      ? startOfNextMonth(context.now).getTime()
      : (vehicle.readAttemptedAt?.getTime() ?? -Infinity) + interval;
  const hold = Math.max(
    context.holds.get(vehicle.id)?.until.getTime() ?? 0,
    context.application?.until.getTime() ?? 0,
  );
  return new Date(Math.max(paced, hold));
}

/** The read a vehicle is due for now, if any. */
function dueRead(vehicle: VehicleRow, context: AnswerContext, now: Date): ReadScope | undefined {
  const leased = vehicle.readLeaseUntil !== null && vehicle.readLeaseUntil > now;
  // Requested and nobody at it: a process died mid-read, or the read has not started yet.
  if (vehicle.readRequested) return leased ? undefined : vehicle.readRequested;
  if (nextAutomaticRead(vehicle, context) <= now) return 'all';
  // A command whose own answer never came (the process that sent it stopped): read the lock status.
  const command = vehicle.pendingCommand;
  if (command && Date.parse(command.sentAt) + COMMAND_SETTLED_MS + LEASE_MS < now.getTime())
    return 'security';
  return undefined;
}

const KM_PER_MILE = 1.609344;
const LITRES_PER_GALLON = 3.785411784;

/** Stored data in another unit system: distances in miles, fuel in US gallons, as Smartcar's imperial. */
function convert(data: VehicleData, from: UnitSystem, to: UnitSystem): VehicleData {
  if (from === to) return data;
  const distance = (value: number) => round(to === 'imperial' ? value / KM_PER_MILE : value * KM_PER_MILE);
  const volume = (value: number) =>
    round(to === 'imperial' ? value / LITRES_PER_GALLON : value * LITRES_PER_GALLON);
  return {
    ...data,
    ...(data.odometer ? { odometer: { distance: distance(data.odometer.distance) } } : {}),
    ...(data.battery ? { battery: { ...data.battery, range: distance(data.battery.range) } } : {}),
    ...(data.fuel
      ? {
          fuel: {
            ...data.fuel,
            range: distance(data.fuel.range),
            amountRemaining: volume(data.fuel.amountRemaining),
          },
        }
      : {}),
  };
}

const round = (value: number) => Math.round(value * 10) / 10;

function toApiVehicle({ vehicle, status }: Row, context: AnswerContext, units?: UnitSystem): Vehicle {
  const answerUnits = units ?? vehicle.units;
  const active = status === 'active';
  const nextReadAt = active ? nextAutomaticRead(vehicle, context) : null;
  const now = context.now.getTime();
  return {
    id: vehicle.id,
    make: vehicle.make,
    model: vehicle.model,
    year: vehicle.year,
    permissions: vehicle.permissions ?? [],
    status: active ? 'connected' : 'reconnect_required',
    units: answerUnits,
    data: convert(vehicle.data, vehicle.units, answerUnits),
    readAt: vehicle.readAt,
    fetchedAt: vehicle.fetchedAt?.toISOString() ?? null,
    reading: active && vehicle.readRequested !== null,
    nextReadAt: nextReadAt && new Date(Math.max(nextReadAt.getTime(), now)).toISOString(),
    lastFailure: vehicle.lastFailure,
    pendingCommand: vehicle.pendingCommand && {
      action: vehicle.pendingCommand.action,
      sentAt: vehicle.pendingCommand.sentAt,
    },
    usage: {
      month: monthOf(context.now),
      billed: context.billed.get(vehicle.id) ?? 0,
      budget: context.budget.budget,
    },
  };
}
