// Rotating TOKEN_ENCRYPTION_KEY: the old key keeps working beside the new one, `npm run reencrypt`
// moves every token to the new key, and a server missing a key that is still in use will not start.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator';
import type { VehiclesResponse } from '../../protocol/server-api';
import { apiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { newEncryptionKey, startServerProcess } from '../support/server-process';
import { TEST_CLIENT } from '../support/stack';
import { expectEvery } from '../support/expect-every';

describe('key rotation', () => {
  let emulator: Emulator;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  const oldKey = newEncryptionKey();
  const newKey = newEncryptionKey();

  beforeAll(async () => {
    emulator = await startEmulator({ control: true, clients: [TEST_CLIENT] });
    database = await createTestDatabase();
    env = {
      SMARTCAR_CLIENT_ID: TEST_CLIENT.clientId,
      SMARTCAR_CLIENT_SECRET: TEST_CLIENT.clientSecret,
      SMARTCAR_ORIGIN: emulator.origin,
      DATABASE_URL: database.url,
      VEHICLE_DATA_MAX_AGE_SECONDS: '0',
    };
  });

  afterAll(async () => {
    await emulator.close();
    await database.drop();
  });

  it('moves every token to the new key without losing a vehicle', async () => {
    const first = await startServerProcess({ ...env, TOKEN_ENCRYPTION_KEY: oldKey });
    const { session } = await apiClient(first.url).connectVehicles();
    await first.stop();

    const missingKey = startServerProcess({ ...env, TOKEN_ENCRYPTION_KEY: newKey });
    await expect(missingKey).rejects.toThrow(/TOKEN_ENCRYPTION_OLD_KEYS/);

    const rotating = await startServerProcess({
      ...env,
      TOKEN_ENCRYPTION_KEY: newKey,
      TOKEN_ENCRYPTION_OLD_KEYS: oldKey,
    });
    expect((await apiClient(rotating.url).call('GET', '/api/vehicles', { session })).status).toBe(200);
    await rotating.stop();

    const command = spawn(process.execPath, ['--import', 'tsx', path.resolve('server/reencrypt.ts')], {
      env: { ...process.env, ...env, TOKEN_ENCRYPTION_KEY: newKey, TOKEN_ENCRYPTION_OLD_KEYS: oldKey },
      stdio: 'ignore',
    });
    const [exitCode] = (await once(command, 'exit')) as [number];
    expect(exitCode).toBe(0);
    expect(await keyIds(database.url)).toHaveLength(1);

    const rotated = await startServerProcess({ ...env, TOKEN_ENCRYPTION_KEY: newKey });
    try {
      const list = await apiClient(rotated.url).call<VehiclesResponse>('GET', '/api/vehicles', { session });
      expect(list.status).toBe(200);
      expectEvery(list.json.vehicles, (vehicle) => vehicle.status === 'connected');
    } finally {
      await rotated.stop();
    }
  });
});

async function keyIds(url: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ key_id: string }>('select distinct key_id from connections')).rows.map(
      (row) => row.key_id,
    );
  } finally {
    await client.end();
  }
}
