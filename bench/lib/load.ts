// Load on loopback with autocannon, bounded by time or count. Latencies come from each response
// (sub-millisecond), not autocannon's histogram, which rounds to whole milliseconds.
import autocannon from 'autocannon';
import type { Endpoint } from './backend';
import { percentile } from './stats';

export interface LoadResult {
  connections: number;
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  /** Non-2xx answers and socket errors; any of these makes the figure suspect. */
  failures: number;
}

export async function runLoad(
  endpoint: Endpoint,
  options: { connections: number; durationSeconds?: number; amount?: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: endpoint.url,
        headers: endpoint.headers,
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: options.durationSeconds ?? 5 }),
        timeout: 10,
      },
      (error, done) => {
        if (error) reject(error instanceof Error ? error : new Error(String(error)));
        else resolve(done);
      },
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => {
      latencies.push(responseTime);
    });
  });
  const seconds = result.duration;
  return {
    connections: options.connections,
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    failures: result.non2xx + result.errors + result.timeouts,
  };
}
