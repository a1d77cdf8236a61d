// SMARTCAR_API_VERSION=3 through the real server and the emulator: a connect proves whose grant it
// is with Smartcar and keeps that Smartcar user sealed; vehicles are listed from the v3
// Connections API, read by signal with the application token (never with a batch) and
// disconnected by removing their connection; and a forged `user_id` on the redirect never shows
// the person who sent it another person's car.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExchangeResponse } from '../../protocol/server-api';
import { apiClient, type ApiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';

let stack: Stack;
let api: ApiClient;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let client: pg.Client;

beforeAll(async () => {
  database = await createTestDatabase();
  stack = await startStack({
    env: { SMARTCAR_API_VERSION: '3', DATABASE_URL: database.url, VEHICLE_DATA_MAX_AGE_SECONDS: '0' },
  });
  api = apiClient(stack.serverUrl);
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
});

afterAll(async () => {
  await client.end();
  await stack.close();
  await database.drop();
});

const requests = () => stack.emulator.calls().byEndpoint;

describe('Smartcar API v3', () => {
  it('lists the vehicles by connection and reads them by signal, with one application token', async () => {
    stack.emulator.resetCalls();
    const { vehicles } = await api.connectVehicles({
      choices: { brand: 'TESLA', email: 'v3-reads@example.com' },
    });
    expect(vehicles.length).toBeGreaterThan(0);
    for (const vehicle of vehicles) {
      expect(vehicle.make).toBe('TESLA');
      expect(vehicle.data.odometer?.distance).toBeGreaterThan(0);
      expect(vehicle.data.battery?.percentRemaining).toBeGreaterThan(0);
      expect(vehicle.data.battery?.percentRemaining).toBeLessThanOrEqual(1);
      expect(vehicle.data.security).toBeDefined();
      // An electric car's connection says it has no fuel: never asked for.
      expect(vehicle.data.fuel).toBeUndefined();
      expect(vehicle.lastFailure).toBeNull();
    }
    const calls = requests();
    expect(calls.batch).toBeUndefined();
    expect(calls.permissions).toBeUndefined();
    expect(calls.getSignal).toBeGreaterThanOrEqual(vehicles.length * 5);
    expect(calls['token.client_credentials']).toBe(1);
    expect(calls.getConnections).toBeGreaterThan(0);
  });

  it('disconnects a vehicle by removing its v3 connection, and lists it no more', async () => {
    const { session, vehicles } = await api.connectVehicles({
      choices: { email: 'v3-disconnect@example.com' },
    });
    const [gone, ...kept] = vehicles.map((vehicle) => vehicle.id);
    stack.emulator.resetCalls();
    const answer = await api.call('DELETE', `/api/vehicles/${gone ?? ''}`, { session });
    expect(answer.status).toBe(204);
    expect(requests().deleteConnection).toBe(1);
    expect(requests().disconnect).toBeUndefined();
    const after = await api.readNow(session);
    expect(after.vehicles.map((vehicle) => vehicle.id)).toEqual(kept);
  });

  it('keeps the Smartcar user sealed: not in the database in the clear, the logs or the answers', async () => {
    const { redirect, code, state } = await api.authorize({ choices: { email: 'v3-sealed@example.com' } });
    const smartcarUserId = redirect.searchParams.get('user_id') ?? '';
    expect(smartcarUserId).not.toBe('');
    const exchange = await api.call<ExchangeResponse>('POST', '/api/exchange', {
      body: { code, state, smartcarUserId },
    });
    expect(exchange.status).toBe(200);
    const { rows } = await client.query<{ smartcar_user_id: Buffer | null }>(
      'SELECT smartcar_user_id FROM connections',
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row.smartcar_user_id).not.toBeNull();
      expect(row.smartcar_user_id?.toString('latin1')).not.toContain(smartcarUserId);
    }
    expect(stack.logs()).not.toContain(smartcarUserId);
    expect(exchange.text).not.toContain(smartcarUserId);
  });

  it("shows a forged redirect's sender only their own cars, and tells the operator", async () => {
    const victim = await api.authorize({ choices: { brand: 'TESLA', email: 'v3-victim@example.com' } });
    const victimUserId = victim.redirect.searchParams.get('user_id') ?? '';
    const victimExchange = await api.call<ExchangeResponse>('POST', '/api/exchange', {
      body: { code: victim.code, state: victim.state },
    });
    const victimVehicles = (await api.settled(victimExchange.json.session)).vehicles.map((v) => v.id);
    expect(victimVehicles.length).toBeGreaterThan(0);

    // The attacker's own Connect, own code and own state, with the victim's user id typed in.
    const attacker = await api.authorize({ choices: { brand: 'FORD', email: 'v3-attacker@example.com' } });
    const forged = await api.call<ExchangeResponse>('POST', '/api/exchange', {
      body: { code: attacker.code, state: attacker.state, smartcarUserId: victimUserId },
    });
    expect(forged.status).toBe(200);
    const shown = (await api.settled(forged.json.session)).vehicles;
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.map((v) => v.make)).toEqual(shown.map(() => 'FORD'));
    expect(shown.map((v) => v.id).filter((id) => victimVehicles.includes(id))).toEqual([]);
    expect(stack.logs()).toContain("the Connect redirect named another Smartcar user than the grant's own");
    expect(stack.logs()).not.toContain(victimUserId);
  });
});

describe('Smartcar API v3 beside grants made before it', () => {
  let before: Stack;

  beforeAll(async () => {
    // A grant without read_user_profile, as every grant made under API v2.0 is.
    before = await startStack({
      env: {
        SMARTCAR_API_VERSION: '3',
        SMARTCAR_SCOPE: 'read_vehicle_info read_odometer read_battery read_fuel read_location read_security',
      },
    });
  });

  afterAll(async () => {
    await before.close();
  });

  it('keeps reading a connection whose Smartcar user Smartcar will not tell through its own tokens', async () => {
    const { vehicles } = await apiClient(before.serverUrl).connectVehicles({
      choices: { email: 'v3-before@example.com' },
    });
    expect(vehicles.length).toBeGreaterThan(0);
    for (const vehicle of vehicles) {
      expect(vehicle.data.odometer?.distance).toBeGreaterThan(0);
      expect(vehicle.lastFailure).toBeNull();
    }
    const calls = before.emulator.calls().byEndpoint;
    expect(calls.batch).toBeGreaterThan(0);
    expect(calls.getSignal).toBeUndefined();
  });
});
