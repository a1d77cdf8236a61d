// The work that waits on Smartcar, done in the background so nobody waits on it: listing a new
// connection's vehicles, reading a vehicle, confirming a lock. Every job is resumable from the
// database: what is wanted is stored first (`read_requested`, `vehicles_listed_at` null), and a
// process doing it holds a short lease that it renews while it works, so across processes only one
// does each job, a process that dies lets go within the lease, and no transaction or lock is held
// across a network call. Within a process a shared promise joins a job already running.
import { and, eq, isNull, lt, notExists, or, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import pLimit, { type LimitFunction } from 'p-limit';
import pRetry from 'p-retry';
import type { ReadFailure, VehicleData, VehicleReadTimes } from '../protocol/server-api';
import type { RequestBudget } from './budget';
import type { Database } from './db';
import { connections, vehicles, type ReadScope } from './db/schema';
import { ApiError, budgetSpent, holdError, internalError, UpstreamError } from './api-errors';
import { FIGURE_NAMES, FIGURES, type Figure, type ReadRequest, type SmartcarGateway } from './smartcar';
import { SingleFlight } from './single-flight';
import type { TokenVault } from './vault/token-vault';

type VehicleRow = typeof vehicles.$inferSelect;

/** A job's lease on its row; renewed every third of it while the job runs. */
export const LEASE_MS = 30_000;
/** A connection whose vehicle list failed is tried again after this long. */
const LIST_RETRY_MS = 60_000;
/** Network errors and 5xx are tried again this often, in the background, with these waits. */
const TRANSIENT_RETRIES = 2;
const TRANSIENT_RETRY_WAIT_MS = 1_000;

/** The figures a read asks for: what the grant allows and the vehicle has not shown it lacks. */
export function figuresToRead(
  vehicle: Pick<VehicleRow, 'permissions' | 'incapable'>,
  scope: ReadScope,
): Figure[] {
  const candidates: Figure[] = scope === 'security' ? ['security'] : FIGURE_NAMES;
  return candidates.filter(
    (figure) =>
      (vehicle.permissions === null || vehicle.permissions.includes(FIGURES[figure].permission)) &&
      !vehicle.incapable.includes(figure),
  );
}

/** Billed requests a read will cost (permissions are free). */
export function readCost(
  vehicle: Pick<VehicleRow, 'permissions' | 'incapable' | 'make'>,
  scope: ReadScope,
): number {
  const attributes = scope === 'all' && vehicle.make === null ? 1 : 0;
  return attributes + figuresToRead(vehicle, scope).length;
}

export class VehicleReader {
  private readonly jobs = new SingleFlight<void>();
  private readonly upstream: LimitFunction;

  constructor(
    private readonly db: Database,
    private readonly vault: TokenVault,
    private readonly smartcar: SmartcarGateway,
    private readonly budget: RequestBudget,
    private readonly log: FastifyBaseLogger,
    concurrency: number,
    /** Called after a job changed a user's vehicles. */
    private readonly changed: (userId: string) => Promise<void>,
  ) {
    this.upstream = pLimit(concurrency);
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

  private async listUnderLease(userId: string, connectionId: string): Promise<void> {
    const lease = await this.leaseConnection(connectionId);
    if (!lease) return;
    const ids = await this.limited(() =>
      this.withLease(
        () => this.renewConnectionLease(connectionId),
        () =>
          retryTransient(() =>
            this.vault.withAccessToken(connectionId, (token) => this.smartcar.vehicleIds(token)),
          ),
      ),
    ).catch(async (error: unknown) => {
      // The connection stays stored and is listed again later; its tokens are not lost.
      await this.db
        .update(connections)
        .set({ listLeaseUntil: new Date(Date.now() + LIST_RETRY_MS) })
        .where(eq(connections.id, connectionId));
      if (!(error instanceof ApiError)) throw error;
      return undefined;
    });
    if (!ids) return;
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
        .set({ vehiclesListedAt: new Date(), listLeaseUntil: null })
        .where(eq(connections.id, connectionId));
      await deleteEmptyConnections(tx, userId);
    });
    await this.changed(userId);
    await Promise.all(ids.map((id) => this.read(userId, id)));
  }

  private async readUnderLease(userId: string, vehicleId: string): Promise<void> {
    const vehicle = await this.leaseVehicle(userId, vehicleId);
    if (!vehicle?.readRequested) return;
    const startedAt = vehicle.readAttemptedAt ?? new Date();
    let outcome: Partial<VehicleRow>;
    try {
      outcome = await this.limited(() =>
        this.withLease(
          () => this.renewVehicleLease(userId, vehicleId),
          () => this.readVehicle(vehicle, vehicle.readRequested ?? 'all', startedAt),
        ),
      );
    } catch (error) {
      if (!(error instanceof ApiError)) this.log.error({ err: error, vehicleId }, 'vehicle read failed');
      outcome = { lastFailure: await this.failure(error, vehicleId, startedAt) };
    }
    await this.db
      .update(vehicles)
      .set({ ...outcome, readRequested: null, readLeaseUntil: null })
      .where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
    await this.changed(userId);
  }

  /** Reads permissions if unknown, then one batch of what the popup shows; answers the row's changes. */
  private async readVehicle(
    vehicle: VehicleRow,
    scope: ReadScope,
    startedAt: Date,
  ): Promise<Partial<VehicleRow>> {
    const hold = await this.budget.holdFor(vehicle.id, startedAt);
    if (hold) throw holdError(hold, startedAt);
    const call = <T>(request: (token: string) => Promise<T>) =>
      retryTransient(() => this.vault.withAccessToken(vehicle.connectionId, request));

    const permissions =
      vehicle.permissions ?? (await call((token) => this.smartcar.permissions(vehicle.id, token)));
    const known = { ...vehicle, permissions };
    const request: ReadRequest = {
      attributes: scope === 'all' && vehicle.make === null && permissions.includes('read_vehicle_info'),
      figures: figuresToRead(known, scope),
    };
    const changes: Partial<VehicleRow> = { permissions, lastFailure: null };
    if (!request.attributes && request.figures.length === 0) return changes;

    const [billed] = (await this.budget.billed([vehicle.id], startedAt)).values();
    if (!this.budget.allows(billed ?? 0, readCost(known, scope))) throw budgetSpent(startedAt);

    const reading = await call((token) => this.smartcar.readVehicle(vehicle.id, token, request));
    await this.budget.record(vehicle.id, reading.billed, startedAt);
    await this.budget.clearApplicationBackoff(startedAt);

    let readAt: VehicleReadTimes = { ...vehicle.readAt };
    for (const figure of Object.keys(reading.data) as Figure[]) readAt[figure] = startedAt.toISOString();
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
    return {
      ...changes,
      ...(reading.attributes ?? {}),
      data,
      readAt,
      incapable,
      lastFailure,
      ...(reading.billed > 0 ? { fetchedAt: startedAt } : {}),
      ...(confirmsCommand(vehicle, reading.data, startedAt) ? { pendingCommand: null } : {}),
    };
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

  /** Runs `work` while renewing a lease every third of its length. */
  private async withLease<T>(renew: () => Promise<unknown>, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      renew().catch((error: unknown) => {
        this.log.warn({ err: error }, 'could not renew a lease');
      });
    }, LEASE_MS / 3).unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  private async leaseVehicle(userId: string, vehicleId: string): Promise<VehicleRow | undefined> {
    const now = new Date();
    const [row] = await this.db
      .update(vehicles)
      // The attempt counts for pacing whether or not it succeeds.
      .set({ readLeaseUntil: new Date(now.getTime() + LEASE_MS), readAttemptedAt: now })
      .where(
        and(
          eq(vehicles.userId, userId),
          eq(vehicles.id, vehicleId),
          sql`${vehicles.readRequested} is not null`,
          or(isNull(vehicles.readLeaseUntil), lt(vehicles.readLeaseUntil, now)),
        ),
      )
      .returning();
    return row;
  }

  private renewVehicleLease(userId: string, vehicleId: string) {
    return this.db
      .update(vehicles)
      .set({ readLeaseUntil: new Date(Date.now() + LEASE_MS) })
      .where(and(eq(vehicles.userId, userId), eq(vehicles.id, vehicleId)));
  }

  private async leaseConnection(connectionId: string): Promise<boolean> {
    const now = new Date();
    const rows = await this.db
      .update(connections)
      .set({ listLeaseUntil: new Date(now.getTime() + LEASE_MS) })
      .where(
        and(
          eq(connections.id, connectionId),
          eq(connections.status, 'active'),
          isNull(connections.vehiclesListedAt),
          or(isNull(connections.listLeaseUntil), lt(connections.listLeaseUntil, now)),
        ),
      )
      .returning({ id: connections.id });
    return rows.length > 0;
  }

  private renewConnectionLease(connectionId: string) {
    return this.db
      .update(connections)
      .set({ listLeaseUntil: new Date(Date.now() + LEASE_MS) })
      .where(eq(connections.id, connectionId));
  }
}

/**
 * A read of the lock status settles a pending lock or unlock when it shows the asked state, or
 * when Smartcar is done with the command (its call ended, or it is old enough that it must have):
 * the car's state is then the truth.
 */
function confirmsCommand(vehicle: VehicleRow, read: VehicleData, startedAt: Date): boolean {
  const command = vehicle.pendingCommand;
  if (!command || !read.security) return false;
  if (read.security.isLocked === (command.action === 'LOCK') || command.ended) return true;
  return new Date(command.sentAt).getTime() + COMMAND_SETTLED_MS < startedAt.getTime();
}

/** After this long a command has been answered or timed out at Smartcar's end (its SDK waits 310 s). */
export const COMMAND_SETTLED_MS = 6 * 60_000;

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
