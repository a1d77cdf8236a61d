// API v3's lock and unlock commands and their recorded executions, over plain HTTP.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index';
import { startForSdk } from './helpers';
import { connectDriver, v3, type Driver } from './v3-helpers';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startForSdk({ limits: { appBucketSize: null, vehicleRequestsPerWindow: null } });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.setLatency({ profile: 'instant', scale: 1, vehicleLatencyMs: null });
  emulator.clearFaults();
});

interface ExecutionBody {
  data: {
    id: string;
    type: string;
    attributes: { commandType: string; status: { value: string }; executionMode: string };
    meta: { executedAt: string; completedAt?: string; durationInSeconds?: number };
  };
}

function command(driver: Driver, action: 'lock' | 'unlock', headers = { 'sc-user-id': driver.userId }) {
  return v3(emulator, `/vehicles/${driver.vehicleId}/commands/security/${action}`, driver.token, {
    method: 'POST',
    headers,
  });
}

async function isLocked(driver: Driver): Promise<boolean> {
  const response = await v3(
    emulator,
    `/vehicles/${driver.vehicleId}/signals/closure-islocked`,
    driver.token,
    {
      headers: { 'sc-user-id': driver.userId },
    },
  );
  return ((await response.json()) as { attributes: { body: { value: boolean } } }).attributes.body.value;
}

async function v2IsLocked(driver: Driver): Promise<boolean> {
  const response = await fetch(`${emulator.origin}/v2.0/vehicles/${driver.vehicleId}/security`, {
    headers: { authorization: `Bearer ${driver.accessToken}` },
  });
  return ((await response.json()) as { isLocked: boolean }).isLocked;
}

describe('POST /v3/vehicles/:id/commands/security/lock and /unlock', () => {
  it('answers 200 with a finished command-execution and changes the lock state v3 and v2 read', async () => {
    const driver = await connectDriver(emulator, 'v3.cmd.sync@example.com');
    const before = emulator.billing().byVehicle[driver.vehicleId] ?? 0;
    const response = await command(driver, 'unlock');
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as ExecutionBody;
    expect(data).toMatchObject({
      type: 'command-execution',
      attributes: { commandType: 'security-unlock', status: { value: 'SUCCESS' }, executionMode: 'sync' },
      meta: { durationInSeconds: 0 },
    });
    expect(Date.parse(data.meta.completedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(data.meta.executedAt));
    expect([await isLocked(driver), await v2IsLocked(driver)]).toEqual([false, false]);
    expect(emulator.billing().byVehicle[driver.vehicleId]).toBe(before + 3);
    expect(emulator.calls().byEndpoint.unlockDoors).toBeGreaterThanOrEqual(1);
  });

  it('answers 202 when the car is slower than the wait, and completes in the background', async () => {
    const driver = await connectDriver(emulator, 'v3.cmd.async@example.com');
    emulator.setLatency({ scale: 0.01, vehicleLatencyMs: 60_000 });
    const response = await command(driver, 'unlock');
    expect(response.status).toBe(202);
    const { data } = (await response.json()) as ExecutionBody;
    expect(data.attributes).toMatchObject({ status: { value: 'PENDING' }, executionMode: 'async' });
    expect(data.meta.completedAt).toBeUndefined();
    const path = `/vehicles/${driver.vehicleId}/commands/executions/${data.id}`;
    const read = async () =>
      (
        (await (
          await v3(emulator, path, driver.token, { headers: { 'sc-user-id': driver.userId } })
        ).json()) as ExecutionBody
      ).data;
    emulator.setLatency({ vehicleLatencyMs: null });
    expect((await read()).attributes.status.value).toBe('PENDING');
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await read()).toMatchObject({ id: data.id, attributes: { status: { value: 'SUCCESS' } } });
    expect(await isLocked(driver)).toBe(false);
  });

  it('checks sc-user-id and the control_security permission as signal reads do', async () => {
    const driver = await connectDriver(emulator, 'v3.cmd.checks@example.com');
    const other = await connectDriver(emulator, 'v3.cmd.other@example.com');
    const readOnly = await connectDriver(emulator, 'v3.cmd.readonly@example.com', ['read_security']);
    const statuses = [
      (await command(driver, 'lock', {} as { 'sc-user-id': string })).status,
      (await command(driver, 'lock', { 'sc-user-id': other.userId })).status,
      (await command(readOnly, 'lock')).status,
    ];
    expect(statuses).toEqual([400, 403, 403]);
    const unknown = await v3(
      emulator,
      `/vehicles/${driver.vehicleId}/commands/executions/nope`,
      driver.token,
      {
        headers: { 'sc-user-id': driver.userId },
      },
    );
    expect(unknown.status).toBe(404);
  });

  it('plays an armed fault with a v3 body, and a failing car fails the command', async () => {
    const driver = await connectDriver(emulator, 'v3.cmd.fault@example.com');
    emulator.injectFault({ endpoint: 'lockDoors', type: 'VEHICLE_STATE', code: 'ASLEEP', times: 1 });
    const faulted = await command(driver, 'lock');
    expect(faulted.status).toBe(409);
    expect(await faulted.json()).toMatchObject({ errors: [{ type: 'VEHICLE_STATE', code: 'ASLEEP' }] });
    const asleep = await connectDriver(emulator, 'VEHICLE_STATE.ASLEEP@smartcar.com');
    const failed = await command(asleep, 'unlock');
    expect(failed.status).toBe(409);
  });
});
