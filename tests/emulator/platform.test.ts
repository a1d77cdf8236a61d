// The platform as Smartcar documents it, through the official SDK over real sockets: strict batch
// paths, v2 errors for every failure, paging, rate limits, the monthly allowance and billing,
// compatibility and webhook subscriptions.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, DEV_CLIENT, type Emulator } from '../../emulator/index';
import { FULL_SCOPE, connectAndExchange, devAuthClient, smartcarError, startForSdk } from './helpers';
import smartcar, { type Meta, type Vehicle } from 'smartcar';

// SDK methods types/smartcar.d.ts leaves out because the server does not use them.
interface Capability {
  permission: string;
  endpoint: string | null;
  capable: boolean;
  reason: string | null;
}
interface MatrixEntry {
  model: string;
  type: string;
  startYear: number;
  endYear: number;
  endpoints: string[];
  permissions: string[];
}
type Credentials = { clientId: string; clientSecret: string };
const sdk = smartcar as typeof smartcar & {
  getCompatibility(
    vin: string,
    scope: string[],
    country: string | null,
    options: Credentials,
  ): Promise<{ compatible: boolean; reason: string | null; capabilities: Capability[]; meta: Meta }>;
  getCompatibilityMatrix(
    region: string,
    options: Credentials & { scope?: string[]; make?: string; type?: string },
  ): Promise<Record<string, MatrixEntry[] | undefined>>;
};
type WebhookVehicle = Vehicle & {
  subscribe(webhookId: string): Promise<{ webhookId: string; vehicleId: string; meta: Meta }>;
  unsubscribe(amt: string, webhookId: string): Promise<{ status: string; meta: Meta }>;
};

const V2_KEYS = ['code', 'description', 'docURL', 'requestId', 'resolution', 'statusCode', 'type'];

let emulator: Emulator;
let accessToken: string;
let vehicleId: string;
let vehicle: Vehicle;
let accounts = 0;

/** A vehicle of a fresh login, so its request window and allowance are its own. */
async function freshVehicle(
  scope = ['read_odometer', 'read_location', 'control_security'],
): Promise<{ car: Vehicle; id: string; token: string }> {
  accounts += 1;
  const { accessToken: token } = await connectAndExchange(devAuthClient(), scope, {
    brand: 'TESLA',
    email: `platform${accounts}@example.com`,
  });
  const [id = ''] = (await smartcar.getVehicles(token)).vehicles;
  return { car: new smartcar.Vehicle(id, token), id, token };
}

beforeAll(async () => {
  emulator = await startForSdk();
  ({ accessToken } = await connectAndExchange(devAuthClient(), FULL_SCOPE, { brand: 'CHEVROLET' }));
  [vehicleId = ''] = (await smartcar.getVehicles(accessToken)).vehicles;
  vehicle = new smartcar.Vehicle(vehicleId, accessToken);
});
afterEach(() => {
  emulator.setLimits(DEFAULT_LIMITS);
  emulator.resetUsage();
  emulator.clearFaults();
});
afterAll(() => emulator.close());

