// The work that waits on Smartcar, done in the background so nobody waits on it: listing a new
// connection's vehicles, reading a vehicle, confirming a lock. Every job is resumable from the
// database: what is wanted is stored first (`read_requested`, `vehicles_listed_at` null), and a
// process doing it holds a short lease that it renews while it works, so across processes only one
// does each job, a process that dies lets go within the lease, and no transaction or lock is held
// across a network call. Within a process a shared promise joins a job already running.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import pLimit, { type LimitFunction } from 'p-limit';
import pRetry from 'p-retry';
import type { ReadFailure, VehicleData, VehicleReadTimes } from '../../protocol/server-api';
import { connections, vehicles, type ReadScope, type StoredVehicle } from '../db/schema';
import { ApiError, budgetSpent, holdError, internalError, UpstreamError } from '../http/api-errors';
import { later, type Clock } from '../lib/clock';
import { Lease } from '../lib/lease';
import { SingleFlight } from '../../utils/single-flight';
import type { BatchReading, PopupFigure, ReadRequest } from '../smartcar/gateway';
import { COMMAND_SETTLED_MS, READ_LEASE_MS, figuresToRead, readCost } from './read-schedule';
import type { RequestBudget } from './request-budget';
import type { SmartcarCalls } from './smartcar-calls';
import { deleteEmptyConnections, type VehicleStore } from './vehicle-store';

/** A connection whose vehicle list failed is tried again after this long. */
const LIST_RETRY_MS = 60_000;
/** Network errors and 5xx are tried again this often, in the background, with these waits. */
const TRANSIENT_RETRIES = 2;
const TRANSIENT_RETRY_WAIT_MS = 1_000;

export class VehicleReader {
  private readonly jobs = new SingleFlight<void>();
  private readonly upstream: LimitFunction;
  private readonly readLease: Lease;
  private readonly listLease: Lease;

  constructor(
    private readonly store: VehicleStore,
    /** How reads reach Smartcar: API v2.0 or v3 (smartcar-calls.ts). */
    private readonly calls: SmartcarCalls,
    private readonly budget: RequestBudget,
    private readonly clock: Clock,
    private readonly log: FastifyBaseLogger,
    concurrency: number,
  ) {
    this.upstream = pLimit(concurrency);
    this.readLease = new Lease(vehicles.readLeaseUntil, READ_LEASE_MS, clock);
    this.listLease = new Lease(connections.listLeaseUntil, READ_LEASE_MS, clock);
  }

  /** Runs `call` when an upstream slot is free: this process has at most `concurrency` Smartcar calls in flight. */
  limited<T>(call: () => Promise<T>): Promise<T> {
    return this.upstream(call);
  }

  /**
   * Reads the vehicle if a read is requested and no process is doing it. Resolves when done;
   * never rejects (the outcome is in the vehicle's row).
   */
  read(userId: string, vehicleId: string): Promise<void> {
    return this.shared(`read/${userId}/${vehicleId}`, () => this.readUnderLease(userId, vehicleId));
  }

  /** Lists a connection's vehicles if no process is doing it, then reads each. Never rejects. */
  list(userId: string, connectionId: string): Promise<void> {
    return this.shared(`list/${connectionId}`, () => this.listUnderLease(userId, connectionId));
  }

  private shared(key: string, job: () => Promise<void>): Promise<void> {
    return this.jobs.run(key, () =>
      job().catch((error: unknown) => {
        this.log.error({ err: error }, 'background Smartcar job failed');
      }),
    );
  }

  private get db() {
    return this.store.db;
  }

  private async listUnderLease(userId: string, connectionId: string): Promise<void> {
    if (!(await this.leaseConnection(connectionId))) return;
    const thisConnection = eq(connections.id, connectionId);
    const ids = await this.limited(() =>
      this.listLease.hold(
        (until) => this.db.update(connections).set({ listLeaseUntil: until }).where(thisConnection),
        () => retryTransient(() => this.calls.vehicleIds(connectionId)),
        this.renewalFailed,
      ),
    ).catch(async (error: unknown) => {
      // The connection stays stored and is listed again later; its tokens are not lost.
      await this.db
        .update(connections)
        .set({ listLeaseUntil: later(this.clock, LIST_RETRY_MS) })
        .where(thisConnection);
      if (!(error instanceof ApiError)) throw error;
      return undefined;
    });
    if (!ids) return;
    await this.storeListed(userId, connectionId, ids);
    await this.store.changed(userId);
    await Promise.all(ids.map((id) => this.read(userId, id)));
  }

