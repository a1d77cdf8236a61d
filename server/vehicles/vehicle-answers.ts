// A user's vehicles as the extension sees them: always answered from storage at once. Reads of
// the car run in the background (vehicle-reader.ts) when an automatic read is due (paced by the
// request budget, read-schedule.ts), when the person asks, or after a lock whose outcome Smartcar
// has not confirmed.
import { setTimeout as sleep } from 'node:timers/promises';
import type { UnitSystem, VehiclesResponse } from '../../protocol/server-api';
import type { ReadScope } from '../db/schema';
import { budgetSpent, holdError, type ApiError } from '../http/api-errors';
import type { Clock } from '../lib/clock';
import { toApiVehicle, type OwnedVehicle } from './api-vehicle';
import { dueRead, readCost, type ReadContext } from './read-schedule';
import type { RequestBudget } from './request-budget';
import type { VehicleReader } from './vehicle-reader';
import { ANSWER_CACHE_MS, type VehicleStore } from './vehicle-store';

export class VehicleAnswers {
  constructor(
    private readonly store: VehicleStore,
    private readonly reader: VehicleReader,
    private readonly budget: RequestBudget,
    private readonly clock: Clock,
    /** How long a request the person waits on waits for Smartcar. */
    private readonly waitMs: number,
  ) {}

  /**
   * Lists a newly stored connection's vehicles (free) and starts reading them; waits for the list
   * at most the configured time. A list Smartcar has not answered by then is finished in the
   * background and counted in `pendingConnections`.
   */
  async addConnection(userId: string, connectionId: string): Promise<void> {
    await this.store.changed(userId);
    await Promise.race([this.reader.list(userId, connectionId), sleep(this.waitMs)]);
  }

  /**
   * The user's vehicles from storage; starts the reads that are due, and lists connections not
   * listed yet. With the `vehicles_version` the caller's session was looked up at, an answer this
   * process built at that version is reused for a few seconds.
   */
  async list(userId: string, units?: UnitSystem, version?: number): Promise<VehiclesResponse> {
    const cached = this.store.answers.get(userId);
    const now = this.clock.now();
    if (cached && cached.version === version && cached.units === units && now.getTime() < cached.until) {
      return cached.answer;
    }
    const [owned, pending] = await Promise.all([
      this.store.owned(userId),
      this.store.pendingConnections(userId),
    ]);
    for (const connectionId of pending) void this.reader.list(userId, connectionId);
    const context = await this.store.readContext(owned, now);
    await this.startDueReads(userId, owned, context);
    const answer = {
      vehicles: owned.map((row) => toApiVehicle(row, context, units)),
      pendingConnections: pending.length,
    };
    if (version !== undefined) this.keep(userId, version, units, answer);
    return answer;
  }

  /**
   * The person asked for fresh data: reads every connected vehicle now, whatever the pacing,
   * unless Smartcar's limits or the month's budget say to wait (then that error, when no vehicle
   * could be read).
   */
  async refresh(userId: string, units?: UnitSystem): Promise<VehiclesResponse> {
    const now = this.clock.now();
    const owned = (await this.store.owned(userId)).filter((row) => row.status === 'active');
    const context = await this.store.readContext(owned, now);
    if (context.application) throw holdError(context.application, now);
    let refused: ApiError | undefined;
    let started = 0;
    for (const { vehicle } of owned) {
      const hold = context.holds.get(vehicle.id);
      if (hold) {
        refused ??= holdError(hold, now);
        continue;
      }
      if (!this.budget.allows(context.billed.get(vehicle.id) ?? 0, readCost(vehicle, 'all'))) {
        refused ??= budgetSpent(now);
        continue;
      }
      await this.store.requestRead(vehicle, 'all');
      void this.reader.read(userId, vehicle.id);
      started += 1;
    }
    await this.store.changed(userId);
    if (refused && started === 0) throw refused;
    return this.list(userId, units);
  }

  /** Requests the reads that are due (unless another request did) and starts them. */
  private async startDueReads(userId: string, owned: OwnedVehicle[], context: ReadContext): Promise<void> {
    const due: { row: OwnedVehicle; scope: ReadScope }[] = [];
    for (const row of owned) {
      if (row.status !== 'active') continue;
      const scope = dueRead(row.vehicle, context);
      if (scope) due.push({ row, scope });
    }
    for (const { row, scope } of due) {
      if (!row.vehicle.readRequested) {
        await this.store.requestRead(row.vehicle, scope, { unlessReadSince: true });
      }
      row.vehicle.readRequested = row.vehicle.readRequested === 'all' ? 'all' : scope;
      void this.reader.read(userId, row.vehicle.id);
    }
  }

  /** Keeps an answer with nothing under way, until the next automatic read falls due. */
  private keep(userId: string, version: number, units: UnitSystem | undefined, answer: VehiclesResponse) {
    const quiet = answer.pendingConnections === 0 && answer.vehicles.every((vehicle) => !vehicle.reading);
    if (!quiet) return;
    const nextRead = Math.min(
      ...answer.vehicles.map((vehicle) => (vehicle.nextReadAt ? Date.parse(vehicle.nextReadAt) : Infinity)),
    );
    const until = Math.min(nextRead, this.clock.now().getTime() + ANSWER_CACHE_MS);
    this.store.answers.set(userId, { version, units, answer, until });
  }
}
