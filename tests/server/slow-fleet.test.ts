// Twelve vehicles on one login, each vehicle call taking Smartcar's slow 15 s (scaled down): the
// exchange answers before any read is done, every vehicle is listed (past `GET /vehicles`' page of
// ten) and each fills in later, and no token shows anywhere.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeResponse } from '../../protocol/server-api';
import { apiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';
import { expectEvery } from '../support/expect-every';

describe('a login with twelve slow vehicles', () => {
  let stack: Stack;

  beforeAll(async () => {
    // The exchange waits SMARTCAR_WAIT_SECONDS at most for the listing: less than one vehicle call.
    stack = await startStack({
      env: { SMARTCAR_WAIT_SECONDS: '1' },
      latency: { vehicleLatencyMs: 15_000, latencyScale: 0.2 },
    });
  });
  afterAll(() => stack.close());

  it('answers the exchange before the reads, lists all twelve, and fills them in later', async () => {
    const api = apiClient(stack.serverUrl);
    const { code, state } = await api.authorize({ choices: { email: 'fleet-12@example.com' } });
    const exchange = await api.call<ExchangeResponse>('POST', '/api/exchange', { body: { code, state } });
    expect(exchange.status).toBe(200);
    // No vehicle has been read yet: the exchange did not wait for Smartcar's vehicle calls.
    expect(exchange.json.vehicles.filter((vehicle) => vehicle.data.odometer != null)).toEqual([]);

    const list = await api.settled(exchange.json.session);
    expect(new Set(list.vehicles.map((vehicle) => vehicle.id)).size).toBe(12);
    expect(list.vehicles.map((vehicle) => [vehicle.status, vehicle.lastFailure])).toEqual(
      list.vehicles.map(() => ['connected', null]),
    );
    expectEvery(list.vehicles, (vehicle) => vehicle.data.odometer != null);
    expect(stack.emulator.calls().byEndpoint.vehicles).toBeGreaterThanOrEqual(2); // two pages

    const texts = [exchange.text, JSON.stringify(list), stack.logs()];
    const tokens = stack.emulator.issuedTokens().map((issued) => issued.token);
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) for (const text of texts) expect(text).not.toContain(token);
  });
});
