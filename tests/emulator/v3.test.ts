// API v3 on the emulator's one origin: the application token, the user id on the Connect redirect,
// the Connections API, signals and v3 error bodies, over plain HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_CLIENT, startEmulator, type Emulator } from '../../emulator/index';
import { FULL_SCOPE, connect, devAuthClient, smartcarError, startForSdk } from './helpers';
import smartcar from 'smartcar';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startForSdk({ limits: { appBucketSize: null, vehicleRequestsPerWindow: null } });
});
afterAll(() => emulator.close());

function postToken(form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${emulator.origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

const CREDENTIALS = { client_id: DEV_CLIENT.clientId, client_secret: DEV_CLIENT.clientSecret };

async function applicationToken(): Promise<string> {
  const response = await postToken({ grant_type: 'client_credentials', ...CREDENTIALS });
  return ((await response.json()) as { access_token: string }).access_token;
}

describe('POST /oauth2/token (application token)', () => {
  it('exchanges the client credentials for a one-hour Bearer token without a refresh token', async () => {
    const response = await postToken({ grant_type: 'client_credentials', ...CREDENTIALS });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'token_type']);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    const issued = emulator.issuedTokens().find((token) => token.token === body.access_token);
    expect(issued).toMatchObject({ kind: 'application', clientId: DEV_CLIENT.clientId, status: 'active' });
  });

  it.each([
    ['a missing grant_type', CREDENTIALS],
    ['another grant_type', { grant_type: 'authorization_code', ...CREDENTIALS }],
  ])('answers 400 invalid_request for %s', async (_case, form) => {
    const response = await postToken(form);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request' });
  });

  it.each([
    ['a wrong secret', { ...CREDENTIALS, client_secret: 'wrong' }],
    ['an unknown client', { ...CREDENTIALS, client_id: 'nobody' }],
  ])('answers 401 invalid_client for %s', async (_case, credentials) => {
    const response = await postToken({ grant_type: 'client_credentials', ...credentials });
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('takes the credentials only from the form, not from HTTP Basic', async () => {
    const basic = Buffer.from(`${DEV_CLIENT.clientId}:${DEV_CLIENT.clientSecret}`).toString('base64');
    const response = await postToken(
      { grant_type: 'client_credentials' },
      { authorization: `Basic ${basic}` },
    );
    expect(response.status).toBe(401);
  });

  it('counts the call and plays a fault armed for it', async () => {
    const before = emulator.calls().byEndpoint['token.client_credentials'] ?? 0;
    emulator.injectFault({ endpoint: 'token.client_credentials', status: 503, times: 1 });
    const response = await postToken({ grant_type: 'client_credentials', ...CREDENTIALS });
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'temporarily_unavailable' });
    expect(emulator.calls().byEndpoint['token.client_credentials']).toBe(before + 1);
  });

  it('lists an expired or revoked application token as such', async () => {
    const expiring = await applicationToken();
    const revoked = await applicationToken();
    expect(emulator.expireToken(expiring)).toBe(true);
    expect(emulator.revokeToken(revoked)).toBe(true);
    const statusOf = (token: string) => emulator.issuedTokens().find((t) => t.token === token)?.status;
    expect([statusOf(expiring), statusOf(revoked)]).toEqual(['expired', 'revoked']);
  });
});

describe('Connect redirect', () => {
  it('carries the user id beside the code and the state, the same on every Connect of the account', async () => {
    const client = devAuthClient();
    const choices = { brand: 'TESLA', email: 'v3.redirect@example.com' };
    const first = await connect(client, ['read_odometer'], choices, { state: 'first' });
    const second = await connect(client, ['read_odometer'], choices, { state: 'second' });
    expect([...first.keys()].sort()).toEqual(['code', 'state', 'user_id']);
    expect(first.get('user_id')).toMatch(UUID);
    expect(second.get('user_id')).toBe(first.get('user_id'));
    const other = await connect(client, ['read_odometer'], { brand: 'TESLA', email: 'v3.other@example.com' });
    expect(other.get('user_id')).not.toBe(first.get('user_id'));
  });

  it('is the id GET /v2.0/user answers for the same account', async () => {
    const client = devAuthClient();
    const query = await connect(client, ['read_user_profile'], {
      brand: 'KIA',
      email: 'v3.user@example.com',
    });
    const { accessToken } = await client.exchangeCode(query.get('code') ?? '');
    expect((await smartcar.getUser(accessToken)).id).toBe(query.get('user_id'));
  });

  it('has no user id when the person denies access', async () => {
    const query = await connect(devAuthClient(), ['read_odometer'], {
      email: 'v3.deny@example.com',
      brand: 'TESLA',
      decision: 'deny',
    });
    expect(query.get('error')).toBe('access_denied');
    expect(query.has('user_id')).toBe(false);
  });
});