  /** Stores the vehicles a connection covers, each with a read requested. */
  private async storeListed(userId: string, connectionId: string, ids: string[]): Promise<void> {
    await this.db.transaction(async (tx) => {
      for (const id of ids) {
        // A vehicle connected again moves to the new grant, whose permissions are read anew.
        await tx
          .insert(vehicles)
          .values({ userId, id, connectionId, readRequested: 'all' })
          .onConflictDoUpdate({
            target: [vehicles.userId, vehicles.id],
            set: { connectionId, permissions: null, readRequested: 'all', lastFailure: null },
          });
      }
      await tx
        .update(connections)
        .set({ vehiclesListedAt: this.clock.now(), listLeaseUntil: null })
        .where(eq(connections.id, connectionId));
      await deleteEmptyConnections(tx, userId);
    });
  }

  private async readUnderLease(userId: string, vehicleId: string): Promise<void> {
    const vehicle = await this.leaseVehicle(userId, vehicleId);
    if (!vehicle?.readRequested) return;
    const startedAt = vehicle.readAttemptedAt ?? this.clock.now();
    let outcome: Partial<StoredVehicle>;
    try {
      outcome = await this.limited(() =>
        this.readLease.hold(
          (until) => this.store.update(vehicle, { readLeaseUntil: until }),
          () => this.readVehicle(vehicle, vehicle.readRequested ?? 'all', startedAt),
          this.renewalFailed,
        ),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) this.log.error({ err: error, vehicleId }, 'vehicle read failed');
      outcome = { lastFailure: await this.failure(error, vehicleId, startedAt) };
    }
    await this.store.update(vehicle, { ...outcome, readRequested: null, readLeaseUntil: null });
    await this.store.changed(userId);
  }

  /** Reads what the grant allows if unknown, then one read of what the popup shows; answers the row's changes. */
  private async readVehicle(
    vehicle: StoredVehicle,
    scope: ReadScope,
    startedAt: Date,
  ): Promise<Partial<StoredVehicle>> {
    const hold = await this.budget.holdFor(vehicle.id, startedAt);
    if (hold) throw holdError(hold, startedAt);
    const grant =
      vehicle.permissions === null ? await retryTransient(() => this.calls.grant(vehicle)) : undefined;
    const known = {
      ...vehicle,
      ...(grant?.attributes ?? {}),
      permissions: vehicle.permissions ?? grant?.permissions ?? [],
      incapable: [...new Set([...vehicle.incapable, ...(grant?.incapable ?? [])])],
    };
    const request: ReadRequest = {
      attributes: scope === 'all' && known.make === null && known.permissions.includes('read_vehicle_info'),
      figures: figuresToRead(known, scope),
    };
    const changes: Partial<StoredVehicle> = {
      ...(grant?.attributes ?? {}),
      permissions: known.permissions,
      incapable: known.incapable,
      lastFailure: null,
    };
    if (!request.attributes && request.figures.length === 0) return changes;

    const [billed] = (await this.budget.billed([vehicle.id], startedAt)).values();
    if (!this.budget.allows(billed ?? 0, readCost(known, scope))) throw budgetSpent(startedAt);

    const reading = await retryTransient(() => this.calls.read(vehicle, request));
    await this.budget.record(vehicle.id, reading.billed, startedAt);
    await this.budget.clearApplicationBackoff(startedAt);
    return {
      ...changes,
      ...(reading.attributes ?? {}),
      ...(await this.figuresRead(known, reading, startedAt)),
      ...(reading.billed > 0 ? { fetchedAt: startedAt } : {}),
      ...(confirmsCommand(vehicle, reading.data, startedAt) ? { pendingCommand: null } : {}),
    };
  }

