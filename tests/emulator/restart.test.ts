// A restart of an emulator with a state file is invisible: tokens, grants, vehicles' state and usage
// survive it, and the file on disk holds no code or token.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index';
import { connect, connectAndExchange, devAuthClient, FULL_SCOPE, startForSdk } from './helpers';
import smartcar from 'smartcar';

let dataDir: string;
let stateFile: string;
let emulator: Emulator | undefined;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'emulator-state-'));
  stateFile = path.join(dataDir, 'emulator-state.json');
});
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

async function restart(): Promise<Emulator> {
  await emulator?.close();
  emulator = await startForSdk({ stateFile });
  return emulator;
}

it('keeps tokens, grants, vehicle state and usage across a restart', async () => {
  const before = await restart();
  const access = await connectAndExchange(devAuthClient(), FULL_SCOPE, { email: 'restart@example.com' });
  const unusedCode = (await connect(devAuthClient(), FULL_SCOPE, { email: 'code@example.com' })).get('code');
  const { vehicles } = await smartcar.getVehicles(access.accessToken);
  const [vehicleId] = vehicles;
  if (vehicleId === undefined) throw new Error('Connect granted no vehicle.');
  await new smartcar.Vehicle(vehicleId, access.accessToken).unlock();
  const billing = before.billing();

  const after = await restart();
  expect(after.origin).not.toBe(before.origin);
  // The access token from before reaches the same vehicle, in the state it was left in.
  const vehicle = new smartcar.Vehicle(vehicleId, access.accessToken);
  expect((await vehicle.lockStatus()).isLocked).toBe(false);
  expect(after.billing().byVehicle[vehicleId]).toBe((billing.byVehicle[vehicleId] ?? 0) + 1);
  // The refresh token from before rotates, and the new access token works too.
  const refreshed = await devAuthClient().exchangeRefreshToken(access.refreshToken);
  expect((await smartcar.getVehicles(refreshed.accessToken)).vehicles).toEqual(vehicles);
  // A code issued before the restart can still be exchanged once.
  const exchanged = await devAuthClient().exchangeCode(unusedCode ?? '');
  expect((await smartcar.getVehicles(exchanged.accessToken)).vehicles).toHaveLength(2);

  const saved = await readFile(stateFile, 'utf8');
  for (const secret of [access.accessToken, access.refreshToken, refreshed.refreshToken, unusedCode ?? '']) {
    expect(saved).not.toContain(secret);
  }
});

it('writes the state after a request, before any close', async () => {
  await restart();
  await connectAndExchange(devAuthClient(), ['read_odometer']);
  await expect.poll(() => readFile(stateFile, 'utf8').catch(() => ''), { timeout: 5000 }).toContain('grants');
});

it('refuses to start on a state file it cannot read, and leaves the file alone', async () => {
  await writeFile(stateFile, '{"version":1,"store":');
  await expect(startEmulator({ stateFile })).rejects.toThrow(/delete it to start afresh/);
  expect(await readFile(stateFile, 'utf8')).toBe('{"version":1,"store":');
});

it('keeps nothing without a state file', async () => {
  emulator = await startForSdk();
  const access = await connectAndExchange(devAuthClient(), ['read_odometer']);
  await emulator.close();
  emulator = await startForSdk();
  await expect(devAuthClient().exchangeRefreshToken(access.refreshToken)).rejects.toMatchObject({
    type: 'invalid_request',
  });
});
