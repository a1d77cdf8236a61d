// Every Vehicle method of the official SDK, plus getVehicles and getUser, against the emulator.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index';
import { FULL_SCOPE, connectAndExchange, devAuthClient, smartcarError, startForSdk } from './helpers';
import smartcar, { type Meta, type Vehicle } from 'smartcar';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let emulator: Emulator;
let accessToken: string;
/** The FORD account: an electric F-150 Lightning, a petrol Mustang and a plug-in hybrid Escape. */
let ids: string[];
let lightningId: string;
let lightning: Vehicle;
let mustang: Vehicle;

function keysOf(response: object): string[] {
  return Object.keys(response).sort();
}

function expectDataMeta(meta: Meta, unitSystem = 'metric'): void {
  expect(meta.requestId).toMatch(UUID);
  expect(meta.dataAge).toBeInstanceOf(Date);
  expect(meta.fetchedAt).toBeInstanceOf(Date);
  expect(meta.unitSystem).toBe(unitSystem);
}

beforeAll(async () => {
  emulator = await startForSdk();
  ({ accessToken } = await connectAndExchange(devAuthClient(), FULL_SCOPE, {
    brand: 'FORD',
    email: 'ford.owner@example.com',
  }));
  ({ vehicles: ids } = await smartcar.getVehicles(accessToken));
  const byModel = new Map<string, string>();
  for (const id of ids) byModel.set((await new smartcar.Vehicle(id, accessToken).attributes()).model, id);
  lightningId = byModel.get('F-150 Lightning') ?? '';
  lightning = new smartcar.Vehicle(lightningId, accessToken);
  mustang = new smartcar.Vehicle(byModel.get('Mustang') ?? '', accessToken);
});
afterAll(() => emulator.close());

describe('smartcar.getVehicles', () => {
  it('lists every vehicle the user shared, with paging', async () => {
    const all = await smartcar.getVehicles(accessToken);
    expect(keysOf(all)).toEqual(['meta', 'paging', 'vehicles']);
    expect(all.vehicles).toHaveLength(3);
    expect(all.paging).toEqual({ count: 3, offset: 0 });
    for (const id of all.vehicles) expect(id).toMatch(UUID);
    const page = await smartcar.getVehicles(accessToken, { limit: 1, offset: 1 });
    expect(page.vehicles).toEqual([all.vehicles[1]]);
    expect(page.paging).toEqual({ count: 3, offset: 1 });
  });

  it('rejects a bad token with the AUTHENTICATION error', async () => {
    const error = await smartcarError(smartcar.getVehicles('not-a-token'));
    expect(error.statusCode).toBe(401);
    expect(error.message).toBe(
      'AUTHENTICATION:null - The authorization header is missing or malformed, or it contains invalid or expired authentication credentials. Please check for missing parameters, spelling and casing mistakes, and other syntax issues.',
    );
    expect(error.docURL).toBe('https://smartcar.com/docs/errors/api-errors/authentication-errors#null');
    expect(error.requestId).toMatch(UUID);
  });
});

describe('smartcar.getUser', () => {
  it('returns the account id', async () => {
    const user = await smartcar.getUser(accessToken);
    expect(keysOf(user)).toEqual(['id', 'meta']);
    expect(user.id).toMatch(UUID);
  });

  it('needs read_user_profile', async () => {
    const { accessToken: token } = await connectAndExchange(devAuthClient(), ['read_odometer'], {
      brand: 'FORD',
      email: 'ford.owner@example.com',
    });
    const error = await smartcarError(smartcar.getUser(token));
    expect([error.statusCode, error.type, error.code]).toEqual([403, 'PERMISSION', undefined]);
  });
});

