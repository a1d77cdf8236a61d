// A user's vehicles as the extension sees them: answered from stored data while it is fresh,
// otherwise read again from Smartcar with one batch call per vehicle.
import { and, eq, notExists } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { LRUCache } from 'lru-cache';
import type { UnitSystem, Vehicle } from '../protocol/api';
import type { Database } from './db';
import { connections, users, vehicles } from './db/schema';
import { ApiError, notFound } from './errors';
import type { SmartcarGateway, VehicleReading } from './smartcar';

export type VehicleSnapshot = VehicleReading & { permissions: string[] };
import { reconnectRequired, type TokenVault } from './vault/token-vault';

type VehicleRow = typeof vehicles.$inferSelect;

/**
 * How long a process reuses a user's answer while its data is fresh, so a popup opened again and
 * again costs no database work. Another process's change (a lock, a disconnect) shows here
 * within this time; this process's own changes show at once.
 */
export const ANSWER_CACHE_MS = 5_000;

interface CachedAnswer {
  vehicles: Vehicle[];
  /** When the first of its vehicles' data goes stale (ms since the epoch). */
  freshUntil: number;
}

export class VehicleService {
  /** Concurrent requests for the same stale vehicle share one upstream call. */
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly answers = new LRUCache<string, CachedAnswer>({ max: 10_000, ttl: ANSWER_CACHE_MS });

  constructor(
    private readonly db: Database,
    private readonly vault: TokenVault,
    private readonly smartcar: SmartcarGateway,
    private readonly maxAgeMs: number,
    private readonly log: FastifyBaseLogger,
  ) {}

  /** Reads every vehicle a new connection covers; runs before anything is stored. */
  async readAll(accessToken: string, units: UnitSystem): Promise<VehicleSnapshot[]> {
    const ids = await this.smartcar.vehicleIds(accessToken);
    return Promise.all(
      ids.map(async (id) => {
        const reading = await this.smartcar.readVehicle(id, accessToken, units, { withPermissions: true });
        return {
          ...reading,
          permissions: reading.permissions ?? (await this.smartcar.permissions(id, accessToken)),
        };
      }),
    );
  }

  /**
   * Attaches a connection's vehicles to the user, inside the caller's transaction. A vehicle
   * connected again moves to the new connection; a connection left with no vehicle is deleted.
   */
  async attach(
    tx: Database,
    userId: string,
    connectionId: string,
    snapshots: VehicleSnapshot[],
    units: UnitSystem,
  ) {
    const fetchedAt = new Date();
    for (const snapshot of snapshots) {
      const row = { ...snapshot, userId, connectionId, units, fetchedAt };
      await tx
        .insert(vehicles)
        .values(row)
        .onConflictDoUpdate({ target: [vehicles.userId, vehicles.id], set: row });
    }
    await deleteEmptyConnections(tx, userId);
  }

  /** Revokes Smartcar's access to the vehicle, then forgets it and, if it was the last one, its tokens. */
  async disconnect(userId: string, vehicleId: string): Promise<void> {
    const row = await this.row(userId, vehicleId);
    if (row.status === 'active') await this.revoke(row.vehicle);
    await this.db.transaction(async (tx) => {
      await tx.delete(vehicles).where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
      await deleteEmptyConnections(tx, userId);
    });
    this.forget(userId);
  }

  /**
   * Signs the user out of everything: each vehicle is disconnected from Smartcar where it still
   * can be, then the user and all it owns (sessions, tokens, vehicles) are deleted.
   */
  async signOut(userId: string): Promise<void> {
    const rows = await this.rows(userId);
    await Promise.all(
      rows
        .filter((row) => row.status === 'active')
        .map((row) =>
          this.revoke(row.vehicle).catch((error: unknown) => {
            // Signing out must not depend on Smartcar being up; the grant then lapses on its own.
            this.log.warn(
              { vehicleId: row.vehicle.id, code: errorCode(error) },
              'disconnect failed at sign-out',
            );
          }),
        ),
    );
    await this.db.delete(users).where(eq(users.id, userId));
    this.forget(userId);
  }

  private async revoke(vehicle: VehicleRow): Promise<void> {
    try {
      await this.vault.withAccessToken(vehicle.connectionId, (token) =>
        this.smartcar.disconnect(vehicle.id, token),
      );
    } catch (error) {
      // A connection that can no longer refresh has no access left to revoke.
      if (!(error instanceof ApiError && error.code === 'reconnect_required')) throw error;
    }
  }

