// Figure 4: how many Smartcar requests each thing the extension does costs, counted by the emulator.
import type { CallCounts } from '../emulator';
import type { VehiclesResponse } from '../protocol/api';
import { apiClient } from '../tests/support/api-client';
import { startStack, type Stack } from '../tests/support/stack';
import type { Figure, Row } from './lib/report';

/** FORD's test account has three vehicles: enough for "per vehicle" to show. */
const BRAND = 'FORD';
const CONCURRENT_OPENS = 100;

interface Requests {
  total: number;
  breakdown: string;
}

function upstreamRequests({ requests }: CallCounts): Requests {
  const entries = Object.entries(requests);
  return {
    total: entries.reduce((sum, [, calls]) => sum + calls, 0),
    breakdown: entries.map(([name, calls]) => `${name} ${calls}`).join(', ') || 'none',
  };
}

/** Runs `action` on a clean count and returns the Smartcar requests it caused. */
async function counted(stack: Stack, action: () => Promise<unknown>): Promise<Requests> {
  stack.emulator.resetCalls();
  await action();
  return upstreamRequests(stack.emulator.calls());
}

async function openPopup(stack: Stack, session: string): Promise<void> {
  const answer = await apiClient(stack.serverUrl).call<VehiclesResponse>('GET', '/api/vehicles', { session });
  if (answer.status !== 200) throw new Error(`GET /api/vehicles answered ${answer.status}: ${answer.text}`);
}

const describe = ({ total, breakdown }: Requests) => `${total} (${breakdown})`;

export async function upstreamCalls(): Promise<Figure> {
  const rows: Row[] = [];
  const quiet = { LOG_LEVEL: 'warn' };

  const fresh = await startStack({ env: quiet });
  try {
    const api = apiClient(fresh.serverUrl);
    let session = '';
    let vehicleCount = 0;
    const connect = await counted(fresh, async () => {
      const exchange = await api.connectVehicles({ choices: { brand: BRAND } });
      session = exchange.session;
      vehicleCount = exchange.vehicles.length;
    });
    rows.push({
      measure: `connect of N = ${vehicleCount} vehicles`,
      value: describe(connect),
      target: `<= 2 + N = ${2 + vehicleCount}`,
      met: connect.total <= 2 + vehicleCount,
    });
    const open = await counted(fresh, () => openPopup(fresh, session));
    rows.push({
      measure: 'popup open, data fresh',
      value: describe(open),
      target: '0',
      met: open.total === 0,
    });
  } finally {
    await fresh.close();
  }

  // Max age 0: every open finds the data stale.
  const stale = await startStack({ env: { ...quiet, VEHICLE_DATA_MAX_AGE_SECONDS: '0' } });
  try {
    const { session, vehicles } = await apiClient(stale.serverUrl).connectVehicles({
      choices: { brand: BRAND },
    });
    const open = await counted(stale, () => openPopup(stale, session));
    rows.push({
      measure: `popup open, data stale (${vehicles.length} vehicles)`,
      value: describe(open),
      target: `1 per vehicle = ${vehicles.length}`,
      met: open.total === vehicles.length,
    });

    const accessTokens = stale.emulator.issuedTokens().filter((token) => token.kind === 'access');
    for (const { token } of accessTokens) stale.emulator.expireToken(token);
    const burst = await counted(stale, () =>
      Promise.all(Array.from({ length: CONCURRENT_OPENS }, () => openPopup(stale, session))),
    );
    const refreshes = stale.emulator.calls().byEndpoint['token.refresh_token'] ?? 0;
    rows.push({
      measure: `${CONCURRENT_OPENS} concurrent opens, access token expired, data stale`,
      value: `${refreshes} refresh; all requests: ${describe(burst)}`,
      target: 'exactly 1 refresh',
      met: refreshes === 1,
    });
  } finally {
    await stale.close();
  }

  return {
    title: '4. Upstream calls (counted by the emulator)',
    rows,
    notes: [
      'Server and emulator in this process (counts do not depend on timing). Connect is driven over HTTP with `connectVehicles()` from tests/support/api-client.ts, as the background does.',
      "Counts are HTTP requests to Smartcar (the emulator's `requests` counts): a batch is one request, whatever it holds.",
    ],
  };
}