describe('Vehicle', () => {
  it('attributes', async () => {
    const attributes = await lightning.attributes();
    expect(keysOf(attributes)).toEqual(['id', 'make', 'meta', 'model', 'year']);
    expect(attributes).toMatchObject({ make: 'FORD', model: 'F-150 Lightning', year: 2023 });
    expect(attributes.meta.requestId).toMatch(UUID);
  });

  it('vin', async () => {
    const { vin } = await lightning.vin();
    expect(vin).toMatch(/^[A-HJ-NPR-Z0-9]{17}$/);
  });

  it('permissions, without the required: prefix and with paging', async () => {
    const { permissions, paging } = await mustang.permissions();
    expect(permissions).not.toContain('read_battery');
    expect(permissions).toContain('read_fuel');
    expect(paging).toEqual({ count: permissions.length, offset: 0 });
    const page = await mustang.permissions({ limit: 2, offset: 1 });
    expect(page.permissions).toEqual(permissions.slice(1, 3));
  });

  it('odometer, in km or miles by the unit system', async () => {
    const metric = await lightning.odometer();
    expect(keysOf(metric)).toEqual(['distance', 'meta']);
    expectDataMeta(metric.meta);
    const imperial = await new smartcar.Vehicle(lightningId, accessToken, {
      unitSystem: 'imperial',
    }).odometer();
    expectDataMeta(imperial.meta, 'imperial');
    expect(imperial.distance).toBeGreaterThan(metric.distance / 1.7);
    expect(imperial.distance).toBeLessThan(metric.distance / 1.5);
  });

  it('location', async () => {
    const location = await lightning.location();
    expect(keysOf(location)).toEqual(['latitude', 'longitude', 'meta']);
    expect(Math.abs(location.latitude)).toBeLessThanOrEqual(90);
  });

  it('battery', async () => {
    const battery = await lightning.battery();
    expect(keysOf(battery)).toEqual(['meta', 'percentRemaining', 'range']);
    expect(battery.percentRemaining).toBeGreaterThan(0);
    expect(battery.percentRemaining).toBeLessThanOrEqual(1);
    expectDataMeta(battery.meta);
  });

  it('batteryCapacity', async () => {
    expect((await lightning.batteryCapacity()).capacity).toBeGreaterThan(0);
  });

  it('fuel', async () => {
    const fuel = await mustang.fuel();
    expect(keysOf(fuel)).toEqual(['amountRemaining', 'meta', 'percentRemaining', 'range']);
    expectDataMeta(fuel.meta);
  });

  it('tirePressure', async () => {
    const tires = await mustang.tirePressure();
    expect(keysOf(tires)).toEqual(['backLeft', 'backRight', 'frontLeft', 'frontRight', 'meta']);
    expectDataMeta(tires.meta);
  });

  it('engineOil', async () => {
    const oil = await mustang.engineOil();
    expect(keysOf(oil)).toEqual(['lifeRemaining', 'meta']);
  });

  it('charge', async () => {
    const charge = await lightning.charge();
    expect(keysOf(charge)).toEqual(['isPluggedIn', 'meta', 'state']);
    expect(['CHARGING', 'FULLY_CHARGED', 'NOT_CHARGING']).toContain(charge.state);
  });

  it('lockStatus, lock and unlock', async () => {
    const status = await mustang.lockStatus();
    expect(keysOf(status)).toEqual([
      'chargingPort',
      'doors',
      'isLocked',
      'meta',
      'storage',
      'sunroof',
      'windows',
    ]);
    const unlocked = await mustang.unlock();
    expect(keysOf(unlocked)).toEqual(['message', 'meta', 'status']);
    expect(unlocked.status).toBe('success');
    expect((await mustang.lockStatus()).isLocked).toBe(false);
    await mustang.lock();
    expect((await mustang.lockStatus()).isLocked).toBe(true);
  });

  it('nominalCapacity', async () => {
    const nominal = await lightning.nominalCapacity();
    expect(keysOf(nominal)).toEqual(['availableCapacities', 'capacity', 'meta', 'url']);
  });

  it('getChargeLimit and setChargeLimit', async () => {
    const set = await lightning.setChargeLimit(0.9);
    expect(set.status).toBe('success');
    const { limit, meta } = await lightning.getChargeLimit();
    expect(limit).toBe(0.9);
    expect(meta.requestId).toMatch(UUID);
    const error = await smartcarError(lightning.setChargeLimit(1.5));
    expect([error.statusCode, error.type, error.code]).toEqual([400, 'VALIDATION', 'PARAMETER']);
  });

  it('startCharge and stopCharge', async () => {
    const stopped = await lightning.stopCharge();
    expect(keysOf(stopped)).toEqual(['message', 'meta', 'status']);
    expect((await lightning.charge()).state).toBe('NOT_CHARGING');
    await expect(lightning.startCharge()).resolves.toMatchObject({ status: 'success' });
    // A petrol car cannot be given control_charge at all.
    expect((await smartcarError(mustang.startCharge())).type).toBe('PERMISSION');
  });

  it('sendDestination', async () => {
    const sent = await mustang.sendDestination(42.33, -83.05);
    expect(sent).toMatchObject({ status: 'success', message: 'Successfully sent request to vehicle' });
  });

  it('serviceHistory, filtered by date', async () => {
    const history = await mustang.serviceHistory();
    expect(Array.isArray(history.data)).toBe(true);
    expect(history.data).toHaveLength(2);
    expect(history.meta.requestId).toMatch(UUID);
    const [latest] = history.data;
    const since = String(latest?.serviceDate);
    expect((await mustang.serviceHistory(since)).data).toEqual([latest]);
  });

  it('diagnosticSystemStatus and diagnosticTroubleCodes', async () => {
    const status = await mustang.diagnosticSystemStatus();
    expect(keysOf(status)).toEqual(['meta', 'systems']);
    for (const system of status.systems) expect(['OK', 'ALERT']).toContain(system.status);
    const codes = await mustang.diagnosticTroubleCodes();
    expect(keysOf(codes)).toEqual(['activeCodes', 'meta']);
  });

  it('request reaches any v2.0 path with the vehicle’s token', async () => {
    const response = await lightning.request('GET', 'odometer');
    expect(keysOf(response.body)).toEqual(['distance']);
    const error = await smartcarError(lightning.request('GET', 'no/such/path'));
    expect([error.statusCode, error.type, error.code]).toEqual([404, 'RESOURCE_NOT_FOUND', 'PATH']);
  });

  it('a permission the vehicle cannot grant is a PERMISSION error (an EV has no fuel tank)', async () => {
    const error = await smartcarError(lightning.fuel());
    expect(error.statusCode).toBe(403);
    expect(error.type).toBe('PERMISSION');
    expect(error.resolution).toEqual({ type: 'REAUTHENTICATE' });
  });

  it('a vehicle outside the grant is refused', async () => {
    const error = await smartcarError(
      new smartcar.Vehicle('00000000-0000-4000-8000-000000000000', accessToken).odometer(),
    );
    expect(error.type).toBe('PERMISSION');
  });

  it('batch, with per-item errors and canonical paths', async () => {
    const batch = await mustang.batch([
      '/odometer',
      'tires/pressure',
      '/security',
      '/battery',
      '/fuel',
      '/location',
    ]);
    expect(Object.keys(batch).sort()).toEqual([
      'battery',
      'fuel',
      'location',
      'lockStatus',
      'odometer',
      'tirePressure',
    ]);
    const odometer = batch.odometer?.();
    expect(odometer?.distance).toEqual(expect.any(Number));
    expectDataMeta(odometer?.meta ?? {});
    expect(batch.tirePressure?.()).toHaveProperty('frontLeft');
    expect(batch.lockStatus?.()).toHaveProperty('isLocked');
    const error = (() => {
      try {
        batch.battery?.();
      } catch (thrown) {
        return thrown as Error & { type?: string };
      }
      return undefined;
    })();
    expect(error?.type).toBe('PERMISSION');
  });

  it('disconnect: the token no longer reaches that vehicle', async () => {
    const { accessToken: token } = await connectAndExchange(devAuthClient(), ['read_odometer'], {
      brand: 'KIA',
    });
    const { vehicles } = await smartcar.getVehicles(token);
    const [first = '', second = ''] = vehicles;
    const result = await new smartcar.Vehicle(first, token).disconnect();
    expect(keysOf(result)).toEqual(['meta', 'status']);
    expect(result.status).toBe('success');
    expect((await smartcar.getVehicles(token)).vehicles).toEqual([second]);
    expect((await smartcarError(new smartcar.Vehicle(first, token).odometer())).type).toBe('PERMISSION');
    await expect(new smartcar.Vehicle(second, token).odometer()).resolves.toHaveProperty('distance');
  });
});

describe('errors over plain HTTP', () => {
  async function post(path: string, body: string) {
    const response = await fetch(`${emulator.origin}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
      body,
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  it('a malformed JSON body is a VALIDATION error', async () => {
    const { status, type, body } = await post(`/v2.0/vehicles/${ids[0] ?? ''}/security`, '{not json');
    expect(status).toBe(400);
    expect(type).toMatch(/^application\/json/);
    expect(body).toMatchObject({ type: 'VALIDATION', code: null, statusCode: 400 });
  });

  it('an unknown action is a VALIDATION:PARAMETER error', async () => {
    const { status, body } = await post(`/v2.0/vehicles/${ids[0] ?? ''}/security`, '{"action":"OPEN"}');
    expect([status, body.type, body.code]).toEqual([400, 'VALIDATION', 'PARAMETER']);
  });

  it('an unknown API version is RESOURCE_NOT_FOUND:VERSION', async () => {
    const response = await fetch(`${emulator.origin}/v1.0/vehicles`);
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ type: 'RESOURCE_NOT_FOUND', code: 'VERSION' });
  });
});
