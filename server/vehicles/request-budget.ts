// What Smartcar lets this server ask, stored so every process knows: each vehicle's billed
// requests this month against the request budget, and the holds Smartcar's limits put on asking
// again. Smartcar bills each successful data request and each item of a batch; the vehicle list,
// permissions and disconnect are free (https://smartcar.com/docs/help/api-limits).
import { and, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { ErrorCode } from '../../protocol/server-api';
import type { Database } from '../db';
import { smartcarHolds, vehicleUsage } from '../db/schema';
import type { Hold, UpstreamError } from '../http/api-errors';
import { monthOf, startOfNextMonth } from '../lib/clock';

/** Share of the monthly budget automatic reads leave for the person's own refreshes and commands. */
const RESERVED_SHARE = 0.2;
/**
 * `RATE_LIMIT:SMARTCAR_API` is an application bucket of 120 refilling at 2 per minute and comes
 * without `retry-after`: wait a minute, doubling per repeat, up to an hour.
 */
const APPLICATION_BACKOFF_MS = 60_000;
const APPLICATION_BACKOFF_CAP_MS = 60 * 60_000;
/** `UPSTREAM:RATE_LIMIT` (the automaker's limit) without `retry-after`: Smartcar's advice is 30 minutes. */
const AUTOMAKER_WAIT_MS = 30 * 60_000;
/** `RATE_LIMIT:VEHICLE` should carry `retry-after`; when it does not, wait this long. */
const VEHICLE_WAIT_MS = 60_000;

const APPLICATION_HOLD = 'application';
const vehicleHold = (smartcarVehicleId: string) => `vehicle:${smartcarVehicleId}`;

export class RequestBudget {
  constructor(
    private readonly db: Database,
    /** Billed requests per vehicle per calendar month. */
    readonly budget: number,
    /** Automatic reads are never closer together than this. */
    private readonly minIntervalMs: number,
  ) {}

  /** Billed requests this month per Smartcar vehicle id. */
  async billed(vehicleIds: string[], now: Date): Promise<Map<string, number>> {
    if (vehicleIds.length === 0) return new Map();
    const rows = await this.db
      .select({ vehicleId: vehicleUsage.vehicleId, billed: vehicleUsage.billed })
      .from(vehicleUsage)
      .where(and(eq(vehicleUsage.month, monthOf(now)), inArray(vehicleUsage.vehicleId, vehicleIds)));
    return new Map(rows.map((row) => [row.vehicleId, row.billed]));
  }

  async record(vehicleId: string, billed: number, now: Date): Promise<void> {
    if (billed <= 0) return;
    await this.db
      .insert(vehicleUsage)
      .values({ vehicleId, month: monthOf(now), billed })
      .onConflictDoUpdate({
        target: [vehicleUsage.vehicleId, vehicleUsage.month],
        set: { billed: sql`${vehicleUsage.billed} + ${billed}` },
      });
  }

  /**
   * Time between automatic reads costing `cost` billed requests: what is left of the budget, less
   * the reserve for the person's own refreshes and commands, spread over what is left of the
   * month; never below the configured floor. Null when automatic reads have spent their share.
   */
  autoReadInterval(billed: number, cost: number, now: Date): number | null {
    const automatic = Math.floor(this.budget * (1 - RESERVED_SHARE)) - billed;
    const reads = Math.floor(automatic / Math.max(1, cost));
    if (reads <= 0) return null;
    const monthLeft = startOfNextMonth(now).getTime() - now.getTime();
    return Math.max(this.minIntervalMs, monthLeft / reads);
  }

  /** Whether a read or command costing `cost` still fits this month's budget. */
  allows(billed: number, cost: number): boolean {
    return billed + cost <= this.budget;
  }

  /** Holds in force for the application and for these vehicles, keyed `application` and by vehicle id. */
  async holds(vehicleIds: string[], now: Date): Promise<{ application?: Hold; vehicles: Map<string, Hold> }> {
    const keys = [APPLICATION_HOLD, ...vehicleIds.map(vehicleHold)];
    const rows = await this.db
      .select()
      .from(smartcarHolds)
      .where(and(inArray(smartcarHolds.key, keys), gt(smartcarHolds.until, now)));
    const vehicles = new Map<string, Hold>();
    let application: Hold | undefined;
    for (const row of rows) {
      const hold: Hold = { until: row.until, code: row.code as ErrorCode, message: row.message };
      if (row.key === APPLICATION_HOLD) application = hold;
      else vehicles.set(row.key.slice('vehicle:'.length), hold);
    }
    return application ? { application, vehicles } : { vehicles };
  }

  /** The hold in force for one vehicle (the application's first), if any. */
  async holdFor(vehicleId: string, now: Date): Promise<Hold | undefined> {
    const { application, vehicles } = await this.holds([vehicleId], now);
    return application ?? vehicles.get(vehicleId);
  }

  /**
   * Remembers a limit Smartcar answered, so nobody asks again before it lifts; answers the hold,
   * or undefined when the error is not one of Smartcar's limits.
   */
  async holdAfter(error: UpstreamError, vehicleId: string, now: Date): Promise<Hold | undefined> {
    const limit = error.limit;
    if (!limit) return undefined;
    const retryAfterMs =
      error.upstream.retryAfterSeconds === undefined ? undefined : error.upstream.retryAfterSeconds * 1000;
    const at = (ms: number) => new Date(now.getTime() + ms);
    const hold = { code: error.code, message: error.message };
    if (limit === 'application') {
      const [previous] = await this.db
        .select({ failures: smartcarHolds.failures })
        .from(smartcarHolds)
        .where(eq(smartcarHolds.key, APPLICATION_HOLD));
      const failures = (previous?.failures ?? 0) + 1;
      const wait = Math.min(APPLICATION_BACKOFF_MS * 2 ** (failures - 1), APPLICATION_BACKOFF_CAP_MS);
      return this.put(APPLICATION_HOLD, { ...hold, until: at(Math.max(wait, retryAfterMs ?? 0)) }, failures);
    }
    const until =
      limit === 'billing'
        ? startOfNextMonth(now)
        : at(retryAfterMs ?? (limit === 'automaker' ? AUTOMAKER_WAIT_MS : VEHICLE_WAIT_MS));
    return this.put(vehicleHold(vehicleId), { ...hold, until }, 0);
  }

  /** Smartcar answered again: the application's back-off starts over. */
  async clearApplicationBackoff(now: Date): Promise<void> {
    await this.db
      .delete(smartcarHolds)
      .where(and(eq(smartcarHolds.key, APPLICATION_HOLD), lte(smartcarHolds.until, now)));
  }

  private async put(key: string, hold: Hold, failures: number): Promise<Hold> {
    const values = { until: hold.until, code: hold.code, message: hold.message, failures };
    await this.db
      .insert(smartcarHolds)
      .values({ key, ...values })
      .onConflictDoUpdate({ target: smartcarHolds.key, set: values });
    return hold;
  }
}
