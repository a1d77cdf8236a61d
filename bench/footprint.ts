// Figure 6: how fast the server starts and how much memory it holds, after start and after 100k
// requests, with each database. Start to ready is spawn to the first 200 from /readyz.
import {
  DATABASE_KINDS,
  DATABASE_LABEL,
  connectToServer,
  startEmulatorProcess,
  startServerProcess,
} from './lib/backend';
import { runLoad } from './lib/load';
import type { Figure, Row } from './lib/report';
import { count, mb, median, ms } from './lib/stats';

const STARTS = 3;
const REQUESTS = 100_000;

export async function footprint(): Promise<Figure> {
  const emulator = await startEmulatorProcess();
  const rows: Row[] = [];
  try {
    for (const database of DATABASE_KINDS) {
      const label = DATABASE_LABEL[database];
      const startTimes: number[] = [];
      // Cold starts but the last are stopped at once; the last one takes the load.
      for (let start = 1; start < STARTS; start++) {
        const server = await startServerProcess(emulator.url, database);
        startTimes.push(server.startToReadyMs);
        await server.stop();
      }
      const server = await startServerProcess(emulator.url, database);
      try {
        startTimes.push(server.startToReadyMs);
        const afterStart = await server.rss();
        const endpoint = await connectToServer(server.url);
        const load = await runLoad(endpoint, { connections: 10, amount: REQUESTS });
        const afterLoad = await server.rss();
        rows.push(
          {
            measure: `${label}: start to ready (median of ${STARTS})`,
            value: `${ms(median(startTimes))} (${startTimes.map((time) => ms(time)).join(', ')})`,
          },
          { measure: `${label}: RSS after start`, value: mb(afterStart) },
          {
            measure: `${label}: RSS after ${count(load.requests)} requests`,
            value: mb(afterLoad) + (load.failures ? ` (${count(load.failures)} failed)` : ''),
          },
        );
      } finally {
        await server.stop();
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
      `RSS is VmRSS of the server process. The ${count(REQUESTS)} requests are GET /api/vehicles with fresh data at 10 connections.`,
    ],
  };
}
