// Figure 6: how fast the server starts and how much memory it holds, after start and after 100k
// requests, with each database. Start to ready is spawn to the first 200 from /readyz.
import {
  DATABASE_KINDS,
  DATABASE_LABEL,
  connectToServer,
  createServerData,
  startEmulatorProcess,
  startServerProcess,
  type Endpoint,
} from './lib/backend';
import { runLoad } from './lib/load';
import type { Figure, Row } from './lib/report';
import { count, mb, median, ms } from './lib/stats';

/** Restarts on existing data, for the median. */
const STARTS = 3;
const REQUESTS = 100_000;
/** Keeps `npm run bench` under 10 minutes when the server is slow: load stops at this bound. */
const LOAD_SECONDS_MAX = 150;
const CHUNK = 10_000;

/** Up to REQUESTS requests in chunks, stopping at the time bound; returns how many were answered and failed. */
async function load(endpoint: Endpoint): Promise<{ requests: number; failures: number }> {
  const deadline = performance.now() + LOAD_SECONDS_MAX * 1000;
  let requests = 0;
  let failures = 0;
  while (requests < REQUESTS && performance.now() < deadline) {
    const result = await runLoad(endpoint, { connections: 10, amount: Math.min(CHUNK, REQUESTS - requests) });
    requests += result.requests;
    failures += result.failures;
  }
  return { requests, failures };
}

export async function footprint(): Promise<Figure> {
  const emulator = await startEmulatorProcess();
  const rows: Row[] = [];
  try {
    for (const database of DATABASE_KINDS) {
      const label = DATABASE_LABEL[database];
      const data = await createServerData(database);
      try {
        // The first start creates the database (initdb and migrations); restarts open it.
        const first = await startServerProcess(emulator.url, data);
        await first.stop();
        const restarts: number[] = [];
        for (let restart = 1; restart < STARTS; restart++) {
          const server = await startServerProcess(emulator.url, data);
          restarts.push(server.startToReadyMs);
          await server.stop();
        }
        const server = await startServerProcess(emulator.url, data);
        try {
          restarts.push(server.startToReadyMs);
          const afterStart = await server.rss();
          const endpoint = await connectToServer(server.url);
          const done = await load(endpoint);
          const afterLoad = await server.rss();
          rows.push(
            {
              measure: `${label}: first start to ready (creates the database)`,
              value: ms(first.startToReadyMs),
            },
            {
              measure: `${label}: restart to ready (median of ${restarts.length})`,
              value: `${ms(median(restarts))} (${restarts.map((time) => ms(time)).join(', ')})`,
            },
            { measure: `${label}: RSS after restart`, value: mb(afterStart) },
            {
              measure: `${label}: RSS after ${count(done.requests)} requests`,
              value: mb(afterLoad) + (done.failures ? ` (${count(done.failures)} failed)` : ''),
            },
          );
        } finally {
          await server.stop();
        }
      } finally {
        await data.remove();
      }
    }
  } finally {
    await emulator.stop();
  }
  return {
    title: '6. Server footprint',
    rows,
    notes: [
      "The server runs as `npm run server` does (Node with tsx), so start to ready includes loading TypeScript through tsx; the first start may also fill tsx's transform cache.",
      `RSS is VmRSS of the server process. The ${count(REQUESTS)} requests are GET /api/vehicles with fresh data at 10 connections, stopped after ${LOAD_SECONDS_MAX} s if not done (the row then names the count reached).`,
    ],
  };
}
