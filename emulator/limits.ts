// Smartcar's operational rate limits and the per-vehicle monthly request allowance, with their
// state. Sources for each default are in emulator/README.md ("Rate limits and billing").

export interface Limits {
  /** Application bucket (`RATE_LIMIT:SMARTCAR_API`): requests it holds; null turns the limit off. */
  appBucketSize: number | null;
  /** Requests the application bucket regains per minute. */
  appRefillPerMinute: number;
  /** Requests one vehicle takes per window before `RATE_LIMIT:VEHICLE`; null turns the limit off. */
  vehicleRequestsPerWindow: number | null;
  vehicleWindowSeconds: number;
  /** Billed requests per vehicle per calendar month before `BILLING:VEHICLE_REQUEST_LIMIT`; null: no cap. */
  monthlyRequestsPerVehicle: number | null;
}

export const DEFAULT_LIMITS: Limits = {
  // "a bucket of 120 requests that refills at a rate of 2 requests per minute" (docs /help/api-limits).
  appBucketSize: 120,
  appRefillPerMinute: 2,
  // Assumed: Smartcar documents a per-vehicle limit and its retry-after, not its size; its guidance is
  // fewer than 20 requests per vehicle per hour.
  vehicleRequestsPerWindow: 20,
  vehicleWindowSeconds: 3600,
  // "allocated 500 API calls per vehicle per month" (docs /help/api-limits, as plans in the wild).
  monthlyRequestsPerVehicle: 500,
};

export interface BillingReport {
  /** The billing period, `YYYY-MM` (UTC). */
  month: string;
  /** Billed requests per vehicle id this month: each successful data request or command, each batch item. */
  byVehicle: Record<string, number>;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** What the limits have used up, as plain JSON, to keep across a restart. */
export interface UsageState {
  buckets: [string, Bucket][];
  vehicleRequests: [string, number[]][];
  billed: [string, [string, number][]][];
}

const monthOf = (time: number): string => new Date(time).toISOString().slice(0, 7);

export class RateLimits {
  private readonly buckets = new Map<string, Bucket>();
  /** Times of the requests each vehicle took in its current window. */
  private readonly vehicleRequests = new Map<string, number[]>();
  /** Billed requests per month, then per vehicle. */
  private readonly billed = new Map<string, Map<string, number>>();

  constructor(
    public limits: Limits,
    private readonly now: () => number,
  ) {}

  /** Takes `count` requests from the application's bucket; false (and nothing taken) when it lacks them. */
  takeFromApplication(clientId: string, count: number): boolean {
    const { appBucketSize: size, appRefillPerMinute } = this.limits;
    if (size === null) return true;
    const now = this.now();
    const bucket = this.buckets.get(clientId) ?? { tokens: size, at: now };
    const tokens = Math.min(size, bucket.tokens + ((now - bucket.at) / 60_000) * appRefillPerMinute);
    const enough = tokens >= count;
    this.buckets.set(clientId, { tokens: enough ? tokens - count : tokens, at: now });
    return enough;
  }

  /** Counts one request to the vehicle; the seconds to wait (for `retry-after`) when over its limit. */
  takeFromVehicle(vehicleId: string): number | undefined {
    const { vehicleRequestsPerWindow: allowed, vehicleWindowSeconds } = this.limits;
    if (allowed === null) return undefined;
    const now = this.now();
    const windowMs = vehicleWindowSeconds * 1000;
    const recent = (this.vehicleRequests.get(vehicleId) ?? []).filter((time) => time > now - windowMs);
    this.vehicleRequests.set(vehicleId, recent);
    const [oldest] = recent;
    if (recent.length >= allowed && oldest !== undefined) {
      return Math.max(1, Math.ceil((oldest + windowMs - now) / 1000));
    }
    recent.push(now);
    return undefined;
  }

  /** Billed requests the vehicle may still make this month (Infinity without a cap). */
  allowanceLeft(vehicleId: string): number {
    const cap = this.limits.monthlyRequestsPerVehicle;
    if (cap === null) return Infinity;
    return Math.max(0, cap - (this.billed.get(monthOf(this.now()))?.get(vehicleId) ?? 0));
  }

  bill(vehicleId: string, count = 1): void {
    const month = monthOf(this.now());
    const vehicles = this.billed.get(month) ?? new Map<string, number>();
    vehicles.set(vehicleId, (vehicles.get(vehicleId) ?? 0) + count);
    this.billed.set(month, vehicles);
  }

  billing(): BillingReport {
    const month = monthOf(this.now());
    return { month, byVehicle: Object.fromEntries(this.billed.get(month) ?? []) };
  }

  snapshot(): UsageState {
    return {
      buckets: [...this.buckets],
      vehicleRequests: [...this.vehicleRequests],
      billed: [...this.billed].map(([month, vehicles]) => [month, [...vehicles]]),
    };
  }

  restore(state: UsageState): void {
    for (const [clientId, bucket] of state.buckets) this.buckets.set(clientId, bucket);
    for (const [vehicleId, times] of state.vehicleRequests) this.vehicleRequests.set(vehicleId, times);
    for (const [month, vehicles] of state.billed) this.billed.set(month, new Map(vehicles));
  }

  /** Forgets billed requests, request windows and bucket use (a fresh month and a full bucket). */
  reset(): void {
    this.billed.clear();
    this.vehicleRequests.clear();
    this.buckets.clear();
  }
}
