// Counts of requests that reached the emulator, so tests can prove how many calls a client made
// (for example: one token refresh for a hundred concurrent requests).

export interface CallCounts {
  /** Per endpoint name (`token.refresh_token`, `odometer`, `batch`, ...), batch items included. */
  byEndpoint: Record<string, number>;
  /** HTTP requests per endpoint name: a batch counts once, under `batch`, whatever it holds. */
  requests: Record<string, number>;
  /** Per token presented (access token for the vehicle API, refresh token for refreshes), then per endpoint. */
  byToken: Record<string, Record<string, number>>;
  /** Per vehicle id, then per endpoint. */
  byVehicle: Record<string, Record<string, number>>;
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}

function nested(table: Record<string, Record<string, number>>, key: string): Record<string, number> {
  return (table[key] ??= {});
}

const emptyCounts = (): CallCounts => ({ byEndpoint: {}, requests: {}, byToken: {}, byVehicle: {} });

export class CallLog {
  private counts: CallCounts = emptyCounts();

  /** Counts a call; `batchItem` marks one made inside a batch request, which is no request of its own. */
  record(endpoint: string, token?: string, vehicleId?: string, options: { batchItem?: boolean } = {}): void {
    bump(this.counts.byEndpoint, endpoint);
    if (!options.batchItem) bump(this.counts.requests, endpoint);
    if (token) bump(nested(this.counts.byToken, token), endpoint);
    if (vehicleId) bump(nested(this.counts.byVehicle, vehicleId), endpoint);
  }

  snapshot(): CallCounts {
    return structuredClone(this.counts);
  }

  reset(): void {
    this.counts = emptyCounts();
  }
}
