// A user's vehicles in the database, and the version that tells every process they changed.
import { and, eq, isNull, notExists, sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { UnitSystem, VehiclesResponse } from '../../protocol/server-api';
import type { Database } from '../db';
import { connections, users, vehicles, type ReadScope, type StoredVehicle } from '../db/schema';
import { notFound } from '../http/api-errors';
import type { OwnedVehicle } from './api-vehicle';
import type { ReadContext } from './read-schedule';
import type { RequestBudget } from './request-budget';

/**
 * How long a process reuses a user's answer while nothing is being read, so a popup opened again
 * and again costs no database work. Another process's change shows here within this time; this
 * process's own changes show at once.
 */
export const ANSWER_CACHE_MS = 5_000;

export interface CachedAnswer {
  /** The user's `vehicles_version` the answer was built at; any change since raises it. */
  version: number;
  units: UnitSystem | undefined;
  answer: VehiclesResponse;
  /** The answer must be built again from this time on (ms since the epoch): a read falls due. */
  until: number;
}

export class VehicleStore {
  /** Answers built by this process, per user; `changed` drops a user's. */
  readonly answers = new LRUCache<string, CachedAnswer>({ max: 10_000, ttl: ANSWER_CACHE_MS });

  constructor(
    readonly db: Database,
    private readonly budget: RequestBudget,
  ) {}

  /**
   * Call after the user's vehicles changed (the change committed): raises the user's version, so
   * no process answers from an answer built before it.
   */
  async changed(userId: string): Promise<void> {
    this.answers.delete(userId);
    await this.db
      .update(users)
      .set({ vehiclesVersion: sql`${users.vehiclesVersion} + 1` })
      .where(eq(users.id, userId));
  }

  /** The user's vehicles, oldest first, each with its connection's status. */
  owned(userId: string): Promise<OwnedVehicle[]> {
    return this.db
      .select({ vehicle: vehicles, status: connections.status })
      .from(vehicles)
      .innerJoin(connections, eq(connections.id, vehicles.connectionId))
      .where(eq(vehicles.userId, userId))
      .orderBy(vehicles.createdAt, vehicles.id);
  }

  /** One of the user's vehicles; 404 when the user has no such vehicle. */
  async ownedOne(userId: string, vehicleId: string): Promise<OwnedVehicle> {
    const [row] = await this.db
      .select({ vehicle: vehicles, status: connections.status })
      .from(vehicles)
      .innerJoin(connections, eq(connections.id, vehicles.connectionId))
      .where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
    if (!row) throw notFound('This vehicle');
    return row;
  }

  /** The user's connections whose vehicles Smartcar has not listed yet. */
  async pendingConnections(userId: string): Promise<string[]> {
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

  update(vehicle: Pick<StoredVehicle, 'userId' | 'id'>, changes: Partial<StoredVehicle>) {
    return this.db
      .update(vehicles)
      .set(changes)
      .where(and(eq(vehicles.userId, vehicle.userId), eq(vehicles.id, vehicle.id)));
  }

  /**
   * Marks a read as wanted, in storage first, so another process or a restart finishes it. With
   * `unlessReadSince`, only if no read has begun since `vehicle` was loaded (an automatic read
   * that another request already started is not asked for twice).
   */
  async requestRead(
    vehicle: StoredVehicle,
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

  /** What pacing these vehicles needs: their billed requests this month and the holds on them. */
  async readContext(owned: OwnedVehicle[], now: Date): Promise<ReadContext> {
    const ids = owned.map((row) => row.vehicle.id);
    const [billed, holds] = await Promise.all([this.budget.billed(ids, now), this.budget.holds(ids, now)]);
    return { now, billed, holds: holds.vehicles, application: holds.application, budget: this.budget };
  }
}

/** A listed connection whose last vehicle is gone holds tokens nobody needs: delete them. */
export async function deleteEmptyConnections(tx: Database, userId: string) {
  await tx
    .delete(connections)
    .where(
      and(
        eq(connections.userId, userId),
        sql`${connections.vehiclesListedAt} is not null`,
        notExists(tx.select().from(vehicles).where(eq(vehicles.connectionId, connections.id))),
      ),
    );
}