function errorOf(call: (() => unknown) | undefined): Error & { type?: string; statusCode?: number } {
  try {
    call?.();
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected the batch item to throw.');
}

describe('batch', () => {
  it.each([
    [
      'every path the SDKs’ tests batch',
      ['/', '/vin', '/odometer', '/location', '/engine/oil', '/tires/pressure'],
    ],
    ['the rest of them', ['/fuel', '/battery', '/battery/capacity', '/charge', '/charge/limit', '/security']],
    ['diagnostics', ['/diagnostics/dtcs', '/diagnostics/system_status']],
  ])('answers %s', async (_name, paths) => {
    const response = await vehicle.request('post', 'batch', { requests: paths.map((path) => ({ path })) });
    const { responses } = response.body as { responses: { path: string; code: number }[] };
    expect(responses.map(({ path, code }) => [path, code])).toEqual(paths.map((path) => [path, 200]));
  });

  it.each([['/permissions'], ['/LOCATIONNNNNNNN'], ['/battery/nominal_capacity'], ['/service/history']])(
    'fails whole with 400 VALIDATION when it holds %s',
    async (path) => {
      const error = await smartcarError(vehicle.batch(['/odometer', path]));
      expect([error.statusCode, error.type, error.code]).toEqual([400, 'VALIDATION', undefined]);
      expect(error.requestId).toMatch(/^[0-9a-f-]{36}$/);
    },
  );

  it('keeps a failed item’s own status and v2 body beside the items that succeed', async () => {
    const { car: limited } = await freshVehicle(['read_odometer']);
    const response = await limited.request('post', 'batch', {
      requests: [{ path: '/odometer' }, { path: '/location' }],
    });
    const [odometer, location] = (response.body as { responses: Record<string, unknown>[] }).responses;
    expect(odometer?.code).toBe(200);
    expect(location?.code).toBe(403);
    expect(location?.headers).toMatchObject({ 'content-type': 'application/json' });
    expect(Object.keys(location?.body as object).sort()).toEqual(V2_KEYS);
    expect(location?.body).toMatchObject({ type: 'PERMISSION', code: null, statusCode: 403 });
  });
});

describe('errors', () => {
  async function send(method: string, path: string, init: RequestInit = {}) {
    const response = await fetch(`${emulator.origin}${path}`, { method, ...init });
    return {
      status: response.status,
      contentType: response.headers.get('content-type'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  it.each([
    ['an unknown path', 'GET', '/v2.0/nowhere', {}, 404, 'RESOURCE_NOT_FOUND'],
    ['an unknown method', 'PUT', '/v2.0/vehicles', {}, 404, 'RESOURCE_NOT_FOUND'],
    [
      'an empty JSON body on an unknown path',
      'POST',
      '/v2.0/nowhere',
      { headers: { 'content-type': 'application/json' } },
      404,
      'RESOURCE_NOT_FOUND',
    ],
    [
      'malformed JSON on an unknown path',
      'POST',
      '/nowhere',
      { headers: { 'content-type': 'application/json' }, body: '{' },
      400,
      'VALIDATION',
    ],
    [
      'a content type the API does not take',
      'POST',
      '/v2.0/vehicles/x/security',
      { headers: { 'content-type': 'application/xml' }, body: '<action>LOCK</action>' },
      400,
      'VALIDATION',
    ],
  ])('answers %s with a v2 error body', async (_name, method, path, init, status, type) => {
    const response = await send(method, path, init);
    expect(response.status).toBe(status);
    expect(response.contentType).toMatch(/^application\/json/);
    expect(Object.keys(response.body).sort()).toEqual(V2_KEYS);
    expect(response.body).toMatchObject({ type, statusCode: status });
  });
});

describe('GET /vehicles paging', () => {
  it('answers 10 vehicles by default, the default python-sdk documents, and the rest from an offset', async () => {
    const access = await connectAndExchange(devAuthClient(), ['read_odometer'], {
      brand: 'FORD',
      email: 'fleet-12@example.com',
    });
    const first = await smartcar.getVehicles(access.accessToken);
    expect(first.vehicles).toHaveLength(10);
    expect(first.paging).toEqual({ count: 12, offset: 0 });
    const rest = await smartcar.getVehicles(access.accessToken, { offset: 10 });
    expect(rest.vehicles).toHaveLength(2);
    expect(new Set([...first.vehicles, ...rest.vehicles]).size).toBe(12);
  });
});

describe('rate limits', () => {
  it('has Smartcar’s documented limits by default', () => {
    expect(emulator.limits()).toEqual({
      appBucketSize: 120,
      appRefillPerMinute: 2,
      vehicleRequestsPerWindow: 20,
      vehicleWindowSeconds: 3600,
      monthlyRequestsPerVehicle: 500,
    });
  });

  it('empties the application bucket, a batch item taking one request each: RATE_LIMIT:SMARTCAR_API, no retry-after', async () => {
    emulator.resetUsage();
    emulator.setLimits({ appBucketSize: 3, appRefillPerMinute: 0 });
    await vehicle.batch(['/odometer', '/location']);
    await vehicle.odometer();
    const error = await smartcarError(vehicle.odometer());
    expect([error.statusCode, error.type, error.code, error.retryAfter]).toEqual([
      429,
      'RATE_LIMIT',
      'SMARTCAR_API',
      undefined,
    ]);
    // Free requests draw on the same bucket.
    expect((await smartcarError(smartcar.getVehicles(accessToken))).code).toBe('SMARTCAR_API');
    emulator.resetUsage();
    await expect(vehicle.odometer()).resolves.toHaveProperty('distance');
  });

  it('limits requests to one vehicle: RATE_LIMIT:VEHICLE with retry-after, other vehicles unaffected', async () => {
    emulator.setLimits({ vehicleRequestsPerWindow: 2, vehicleWindowSeconds: 600 });
    const { car: busy } = await freshVehicle();
    await busy.odometer();
    await busy.batch(['/odometer', '/location']);
    const error = await smartcarError(busy.location());
    expect([error.statusCode, error.type, error.code]).toEqual([429, 'RATE_LIMIT', 'VEHICLE']);
    expect(Number(error.retryAfter)).toBeGreaterThan(0);
    expect(Number(error.retryAfter)).toBeLessThanOrEqual(600);
    // The vehicle list and permissions do not reach the car.
    await expect(busy.permissions()).resolves.toHaveProperty('permissions');
    await expect((await freshVehicle()).car.odometer()).resolves.toHaveProperty('distance');
  });

  it('plays UPSTREAM:RATE_LIMIT through faults', async () => {
    emulator.injectFault({ endpoint: 'odometer', type: 'UPSTREAM', code: 'RATE_LIMIT', times: 1 });
    const error = await smartcarError(vehicle.odometer());
    expect([error.statusCode, error.type, error.code]).toEqual([502, 'UPSTREAM', 'RATE_LIMIT']);
  });
});

describe('billing', () => {
  it('bills each successful data request, command and batch item; the list, user, permissions and disconnect are free', async () => {
    const { car: billed, id, token } = await freshVehicle([...FULL_SCOPE]);
    await billed.odometer();
    await billed.batch(['/odometer', '/location', '/security']);
    await billed.lock();
    await billed.permissions();
    await smartcar.getVehicles(token);
    await smartcar.getUser(token);
    // A failed item and a refused request are not billed.
    await billed.batch(['/odometer', '/fuel']);
    await smartcarError(billed.fuel());
    expect(emulator.billing().byVehicle[id]).toBe(6);
    expect(emulator.billing().month).toBe(new Date().toISOString().slice(0, 7));
    expect(emulator.calls().byVehicle[id]).toMatchObject({ odometer: 3, batch: 2 });
    await billed.disconnect();
    expect(emulator.billing().byVehicle[id]).toBe(6);
  });

  it('answers 430 BILLING:VEHICLE_REQUEST_LIMIT past the monthly allowance, inside a batch item by item', async () => {
    emulator.setLimits({ monthlyRequestsPerVehicle: 2 });
    const { car: capped, id: cappedId } = await freshVehicle();
    await capped.odometer();
    const batch = await capped.batch(['/odometer', '/location']);
    expect(batch.odometer?.()).toHaveProperty('distance');
    expect(errorOf(batch.location)).toMatchObject({ type: 'BILLING', code: 'VEHICLE_REQUEST_LIMIT' });
    expect(emulator.billing().byVehicle[cappedId]).toBe(2);
    const error = await smartcarError(capped.odometer());
    expect([error.statusCode, error.type, error.code]).toEqual([430, 'BILLING', 'VEHICLE_REQUEST_LIMIT']);
    await expect(capped.permissions()).resolves.toHaveProperty('permissions');
  });

  it('reports and resets billing over the control API', async () => {
    const controlled = await startForSdk({ control: true, limits: { monthlyRequestsPerVehicle: 1 } });
    try {
      const access = await connectAndExchange(devAuthClient(), ['read_odometer'], { brand: 'KIA' });
      const [id = ''] = (await smartcar.getVehicles(access.accessToken)).vehicles;
      await new smartcar.Vehicle(id, access.accessToken).odometer();
      const control = (method: string, path: string, body?: unknown) =>
        fetch(`${controlled.origin}/__emulator${path}`, {
          method,
          ...(body === undefined
            ? {}
            : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
        });
      const report = (await (await control('GET', '/billing')).json()) as {
        byVehicle: Record<string, number>;
      };
      expect(report.byVehicle).toEqual({ [id]: 1 });
      const limits = (await (
        await control('PUT', '/limits', { monthlyRequestsPerVehicle: 2 })
      ).json()) as object;
      expect(limits).toMatchObject({ monthlyRequestsPerVehicle: 2, appBucketSize: 120 });
      expect((await control('PUT', '/limits', { monthlyRequestsPerVehicle: -1 })).status).toBe(400);
      expect((await control('DELETE', '/usage')).status).toBe(204);
      expect(controlled.billing().byVehicle).toEqual({});
    } finally {
      await controlled.close();
      process.env.SMARTCAR_API_ORIGIN = emulator.origin;
      process.env.SMARTCAR_AUTH_ORIGIN = emulator.origin;
    }
  });
});

describe('compatibility', () => {
  const credentials = { clientId: DEV_CLIENT.clientId, clientSecret: DEV_CLIENT.clientSecret };

  it('answers per permission for a VIN, with HTTP Basic client credentials', async () => {
    const scope = ['read_odometer', 'read_fuel'];
    const tesla = await sdk.getCompatibility('5YJXCDE22HF068739', scope, null, credentials);
    expect(Object.keys(tesla).sort()).toEqual(['capabilities', 'compatible', 'meta', 'reason']);
    expect(tesla.compatible).toBe(true);
    expect(tesla.capabilities).toEqual([
      { permission: 'read_odometer', endpoint: '/odometer', capable: true, reason: null },
      { permission: 'read_fuel', endpoint: '/fuel', capable: false, reason: 'SMARTCAR_NOT_CAPABLE' },
    ]);
    const unknown = await sdk.getCompatibility('ZZZAFAFL1GN014882', scope, null, credentials);
    expect([unknown.compatible, unknown.reason]).toEqual([false, 'MAKE_NOT_COMPATIBLE']);
  });

  it('refuses wrong client credentials and a bad VIN', async () => {
    const wrong = { ...credentials, clientSecret: 'nope' };
    const error = await smartcarError(
      sdk.getCompatibility('5YJXCDE22HF068739', ['read_odometer'], null, wrong),
    );
    expect([error.statusCode, error.type]).toEqual([401, 'AUTHENTICATION']);
    const invalid = await smartcarError(sdk.getCompatibility('short', ['read_odometer'], null, credentials));
    expect([invalid.statusCode, invalid.type, invalid.code]).toEqual([400, 'VALIDATION', 'PARAMETER']);
  });

  it('lists the matrix by make, filtered by scope and engine type', async () => {
    const matrix = await sdk.getCompatibilityMatrix('US', {
      scope: ['read_battery', 'read_charge'],
      make: 'NISSAN FORD',
      type: 'BEV',
      ...credentials,
    });
    expect(
      Object.keys(matrix)
        .filter((key) => key !== 'meta')
        .sort(),
    ).toEqual(['FORD', 'NISSAN']);
    expect(matrix.FORD?.map(({ model }) => model)).toEqual(['F-150 Lightning']);
    for (const entry of matrix.NISSAN ?? []) {
      expect(Object.keys(entry).sort()).toEqual([
        'endYear',
        'endpoints',
        'model',
        'permissions',
        'startYear',
        'type',
      ]);
      expect(entry.permissions).toContain('read_charge');
    }
  });
});

describe('webhooks', () => {
  const [webhookId = ''] = DEV_CLIENT.webhookIds ?? [];

  it('subscribes with the vehicle’s token and unsubscribes with the management token', async () => {
    const subscribed = await (vehicle as WebhookVehicle).subscribe(webhookId);
    expect(Object.keys(subscribed).sort()).toEqual(['meta', 'vehicleId', 'webhookId']);
    expect([subscribed.webhookId, subscribed.vehicleId]).toEqual([webhookId, vehicleId]);
    const unsubscribed = await (vehicle as WebhookVehicle).unsubscribe(
      DEV_CLIENT.managementToken ?? '',
      webhookId,
    );
    expect(Object.keys(unsubscribed).sort()).toEqual(['meta', 'status']);
    expect(unsubscribed.status).toBe('success');
  });

  it('refuses an unknown webhook with VALIDATION and a wrong management token with AUTHENTICATION', async () => {
    const unknown = await smartcarError((vehicle as WebhookVehicle).subscribe('webhookID'));
    expect(unknown.message).toBe(
      'VALIDATION:null - Request invalid or malformed. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
    );
    const wrongToken = await smartcarError((vehicle as WebhookVehicle).unsubscribe('amt', webhookId));
    expect([wrongToken.statusCode, wrongToken.type]).toEqual([401, 'AUTHENTICATION']);
  });
});
