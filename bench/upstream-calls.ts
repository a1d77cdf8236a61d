// Figure 4: what each thing the extension does costs at Smartcar, counted by the emulator: billed
// requests (each successful data request, command or batch item) and HTTP requests.
import { DEFAULT_LIMITS } from '../emulator';
import type { VehiclesResponse } from '../protocol/server-api';
import { apiClient } from '../tests/support/api-client';
import { startStack, type Stack } from '../tests/support/stack';
import type { Figure, Row } from './lib/report';

/** FORD's test account has three vehicles: enough for "per vehicle" to show. */
const BRAND = 'FORD';
const CONCURRENT_OPENS = 100;
/** The most a read can bill: attributes, odometer, battery, fuel, location, lock status. */
const FIGURES_SHOWN = 6;

interface Cost {
  billed: number;
  requests: number;
  tokenCalls: number;
}

/** Runs `action` on clean counts and returns what it cost at Smartcar. */
async function counted(stack: Stack, action: () => Promise<unknown>): Promise<Cost> {
  stack.emulator.resetCalls();
  stack.emulator.resetUsage();
  await action();
  const calls = stack.emulator.calls();
  const sum = (values: Record<string, number>) => Object.values(values).reduce((a, b) => a + b, 0);
  return {
    billed: sum(stack.emulator.billing().byVehicle),
    requests: sum(calls.requests),
    tokenCalls: calls.byEndpoint['token.refresh_token'] ?? 0,
  };
}

const describe = ({ billed, requests }: Cost) => `${billed} billed (${requests} HTTP requests)`;

export async function upstreamCalls(): Promise<Figure> {
  const rows: Row[] = [];
  const stack = await startStack({ env: { LOG_LEVEL: 'warn' } });
  stack.emulator.setLimits(DEFAULT_LIMITS);
  try {
    const api = apiClient(stack.serverUrl);
    let session = '';
    let vehicleCount = 0;
    const connect = await counted(stack, async () => {
      const connected = await api.connectVehicles({ choices: { brand: BRAND } });
      session = connected.session;
      vehicleCount = connected.vehicles.length;
    });
    rows.push({
      measure: `connect of N = ${vehicleCount} vehicles, until every row is read`,
      value: describe(connect),
      target: `<= ${FIGURES_SHOWN} billed per vehicle = ${FIGURES_SHOWN * vehicleCount}`,
      met: connect.billed <= FIGURES_SHOWN * vehicleCount,
    });

    const open = async () => {
      const answer = await api.call<VehiclesResponse>('GET', '/api/vehicles', { session });
      if (answer.status !== 200)
        throw new Error(`GET /api/vehicles answered ${answer.status}: ${answer.text}`);
    };
    const reopen = await counted(stack, open);
    rows.push({
      measure: 'popup open after connect',
      value: describe(reopen),
      target: '0',
      met: reopen.billed === 0,
    });

    const refresh = await counted(stack, async () => {
      const answer = await api.call('POST', '/api/vehicles/refresh', { session });
      if (answer.status !== 202) throw new Error(`refresh answered ${answer.status}: ${answer.text}`);
      await api.settled(session);
    });
    rows.push({
      measure: `Refresh pressed (${vehicleCount} vehicles; make, model and year are not read again)`,
      value: describe(refresh),
      target: `< ${FIGURES_SHOWN} billed per vehicle`,
      met: refresh.billed < FIGURES_SHOWN * vehicleCount,
    });

    for (const { token } of stack.emulator.issuedTokens().filter((issued) => issued.kind === 'access')) {
      stack.emulator.expireToken(token);
    }
    const burst = await counted(stack, () => Promise.all(Array.from({ length: CONCURRENT_OPENS }, open)));
    rows.push({
      measure: `${CONCURRENT_OPENS} concurrent opens, access token expired, no read due`,
      value: `${describe(burst)}, ${burst.tokenCalls} token refreshes`,
      target: '0: answered from storage',
      met: burst.requests === 0,
    });
  } finally {
    await stack.close();
  }

  return {
    title: '4. Upstream cost (counted by the emulator)',
    rows,
    notes: [
      "Server and emulator in this process, with the emulator's documented rate limits on. Connect is driven over HTTP with `connectVehicles()` from tests/support/api-client.ts, which polls until the background reads finish, as the background does.",
      'Billed requests as Smartcar bills them: each successful data request, command or batch item; the vehicle list, permissions, tokens and disconnect are free. That one refresh per burst of concurrent requests holds is checked by tests/server/token-vault.test.ts.',
    ],
  };
}
