// Latency profiles: the realistic draw's shape and its seeded repeatability, the scale, a fixed
// vehicle latency, and the profile reaching requests over real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index';
import { DEFAULT_LATENCY, Latency } from '../../emulator/latency';
import { connectAndExchange, devAuthClient, startForSdk } from './helpers';
import smartcar from 'smartcar';

const realistic = { ...DEFAULT_LATENCY, profile: 'realistic' as const, seed: 7 };

function draws(latency: Latency, count: number, items = 1): number[] {
  return Array.from({ length: count }, () => latency.vehicleMs(items));
}

describe('Latency', () => {
  it('is instant by default', () => {
    const latency = new Latency(DEFAULT_LATENCY);
    expect([latency.vehicleMs(), latency.vehicleMs(6), latency.platformMs()]).toEqual([0, 0, 0]);
  });

  it('draws vehicle requests from 3 s to 300 s, most within the documented 3–45 s average', () => {
    const values = draws(new Latency(realistic), 2000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(3000);
    expect(Math.max(...values)).toBeLessThanOrEqual(300_000);
    const tail = values.filter((ms) => ms > 45_000).length / values.length;
    expect(tail).toBeGreaterThan(0.05);
    expect(tail).toBeLessThan(0.15);
  });

  it('answers the platform’s own requests within a second', () => {
    const latency = new Latency(realistic);
    const values = Array.from({ length: 500 }, () => latency.platformMs());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(100);
    expect(Math.max(...values)).toBeLessThanOrEqual(1000);
  });

  it('repeats a seed’s draws, and another seed draws others', () => {
    expect(draws(new Latency(realistic), 20)).toEqual(draws(new Latency(realistic), 20));
    expect(draws(new Latency({ ...realistic, seed: 8 }), 20)).not.toEqual(draws(new Latency(realistic), 20));
  });

  it('scales every draw', () => {
    const full = draws(new Latency(realistic), 20);
    const scaled = draws(new Latency({ ...realistic, scale: 0.01 }), 20);
    scaled.forEach((ms, index) => {
      expect(ms).toBeCloseTo((full[index] ?? 0) * 0.01, 6);
    });
  });

  it('makes a batch as slow as its slowest item', () => {
    const single = new Latency(realistic);
    const firstSix = draws(single, 6);
    expect(new Latency(realistic).vehicleMs(6)).toBe(Math.max(...firstSix));
  });

  it('gives every vehicle request a fixed latency when asked, scaled, in either profile', () => {
    for (const profile of ['instant', 'realistic'] as const) {
      const latency = new Latency({ ...DEFAULT_LATENCY, profile, scale: 0.01, vehicleLatencyMs: 15_000 });
      expect(draws(latency, 3, 4)).toEqual([150, 150, 150]);
    }
  });
});

describe('over real sockets', () => {
  let emulator: Emulator;
  let accessToken: string;
  let vehicleId: string;
  beforeAll(async () => {
    emulator = await startForSdk({ latency: 'instant', vehicleLatencyMs: 15_000 });
    ({ accessToken } = await connectAndExchange(devAuthClient(), ['read_odometer'], { brand: 'KIA' }));
    [vehicleId = ''] = (await smartcar.getVehicles(accessToken)).vehicles;
  });
  afterAll(() => emulator.close());

  it('holds a vehicle request for the fixed latency while the vehicle list answers', async () => {
    const pending = fetch(`${emulator.origin}/v2.0/vehicles/${vehicleId}/odometer`, {
      headers: { authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(200),
    });
    await expect(pending).rejects.toThrow(/abort|timeout/i);
    await expect(smartcar.getVehicles(accessToken)).resolves.toHaveProperty('vehicles');
  });

  it('changes through the in-process control, and a hung-up request is not billed', async () => {
    expect(emulator.latency()).toMatchObject({ profile: 'instant', vehicleLatencyMs: 15_000 });
    expect(emulator.billing().byVehicle[vehicleId]).toBeUndefined();
    emulator.setLatency({ vehicleLatencyMs: null });
    await expect(new smartcar.Vehicle(vehicleId, accessToken).odometer()).resolves.toHaveProperty('distance');
    expect(emulator.billing().byVehicle[vehicleId]).toBe(1);
  });
});
