// Figure 5: GET /api/vehicles with fresh data against the tutorial-shaped baseline, at 1, 10 and
// 100 connections, each server in its own process, the emulator in a third.
import {
  DATABASE_KINDS,
  DATABASE_LABEL,
  connectToBaseline,
  connectToServer,
  createServerData,
  startBaselineProcess,
  startEmulatorProcess,
  startServerProcess,
  type Endpoint,
} from './lib/backend';
import { runLoad, type LoadResult } from './lib/load';
import type { ChildServer } from './lib/processes';
import type { Figure, Row } from './lib/report';
import { count, ms } from './lib/stats';

const CONNECTIONS = [1, 10, 100];
const SECONDS = 5;
const TARGET_RATIO = 10;
const TARGET_P99_MS = 5;

async function measure(
  start: () => Promise<ChildServer>,
  connect: (url: string) => Promise<Endpoint>,
): Promise<LoadResult[]> {
  const server = await start();
  try {
    const endpoint = await connect(server.url);
    // Warm up the JIT, connection pools and caches before anything is counted.
    await runLoad(endpoint, { connections: 10, durationSeconds: 1 });
    const results: LoadResult[] = [];
    for (const connections of CONNECTIONS) {
      results.push(await runLoad(endpoint, { connections, durationSeconds: SECONDS }));
    }
    return results;
  } finally {
    await server.stop();
  }
}

const describe = (result: LoadResult) =>
  `${count(result.requestsPerSecond)} req/s, p50 ${ms(result.p50)}, p99 ${ms(result.p99)}` +
  (result.failures ? `, ${count(result.failures)} failed` : '');

export async function throughput(): Promise<Figure> {
  const emulator = await startEmulatorProcess();
  try {
    const baseline = await measure(() => startBaselineProcess(emulator.url), connectToBaseline);
    const rows: Row[] = baseline.map((result) => ({
      measure: `baseline (Express, one Smartcar call per request), ${result.connections} conn.`,
      value: describe(result),
    }));
    for (const database of DATABASE_KINDS) {
      const data = await createServerData(database);
      const ours = await measure(() => startServerProcess(emulator.url, data), connectToServer).finally(() =>
        data.remove(),
      );
      ours.forEach((result, index) => {
        const base = baseline[index];
        const ratio = base ? result.requestsPerSecond / base.requestsPerSecond : Number.NaN;
        rows.push({
          measure: `server, ${DATABASE_LABEL[database]}, ${result.connections} conn.`,
          value: `${describe(result)}; ${ratio.toFixed(1)}x baseline`,
          target:
            `>= ${TARGET_RATIO}x baseline` +
            (result.connections === 10 ? `, p99 <= ${TARGET_P99_MS} ms` : ''),
          met:
            ratio >= TARGET_RATIO &&
            result.failures === 0 &&
            (result.connections !== 10 || result.p99 <= TARGET_P99_MS),
        });
      });
    }
    return {
      title: '5. Server throughput and latency: GET /api/vehicles, fresh data',
      rows,
      notes: [
        `autocannon on loopback, ${SECONDS} s per row after a 1 s warm-up; latencies are per response, nearest rank.`,
        'Each server runs in its own Node process (tsx, as `npm run server`), LOG_LEVEL=warn, rate limit raised; the emulator runs in a third process. The load generator, the server and (for the baseline) the emulator share the 2 cores.',
        'Baseline: bench/baseline/server.ts, the tutorial shape: Express, the smartcar SDK, the access token in memory, `vehicle.attributes()` on every request.',
      ],
    };
  } finally {
    await emulator.stop();
  }
}