  /**
   * The vehicle's values and read times after a batch: what it answered replaces what was stored;
   * a figure the vehicle cannot give is forgotten and never asked again; any other failed item
   * becomes the row's failure.
   */
  private async figuresRead(
    vehicle: StoredVehicle,
    reading: BatchReading,
    startedAt: Date,
  ): Promise<Pick<StoredVehicle, 'data' | 'readAt' | 'incapable' | 'lastFailure'>> {
    let readAt: VehicleReadTimes = { ...vehicle.readAt };
    for (const figure of Object.keys(reading.data) as PopupFigure[]) readAt[figure] = startedAt.toISOString();
    let data: VehicleData = { ...vehicle.data, ...reading.data };
    const incapable = [...vehicle.incapable];
    let lastFailure: ReadFailure | null = null;
    for (const { item, error } of reading.failures) {
      if (item !== 'attributes' && error.incapable) {
        incapable.push(item);
        data = without(data, item);
        readAt = without(readAt, item);
        continue;
      }
      lastFailure ??= await this.failure(error, vehicle.id, startedAt);
    }
    return { data, readAt, incapable, lastFailure };
  }

  /** The failure as the popup shows it; Smartcar's limits are remembered so nobody asks before they lift. */
  private async failure(error: unknown, vehicleId: string, at: Date): Promise<ReadFailure> {
    const apiError = error instanceof ApiError ? error : internalError();
    const hold =
      error instanceof UpstreamError ? await this.budget.holdAfter(error, vehicleId, at) : undefined;
    const retryAt =
      hold?.until ?? (apiError.retryAfter ? new Date(at.getTime() + apiError.retryAfter * 1000) : undefined);
    return {
      code: apiError.code,
      message: apiError.message,
      at: at.toISOString(),
      ...(retryAt ? { retryAt: retryAt.toISOString() } : {}),
    };
  }

  private readonly renewalFailed = (error: unknown) => {
    this.log.warn({ err: error }, 'could not renew a lease');
  };

  private async leaseVehicle(userId: string, vehicleId: string): Promise<StoredVehicle | undefined> {
    const now = this.clock.now();
    const [row] = await this.db
      .update(vehicles)
      // The attempt counts for pacing whether or not it succeeds.
      .set({ readLeaseUntil: this.readLease.until(now), readAttemptedAt: now })
      .where(
        and(
          eq(vehicles.userId, userId),
          eq(vehicles.id, vehicleId),
          sql`${vehicles.readRequested} is not null`,
          this.readLease.free(now),
        ),
      )
      .returning();
    return row;
  }

  private async leaseConnection(connectionId: string): Promise<boolean> {
    const now = this.clock.now();
    const rows = await this.db
      .update(connections)
      .set({ listLeaseUntil: this.listLease.until(now) })
      .where(
        and(
          eq(connections.id, connectionId),
          eq(connections.status, 'active'),
          isNull(connections.vehiclesListedAt),
          this.listLease.free(now),
        ),
      )
      .returning({ id: connections.id });
    return rows.length > 0;
  }
}

/**
 * A read of the lock status settles a pending lock or unlock when it shows the asked state, or
 * when Smartcar is done with the command (its call ended, or it is old enough that it must have):
 * the car's state is then the truth.
 */
function confirmsCommand(vehicle: StoredVehicle, read: VehicleData, startedAt: Date): boolean {
  const command = vehicle.pendingCommand;
  if (!command || !read.security) return false;
  if (read.security.isLocked === (command.action === 'LOCK') || command.ended) return true;
  return new Date(command.sentAt).getTime() + COMMAND_SETTLED_MS < startedAt.getTime();
}

function without<T extends object>(value: T, key: keyof T): T {
  const copy = { ...value };
  // eslint-disable-next-line @typescript-eslint/no-dynamic-delete -- a copy, keyed by a figure name
  delete copy[key];
  return copy;
}

/** Network errors and 5xx only, a few times: never Smartcar's rate limits or allowance. */
function retryTransient<T>(call: () => Promise<T>): Promise<T> {
  return pRetry(call, {
    retries: TRANSIENT_RETRIES,
    minTimeout: TRANSIENT_RETRY_WAIT_MS,
    factor: 3,
    shouldRetry: ({ error }) => error instanceof UpstreamError && error.transient,
  });
}