/** A person who connected the FORD account's three cars (electric, petrol, plug-in hybrid) for the application. */
async function connectFord(email: string): Promise<{ userId: string; token: string }> {
  const query = await connect(devAuthClient(), FULL_SCOPE, { brand: 'FORD', email });
  return { userId: query.get('user_id') ?? '', token: await applicationToken() };
}

function v3(
  path: string,
  token: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<Response> {
  return fetch(`${emulator.origin}/v3${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
}

interface ConnectionBody {
  id: string;
  attributes: { permissions: string[]; vehicle: { make: string; model: string; year: number } };
  relationships: { vehicle: { data: { id: string } }; user: { data: { id: string } } };
}

async function connectionsOf(token: string, query = ''): Promise<ConnectionBody[]> {
  return ((await (await v3(`/connections${query}`, token)).json()) as { data: ConnectionBody[] }).data;
}

async function expectV3Error(
  response: Response,
  status: number,
  type: string,
  code: string | null,
): Promise<void> {
  expect(response.status).toBe(status);
  const { errors } = (await response.json()) as { errors: Record<string, unknown>[] };
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ status: String(status), type, code });
  expect(Object.keys(errors[0] ?? {}).sort()).toEqual(['code', 'detail', 'links', 'status', 'title', 'type']);
}

describe('GET /v3/connections', () => {
  it("lists a user's connections with vehicle, user, permissions and attributes", async () => {
    const { userId, token } = await connectFord('v3.list@example.com');
    const mine = await connectionsOf(token, `?filter[userId]=${userId}`);
    expect(mine.map((c) => c.attributes.vehicle.model).sort()).toEqual([
      'Escape Plug-In Hybrid',
      'F-150 Lightning',
      'Mustang',
    ]);
    for (const connection of mine) expect(connection.relationships.user.data.id).toBe(userId);
    const mustang = mine.find((c) => c.attributes.vehicle.model === 'Mustang');
    expect(mustang?.attributes.vehicle).toEqual({
      make: 'FORD',
      model: 'Mustang',
      year: 2021,
      powertrainType: 'ICE',
    });
    expect(mustang?.attributes.permissions).toContain('read_fuel');
    expect(mustang?.attributes.permissions).not.toContain('read_battery');
  });

  it('filters by vehicle, pages, and gets one connection by its id', async () => {
    const { userId, token } = await connectFord('v3.pages@example.com');
    const [first] = await connectionsOf(token, `?filter[userId]=${userId}`);
    const vehicleId = first?.relationships.vehicle.data.id ?? '';
    expect((await connectionsOf(token, `?filter[vehicleId]=${vehicleId}`)).map((c) => c.id)).toEqual([
      first?.id,
    ]);
    const page = (await (
      await v3(`/connections?filter[userId]=${userId}&page=2&pageSize=2`, token)
    ).json()) as {
      data: unknown[];
      meta: unknown;
      links: { next: string | null; previous: string | null };
    };
    expect(page.data).toHaveLength(1);
    expect(page.meta).toEqual({ page: 2, pageSize: 2, totalCount: 3 });
    expect(page.links.next).toBeNull();
    expect(page.links.previous).toContain('page=1');
    const one = (await (await v3(`/connections/${first?.id}`, token)).json()) as { data: ConnectionBody };
    expect(one.data).toEqual(first);
  });

  it.each([['?filter[user_id]=x'], ['?pageSize=0'], ['?page=abc']])(
    'answers 400 VALIDATION for %s',
    async (query) => {
      await expectV3Error(
        await v3(`/connections${query}`, await applicationToken()),
        400,
        'VALIDATION',
        'BAD_REQUEST',
      );
    },
  );

  it('answers 404 for an unknown connection and 401 for a bad, expired or revoked token', async () => {
    const token = await applicationToken();
    await expectV3Error(await v3('/connections/nope', token), 404, 'RESOURCE_NOT_FOUND', 'NOT_FOUND');
    await expectV3Error(await v3('/connections', 'not-a-token'), 401, 'AUTHENTICATION', 'UNAUTHORIZED');
    emulator.expireToken(token);
    await expectV3Error(await v3('/connections', token), 401, 'AUTHENTICATION', 'UNAUTHORIZED');
    await expectV3Error(
      await v3('/no-such-path', await applicationToken()),
      404,
      'RESOURCE_NOT_FOUND',
      'NOT_FOUND',
    );
  });
});

describe('removing connections', () => {
  it('DELETE /v3/connections/:id disconnects the vehicle, for the v2 token too', async () => {
    const client = devAuthClient();
    const query = await connect(client, FULL_SCOPE, { brand: 'TESLA', email: 'v3.remove@example.com' });
    const { accessToken } = await client.exchangeCode(query.get('code') ?? '');
    const token = await applicationToken();
    const [first, second] = await connectionsOf(token, `?filter[userId]=${query.get('user_id')}`);
    expect((await v3(`/connections/${first?.id}`, token, {}, 'DELETE')).status).toBe(204);
    expect((await connectionsOf(token, `?filter[userId]=${query.get('user_id')}`)).map((c) => c.id)).toEqual([
      second?.id,
    ]);
    expect((await smartcar.getVehicles(accessToken)).vehicles).toEqual([
      second?.relationships.vehicle.data.id,
    ]);
    await expectV3Error(
      await v3(`/connections/${first?.id}`, token, {}, 'DELETE'),
      404,
      'RESOURCE_NOT_FOUND',
      'NOT_FOUND',
    );
  });

  it('DELETE /v3/users/:id purges every connection of the user with 204', async () => {
    const { userId, token } = await connectFord('v3.purge@example.com');
    expect((await v3(`/users/${userId}`, token, {}, 'DELETE')).status).toBe(204);
    expect(await connectionsOf(token, `?filter[userId]=${userId}`)).toEqual([]);
    await expectV3Error(
      await v3(`/users/${userId}`, token, {}, 'DELETE'),
      404,
      'RESOURCE_NOT_FOUND',
      'NOT_FOUND',
    );
  });

  it('a v2 disconnect ends the v3 connection', async () => {
    const client = devAuthClient();
    const query = await connect(client, FULL_SCOPE, {
      brand: 'NISSAN',
      email: 'v3.v2disconnect@example.com',
    });
    const { accessToken } = await client.exchangeCode(query.get('code') ?? '');
    const [vehicleId] = (await smartcar.getVehicles(accessToken)).vehicles;
    await new smartcar.Vehicle(vehicleId ?? '', accessToken).disconnect();
    expect(await connectionsOf(await applicationToken(), `?filter[userId]=${query.get('user_id')}`)).toEqual(
      [],
    );
  });
});

/** What the SDK (10.4) has at run time for v3 but its type declarations lack. */
interface V3Vehicle {
  request(
    method: string,
    path: string,
    body: undefined,
    headers: object,
    version: '3',
  ): Promise<{ body: unknown }>;
  getSignal(code: string): Promise<{ body: unknown }>;
}

describe('v3 signals', () => {
  let userId: string;
  let token: string;
  let lightning: string;
  let mustang: string;

  beforeAll(async () => {
    ({ userId, token } = await connectFord('v3.signals@example.com'));
    const mine = await connectionsOf(token, `?filter[userId]=${userId}`);
    const idOf = (model: string) =>
      mine.find((c) => c.attributes.vehicle.model === model)?.relationships.vehicle.data.id ?? '';
    [lightning, mustang] = [idOf('F-150 Lightning'), idOf('Mustang')];
  });

  const signal = (vehicleId: string, code: string, headers = { 'sc-user-id': userId }) =>
    v3(`/vehicles/${vehicleId}/signals/${code}`, token, headers);

  it('reads a signal as the docs and the SDK show it, and bills it', async () => {
    const before = emulator.billing().byVehicle[lightning] ?? 0;
    const response = await signal(lightning, 'odometer-traveleddistance');
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      attributes: { body: { value: number } };
      meta: Record<string, number>;
    };
    expect(body).toMatchObject({
      id: 'odometer-traveleddistance',
      type: 'signal',
      attributes: {
        code: 'odometer-traveleddistance',
        name: 'TraveledDistance',
        group: 'Odometer',
        status: { value: 'SUCCESS' },
        body: { unit: 'kilometers' },
      },
    });
    expect(body.attributes.body.value).toBeGreaterThan(12_000);
    expect(body.meta.oemUpdatedAt).toBeLessThan(body.meta.retrievedAt ?? 0);
    expect(emulator.billing().byVehicle[lightning]).toBe(before + 1);
  });

  it.each([
    ['tractionbattery-stateofcharge', 'percent'],
    ['tractionbattery-range', 'kilometers'],
    ['location-preciselocation', undefined],
    ['closure-islocked', undefined],
  ])('gives the electric car %s', async (code, unit) => {
    const body = (await (await signal(lightning, code)).json()) as {
      attributes: { body: Record<string, unknown> };
    };
    if (unit) expect(body.attributes.body.unit).toBe(unit);
    if (code === 'closure-islocked') expect(body.attributes.body).toEqual({ value: true });
    if (code === 'location-preciselocation')
      expect(body.attributes.body).toMatchObject({ locationType: 'CURRENT' });
  });

  it('gives the petrol car its fuel signals, and answers 404 for fuel on an electric car', async () => {
    for (const code of [
      'internalcombustionengine-fuellevel',
      'internalcombustionengine-range',
      'internalcombustionengine-amountremaining',
    ]) {
      expect((await signal(mustang, code)).status).toBe(200);
    }
    await expectV3Error(
      await signal(lightning, 'internalcombustionengine-fuellevel'),
      404,
      'RESOURCE_NOT_FOUND',
      'NOT_FOUND',
    );
    await expectV3Error(await signal(mustang, 'no-such-signal'), 404, 'RESOURCE_NOT_FOUND', 'NOT_FOUND');
  });

  it('reflects a v2 unlock in closure-islocked', async () => {
    const client = devAuthClient();
    const query = await connect(client, FULL_SCOPE, { brand: 'BMW', email: 'v3.lock@example.com' });
    const { accessToken } = await client.exchangeCode(query.get('code') ?? '');
    const [vehicleId = ''] = (await smartcar.getVehicles(accessToken)).vehicles;
    await new smartcar.Vehicle(vehicleId, accessToken).unlock();
    const response = await v3(`/vehicles/${vehicleId}/signals/closure-islocked`, await applicationToken(), {
      'sc-user-id': query.get('user_id') ?? '',
    });
    expect(((await response.json()) as { attributes: { body: unknown } }).attributes.body).toEqual({
      value: false,
    });
  });

  it('lists the signals the vehicle has, paged, each billed', async () => {
    const before = emulator.billing().byVehicle[mustang] ?? 0;
    const response = await v3(`/vehicles/${mustang}/signals?pageSize=2`, token, { 'sc-user-id': userId });
    const body = (await response.json()) as {
      data: { id: string }[];
      meta: unknown;
      links: { next: string };
      included: unknown;
    };
    expect(body.data.map((s) => s.id)).toEqual([
      'odometer-traveleddistance',
      'internalcombustionengine-fuellevel',
    ]);
    expect(body.meta).toEqual({ page: 1, pageSize: 2, totalCount: 6 });
    expect(body.links.next).toBe(`/vehicles/${mustang}/signals?pageSize=2&page=2`);
    expect(body.included).toMatchObject({
      vehicle: { id: mustang, attributes: { make: 'FORD', model: 'Mustang' } },
    });
    expect(emulator.billing().byVehicle[mustang]).toBe(before + 2);
  });

  it('requires sc-user-id, and the user who connected the vehicle', async () => {
    const other = await connectFord('v3.intruder@example.com');
    await expectV3Error(
      await v3(`/vehicles/${lightning}/signals/closure-islocked`, token),
      400,
      'VALIDATION',
      'MISSING_PARAMETER',
    );
    await expectV3Error(
      await signal(lightning, 'closure-islocked', { 'sc-user-id': other.userId }),
      403,
      'AUTHENTICATION',
      'ACCESS_DENIED',
    );
    await expectV3Error(
      await signal('unknown-vehicle', 'closure-islocked'),
      404,
      'RESOURCE_NOT_FOUND',
      'NOT_FOUND',
    );
  });

  it('answers 403 PERMISSION for a signal the connection was not granted', async () => {
    const query = await connect(devAuthClient(), ['read_odometer'], {
      brand: 'TOYOTA',
      email: 'v3.narrow@example.com',
    });
    const appToken = await applicationToken();
    const [connection] = await connectionsOf(appToken, `?filter[userId]=${query.get('user_id')}`);
    const response = await v3(
      `/vehicles/${connection?.relationships.vehicle.data.id}/signals/closure-islocked`,
      appToken,
      {
        'sc-user-id': query.get('user_id') ?? '',
      },
    );
    await expectV3Error(response, 403, 'PERMISSION', null);
  });

  it('applies injected faults and the monthly allowance with v3 bodies', async () => {
    emulator.injectFault({ endpoint: 'getSignal', type: 'VEHICLE_STATE', code: 'ASLEEP', times: 1 });
    await expectV3Error(await signal(lightning, 'closure-islocked'), 409, 'VEHICLE_STATE', 'ASLEEP');
    emulator.setLimits({ monthlyRequestsPerVehicle: 0 });
    await expectV3Error(await signal(lightning, 'closure-islocked'), 430, 'BILLING', 'VEHICLE_REQUEST_LIMIT');
    emulator.setLimits({ monthlyRequestsPerVehicle: 500 });
  });

  it('answers GET /v3/vehicles/:id with the attributes, without sc-user-id', async () => {
    const body = (await (await v3(`/vehicles/${mustang}`, token)).json()) as unknown;
    expect(body).toEqual({
      id: mustang,
      type: 'vehicle',
      attributes: { make: 'FORD', model: 'Mustang', year: 2021, powertrainType: 'ICE' },
      links: { self: `/vehicles/${mustang}` },
    });
  });

  it("is read by the official SDK's v3 request with sc-user-id; its getSignal without one fails", async () => {
    process.env.SMARTCAR_API_V3_ORIGIN = emulator.origin;
    const vehicle = new smartcar.Vehicle(lightning, token) as unknown as V3Vehicle;
    const read = await vehicle.request(
      'get',
      'signals/tractionbattery-stateofcharge',
      undefined,
      { 'sc-user-id': userId },
      '3',
    );
    expect(read.body).toMatchObject({
      attributes: { status: { value: 'SUCCESS' }, body: { unit: 'percent' } },
    });
    const error = await smartcarError(vehicle.getSignal('tractionbattery-stateofcharge'));
    expect(error.statusCode).toBe(400);
  });

  it('refuses an application token past its hour on the emulator clock', async () => {
    let now = Date.now();
    const clocked = await startEmulator({ now: () => now });
    const response = await fetch(`${clocked.origin}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', ...CREDENTIALS }).toString(),
    });
    const { access_token: fresh } = (await response.json()) as { access_token: string };
    const list = () =>
      fetch(`${clocked.origin}/v3/connections`, { headers: { authorization: `Bearer ${fresh}` } });
    expect((await list()).status).toBe(200);
    now += 3600_000;
    await expectV3Error(await list(), 401, 'AUTHENTICATION', 'UNAUTHORIZED');
    await clocked.close();
  });
});