  /** The user's vehicles; those with data older than the max age, or in other units, are read again. */
  async list(userId: string, units?: UnitSystem): Promise<Vehicle[]> {
    const cached = this.answers.get(userId);
    if (
      cached &&
      Date.now() < cached.freshUntil &&
      cached.vehicles.every((v) => !units || v.units === units)
    ) {
      return cached.vehicles;
    }
    let rows = await this.rows(userId);
    const stale = rows.filter((row) => row.status === 'active' && this.isStale(row.vehicle, units));
    if (stale.length > 0) {
      await Promise.all(stale.map((row) => this.refreshShared(row.vehicle, units ?? row.vehicle.units)));
      rows = await this.rows(userId);
    }
    const vehicles = rows.map(toApiVehicle);
    const freshUntil = Math.min(
      ...rows
        .filter((row) => row.status === 'active')
        .map((row) => (row.vehicle.fetchedAt?.getTime() ?? 0) + this.maxAgeMs),
    );
    this.answers.set(userId, { vehicles, freshUntil });
    return vehicles;
  }

  /** Drops this process's cached answer for the user; call after the user's vehicles change. */
  forget(userId: string): void {
    this.answers.delete(userId);
  }

  /** Locks or unlocks the vehicle and records the new status; needs the `control_security` permission. */
  async setLock(userId: string, vehicleId: string, action: 'LOCK' | 'UNLOCK'): Promise<Vehicle> {
    const row = await this.row(userId, vehicleId);
    if (!row.vehicle.permissions.includes('control_security')) {
      throw new ApiError(
        403,
        'not_permitted',
        'Locking was not allowed for this vehicle. Connect it again to allow it.',
      );
    }
    if (row.status !== 'active') throw reconnectRequired();
    await this.vault.withAccessToken(row.vehicle.connectionId, (token) =>
      this.smartcar.setLock(vehicleId, token, action),
    );
    const data = { ...row.vehicle.data, security: { isLocked: action === 'LOCK' } };
    await this.db
      .update(vehicles)
      .set({ data })
      .where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
    this.forget(userId);
    return toApiVehicle({ ...row, vehicle: { ...row.vehicle, data } });
  }

  private rows(userId: string) {
    return this.db
      .select({ vehicle: vehicles, status: connections.status })
      .from(vehicles)
      .innerJoin(connections, eq(connections.id, vehicles.connectionId))
      .where(eq(vehicles.userId, userId))
      .orderBy(vehicles.createdAt, vehicles.id);
  }

  private async row(userId: string, vehicleId: string) {
    const [row] = await this.db
      .select({ vehicle: vehicles, status: connections.status })
      .from(vehicles)
      .innerJoin(connections, eq(connections.id, vehicles.connectionId))
      .where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
    if (!row) throw notFound('This vehicle');
    return row;
  }

  private isStale(vehicle: VehicleRow, units: UnitSystem | undefined): boolean {
    if (units && units !== vehicle.units) return true;
    return !vehicle.fetchedAt || Date.now() - vehicle.fetchedAt.getTime() >= this.maxAgeMs;
  }

  private refreshShared(vehicle: VehicleRow, units: UnitSystem): Promise<void> {
    const key = `${vehicle.userId}/${vehicle.id}/${units}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.refresh(vehicle, units).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /** A failed read keeps the stored data (its `fetchedAt` shows its age); a dead connection shows as such. */
  private async refresh(vehicle: VehicleRow, units: UnitSystem): Promise<void> {
    try {
      const reading = await this.vault.withAccessToken(vehicle.connectionId, (token) =>
        this.smartcar.readVehicle(vehicle.id, token, units),
      );
      await this.db
        .update(vehicles)
        .set({ ...reading, units, fetchedAt: new Date() })
        .where(and(eq(vehicles.userId, vehicle.userId), eq(vehicles.id, vehicle.id)));
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      this.log.warn({ vehicleId: vehicle.id, code: error.code }, 'vehicle data not refreshed');
    }
  }
}

/** A connection whose last vehicle is gone holds tokens nobody needs: delete them. */
async function deleteEmptyConnections(tx: Database, userId: string) {
  await tx
    .delete(connections)
    .where(
      and(
        eq(connections.userId, userId),
        notExists(tx.select().from(vehicles).where(eq(vehicles.connectionId, connections.id))),
      ),
    );
}

const errorCode = (error: unknown) => (error instanceof ApiError ? error.code : 'internal');

function toApiVehicle({ vehicle, status }: { vehicle: VehicleRow; status: string }): Vehicle {
  return {
    id: vehicle.id,
    make: vehicle.make,
    model: vehicle.model,
    year: vehicle.year,
    permissions: vehicle.permissions,
    status: status === 'active' ? 'connected' : 'reconnect_required',
    units: vehicle.units,
    data: vehicle.data,
    fetchedAt: vehicle.fetchedAt?.toISOString() ?? null,
    readAt: {},
    reading: false,
    nextReadAt: null,
    lastFailure: null,
    pendingCommand: null,
    usage: { month: new Date().toISOString().slice(0, 7), billed: 0, budget: 500 },
  };
}
