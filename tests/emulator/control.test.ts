// The control API: call counts, fault injection, token expiry and revocation, lifetimes,
// over HTTP (/__emulator) and through the in-process helpers.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  startEmulator,
  type CallCounts,
  type Emulator,
  type Fault,
  type IssuedToken,
} from '../../emulator/index';
import { connectAndExchange, devAuthClient, smartcarError, startForSdk } from './helpers';
import smartcar, { type Access, type Vehicle } from 'smartcar';

let emulator: Emulator;
let access: Access;
let vehicleId: string;
let vehicle: Vehicle;

async function control(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${emulator.origin}/__emulator${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

async function calls(): Promise<CallCounts> {
  return (await (await control('GET', '/calls')).json()) as CallCounts;
}

beforeAll(async () => {
  emulator = await startForSdk({ control: true });
  access = await connectAndExchange(devAuthClient(), ['read_odometer', 'read_location', 'read_battery'], {
    brand: 'TESLA',
  });
  [vehicleId = ''] = (await smartcar.getVehicles(access.accessToken)).vehicles;
  vehicle = new smartcar.Vehicle(vehicleId, access.accessToken);
});
afterEach(async () => {
  await control('DELETE', '/faults');
  await control('DELETE', '/calls');
});
afterAll(() => emulator.close());

it('is off unless enabled', async () => {
  const plain = await startEmulator();
  try {
    expect((await fetch(`${plain.origin}/__emulator/calls`)).status).toBe(404);
  } finally {
    await plain.close();
  }
});

describe('call counts', () => {
  it('counts token grants by type, and vehicle endpoints per endpoint, token and vehicle', async () => {
    const refreshed = await devAuthClient().exchangeRefreshToken(access.refreshToken);
    await vehicle.odometer();
    await vehicle.odometer();
    await vehicle.batch(['/odometer', '/location']);
    const counts = await calls();
    expect(counts.byEndpoint).toEqual({ 'token.refresh_token': 1, odometer: 3, location: 1, batch: 1 });
    // The batch is one request; its items are not requests of their own.
    expect(counts.requests).toEqual({ 'token.refresh_token': 1, odometer: 2, batch: 1 });
    expect(counts.byToken[access.refreshToken]).toEqual({ 'token.refresh_token': 1 });
    expect(counts.byToken[access.accessToken]).toEqual({ odometer: 3, location: 1, batch: 1 });
    expect(counts.byVehicle[vehicleId]).toEqual({ odometer: 3, location: 1, batch: 1 });
    expect(counts.byToken[refreshed.accessToken]).toBeUndefined();
    expect(emulator.calls()).toEqual(counts);
  });

  it('counts concurrent refreshes one by one', async () => {
    const client = devAuthClient();
    const { refreshToken } = await connectAndExchange(client, ['read_odometer'], { brand: 'TESLA' });
    await Promise.all(Array.from({ length: 5 }, () => client.exchangeRefreshToken(refreshToken)));
    expect((await calls()).byEndpoint).toEqual({ 'token.authorization_code': 1, 'token.refresh_token': 5 });
  });

  it('resets', async () => {
    await vehicle.odometer();
    expect((await control('DELETE', '/calls')).status).toBe(204);
    expect(await calls()).toEqual({ byEndpoint: {}, requests: {}, byToken: {}, byVehicle: {} });
  });
});

describe('faults', () => {
  it('answer a vehicle endpoint with a Smartcar error for N calls, then disarm', async () => {
    const created = await control('POST', '/faults', {
      endpoint: 'odometer',
      type: 'VEHICLE_STATE',
      code: 'ASLEEP',
      times: 2,
    });
    expect(created.status).toBe(201);
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const error = await smartcarError(vehicle.odometer());
      expect([error.statusCode, error.type, error.code]).toEqual([409, 'VEHICLE_STATE', 'ASLEEP']);
    }
    await expect(vehicle.odometer()).resolves.toHaveProperty('distance');
    await expect(vehicle.location()).resolves.toHaveProperty('latitude');
  });

  it('send retry-after with a rate limit', async () => {
    emulator.injectFault({ endpoint: 'odometer', type: 'RATE_LIMIT', code: 'VEHICLE', retryAfter: 30 });
    const error = await smartcarError(vehicle.odometer());
    expect([error.statusCode, error.type, error.code, error.retryAfter]).toEqual([
      429,
      'RATE_LIMIT',
      'VEHICLE',
      '30',
    ]);
  });

  it('send a retry-after with a vehicle rate limit that names none, as Smartcar always does', async () => {
    emulator.injectFault({ endpoint: 'odometer', status: 429, times: 1 });
    const error = await smartcarError(vehicle.odometer());
    expect([error.statusCode, error.code, error.retryAfter]).toEqual([429, 'VEHICLE', '60']);
  });

  it('with only a status pick the matching Smartcar error', async () => {
    emulator.injectFault({ endpoint: '*', status: 500 });
    const error = await smartcarError(vehicle.location());
    expect([error.statusCode, error.type, error.code]).toEqual([500, 'SERVER', 'INTERNAL']);
  });

  it('fail the token endpoint with an OAuth error, for refreshes only when so targeted', async () => {
    await control('POST', '/faults', { endpoint: 'token.refresh_token', status: 503, times: 1 });
    const error = await smartcarError(devAuthClient().exchangeRefreshToken(access.refreshToken));
    expect([error.statusCode, error.type]).toEqual([503, 'temporarily_unavailable']);
    await expect(devAuthClient().exchangeRefreshToken(access.refreshToken)).resolves.toHaveProperty(
      'accessToken',
    );
  });

  it('drop the connection', async () => {
    emulator.injectFault({ endpoint: 'token', drop: true, times: 1 });
    await expect(devAuthClient().exchangeRefreshToken(access.refreshToken)).rejects.toThrow(/fetch failed/);
    expect(emulator.calls().byEndpoint['token.refresh_token']).toBe(1);
  });

  it('delay an answer', async () => {
    emulator.injectFault({ endpoint: 'odometer', delayMs: 10_000, times: 1 });
    const pending = fetch(`${emulator.origin}/v2.0/vehicles/${vehicleId}/odometer`, {
      headers: { authorization: `Bearer ${access.accessToken}` },
      signal: AbortSignal.timeout(100),
    });
    await expect(pending).rejects.toThrow(/abort|timeout/i);
  });

  it('with only a delay let the call through afterwards', async () => {
    emulator.injectFault({ endpoint: 'odometer', delayMs: 20, times: 1 });
    await expect(vehicle.odometer()).resolves.toHaveProperty('distance');
    expect(emulator.faults()).toEqual([]);
  });

  it('with only retry-after rate-limit the token endpoint', async () => {
    emulator.injectFault({ endpoint: 'token', retryAfter: 5, times: 1 });
    const error = await smartcarError(devAuthClient().exchangeRefreshToken(access.refreshToken));
    expect([error.statusCode, error.type, error.retryAfter]).toEqual([429, 'rate_limit', '5']);
  });

  it('turn into item errors inside a batch', async () => {
    emulator.injectFault({ endpoint: 'location', type: 'UPSTREAM', code: 'NO_RESPONSE' });
    const batch = await vehicle.batch(['/odometer', '/location']);
    expect(batch.odometer?.()).toHaveProperty('distance');
    expect(() => batch.location?.()).toThrow(/^UPSTREAM:NO_RESPONSE - /);
  });

  it('delay a batch answer until its slowest item is done', async () => {
    emulator.injectFault({ endpoint: 'location', delayMs: 10_000, times: 1 });
    const pending = fetch(`${emulator.origin}/v2.0/vehicles/${vehicleId}/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ requests: [{ path: '/odometer' }, { path: '/location' }] }),
      signal: AbortSignal.timeout(100),
    });
    await expect(pending).rejects.toThrow(/abort|timeout/i);
    expect(emulator.faults()).toEqual([]);
  });

  it('with only a delay let batch items through afterwards, and apply an error after its delay', async () => {
    emulator.injectFault({ endpoint: 'odometer', delayMs: 20, times: 1 });
    emulator.injectFault({ endpoint: 'location', delayMs: 20, status: 409, times: 1 });
    const batch = await vehicle.batch(['/odometer', '/location']);
    expect(batch.odometer?.()).toHaveProperty('distance');
    expect(() => batch.location?.()).toThrow(/^VEHICLE_STATE:UNKNOWN - /);
    expect(emulator.faults()).toEqual([]);
  });

  it('leave a drop armed inside a batch, for the next direct call', async () => {
    const fault = emulator.injectFault({ endpoint: 'odometer', drop: true, times: 1 });
    const batch = await vehicle.batch(['/odometer']);
    expect(batch.odometer?.()).toHaveProperty('distance');
    expect(emulator.faults().map(({ id }) => id)).toEqual([fault.id]);
    await expect(vehicle.odometer()).rejects.toThrow(/fetch failed/);
    expect(emulator.faults()).toEqual([]);
  });

  it('are listed and removed one by one', async () => {
    const fault = (await (
      await control('POST', '/faults', { endpoint: 'fuel', status: 502 })
    ).json()) as Fault;
    expect(((await (await control('GET', '/faults')).json()) as Fault[]).map(({ id }) => id)).toEqual([
      fault.id,
    ]);
    expect((await control('DELETE', `/faults/${fault.id}`)).status).toBe(204);
    expect((await control('DELETE', `/faults/${fault.id}`)).status).toBe(404);
    expect(emulator.faults()).toEqual([]);
  });

  it('reject an invalid spec', async () => {
    expect((await control('POST', '/faults', { endpoint: 'odometer', status: 'soon' })).status).toBe(400);
    expect(() => emulator.injectFault({ endpoint: '' })).toThrow();
  });
});

describe('tokens', () => {
  it('lists every token issued, so tests can look for leaks', async () => {
    const tokens = (await (await control('GET', '/tokens')).json()) as IssuedToken[];
    expect(tokens).toContainEqual(expect.objectContaining({ token: access.accessToken, kind: 'access' }));
    expect(tokens).toContainEqual(expect.objectContaining({ token: access.refreshToken, kind: 'refresh' }));
    expect(emulator.issuedTokens().map(({ token }) => token)).toEqual(tokens.map(({ token }) => token));
  });

  it('expires an access token; a refresh brings a working one', async () => {
    const client = devAuthClient();
    const fresh = await connectAndExchange(client, ['read_odometer'], { brand: 'TESLA' });
    expect((await control('POST', '/tokens/expire', { token: fresh.accessToken })).status).toBe(204);
    const error = await smartcarError(smartcar.getVehicles(fresh.accessToken));
    expect([error.statusCode, error.type]).toEqual([401, 'AUTHENTICATION']);
    const renewed = await client.exchangeRefreshToken(fresh.refreshToken);
    await expect(smartcar.getVehicles(renewed.accessToken)).resolves.toHaveProperty('vehicles');
    expect(emulator.issuedTokens().find(({ token }) => token === fresh.accessToken)?.status).toBe('expired');
  });

  it('revokes or expires a refresh token', async () => {
    const client = devAuthClient();
    for (const action of ['revoke', 'expire']) {
      const fresh = await connectAndExchange(client, ['read_odometer'], { brand: 'TESLA' });
      expect((await control('POST', `/tokens/${action}`, { token: fresh.refreshToken })).status).toBe(204);
      const error = await smartcarError(client.exchangeRefreshToken(fresh.refreshToken));
      expect([error.statusCode, error.type]).toEqual([400, 'invalid_grant']);
    }
  });

  it('answers 404 for a token it never issued', async () => {
    expect((await control('POST', '/tokens/revoke', { token: 'nope' })).status).toBe(404);
  });

  it('ends the grace period of a used refresh token', async () => {
    const client = devAuthClient();
    const fresh = await connectAndExchange(client, ['read_odometer'], { brand: 'TESLA' });
    await control('PUT', '/lifetimes', { refreshGraceSeconds: 0 });
    try {
      await client.exchangeRefreshToken(fresh.refreshToken);
      const error = await smartcarError(client.exchangeRefreshToken(fresh.refreshToken));
      expect([error.statusCode, error.type]).toEqual([400, 'invalid_grant']);
    } finally {
      await control('PUT', '/lifetimes', { refreshGraceSeconds: 60 });
    }
  });

  it('sets lifetimes for tokens issued from then on', async () => {
    const before = emulator.tokenLifetimes();
    const response = await control('PUT', '/lifetimes', { accessTokenTtlSeconds: 30 });
    expect(await response.json()).toEqual({ ...before, accessTokenTtlSeconds: 30 });
    try {
      const token = await fetch(`${emulator.origin}/oauth/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: access.refreshToken,
          client_id: 'emulator-client-id',
          client_secret: 'emulator-client-secret',
        }),
      });
      expect(((await token.json()) as { expires_in: number }).expires_in).toBe(30);
    } finally {
      emulator.setTokenLifetimes(before);
    }
  });
});
