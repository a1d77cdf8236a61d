import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VehiclesResponse } from '../../protocol/server-api';
import { TokenCipher, loadOrCreateDevelopmentKey, parseKey } from '../../server/vault/cipher';
import { apiClient, freshAccounts, type ApiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';

describe('TokenCipher', () => {
  const key = randomBytes(32);

  it('round-trips a token and never stores it in the clear', () => {
    const cipher = new TokenCipher(key);
    const sealed = cipher.encrypt('secret-access-token', 'connections/1/access_token');
    expect(sealed.includes(Buffer.from('secret-access-token'))).toBe(false);
    expect(cipher.decrypt(sealed, cipher.currentKeyId, 'connections/1/access_token')).toBe(
      'secret-access-token',
    );
  });

  it('uses a fresh IV for every encryption', () => {
    const cipher = new TokenCipher(key);
    const a = cipher.encrypt('same', 'ctx');
    const b = cipher.encrypt('same', 'ctx');
    expect(a.equals(b)).toBe(false);
  });

  it('refuses a ciphertext moved to another row or field', () => {
    const cipher = new TokenCipher(key);
    const sealed = cipher.encrypt('token', 'connections/1/access_token');
    expect(() => cipher.decrypt(sealed, cipher.currentKeyId, 'connections/2/access_token')).toThrow();
    expect(() => cipher.decrypt(sealed, cipher.currentKeyId, 'connections/1/refresh_token')).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const cipher = new TokenCipher(key);
    const sealed = cipher.encrypt('token', 'ctx');
    const last = sealed.length - 1;
    sealed.writeUInt8(sealed.readUInt8(last) ^ 1, last);
    expect(() => cipher.decrypt(sealed, cipher.currentKeyId, 'ctx')).toThrow();
  });

  it('reads ciphertexts of an old key after rotation and writes with the new one', () => {
    const oldCipher = new TokenCipher(key);
    const sealed = oldCipher.encrypt('token', 'ctx');
    const rotated = new TokenCipher(randomBytes(32), [key]);
    expect(rotated.currentKeyId).not.toBe(oldCipher.currentKeyId);
    expect(rotated.decrypt(sealed, oldCipher.currentKeyId, 'ctx')).toBe('token');
    expect(() => new TokenCipher(randomBytes(32)).decrypt(sealed, oldCipher.currentKeyId, 'ctx')).toThrow(
      /No encryption key/,
    );
  });

  it('accepts only 32-byte keys', () => {
    expect(() => parseKey(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
    expect(parseKey(key.toString('base64')).equals(key)).toBe(true);
  });
});

describe('development key', () => {
  it('is generated once, kept with owner-only permissions, and reused', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cipher-test-'));
    try {
      const first = loadOrCreateDevelopmentKey(dir);
      const file = path.join(dir, 'token-encryption.key');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect(loadOrCreateDevelopmentKey(dir).equals(first)).toBe(true);
      expect(Buffer.from(await readFile(file, 'utf8'), 'base64').equals(first)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('creates the data folder for the development key when nothing else did (DATABASE_URL set)', async () => {
    const parent = await mkdtemp(path.join(tmpdir(), 'car-connect-key-'));
    try {
      const dir = path.join(parent, 'data');
      const key = loadOrCreateDevelopmentKey(dir);
      expect(key).toHaveLength(32);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });
});

// The labels above are made up; the vault binds its own ciphertexts to their row and column. Here
// through the server: a stored connection's two ciphertexts swapped in the database, as one moved by
// hand or by a faulty migration, must not open as the other token.
describe("the vault's own rows", () => {
  let stack: Stack;
  let api: ApiClient;
  let connect: ReturnType<typeof freshAccounts>;
  let client: pg.Client;

  beforeAll(async () => {
    stack = await startStack({ database: 'postgresql', env: { MAINTENANCE_INTERVAL_SECONDS: '0' } });
    api = apiClient(stack.serverUrl);
    connect = freshAccounts(api, stack.emulator);
    client = new pg.Client({ connectionString: stack.databaseUrl });
    await client.connect();
  });
  afterAll(async () => {
    await client.end();
    await stack.close();
  });

  const latest = (kind: 'access' | 'refresh') => {
    const token = stack.emulator
      .issuedTokens()
      .filter((issued) => issued.kind === kind)
      .at(-1)?.token;
    if (!token) throw new Error(`no ${kind} token issued`);
    return token;
  };

  it.each([
    ['a fresh access token (the access column is opened)', false],
    ['an expiring access token (the refresh column is opened first)', true],
  ])(
    'refuses to open a connection whose access and refresh ciphertexts were swapped, and sends neither token, with %s',
    async (_case, expiring) => {
      const { session, vehicles } = await connect({ expiring });
      const [access, refresh] = [latest('access'), latest('refresh')];
      const swapped = await client.query(
        `update connections set access_token = refresh_token, refresh_token = access_token
         where id = (select connection_id from vehicles where id = $1)`,
        [vehicles[0]?.id],
      );
      expect(swapped.rowCount).toBe(1);
      stack.emulator.resetCalls();

      expect((await api.call('POST', '/api/vehicles/refresh', { session })).status).toBe(202);
      const list: VehiclesResponse = await api.settled(session);

      expect(list.vehicles.length).toBe(vehicles.length);
      for (const vehicle of list.vehicles) expect(vehicle.lastFailure).not.toBeNull();
      // Neither token went anywhere: no read and no refresh reached Smartcar.
      const calls = stack.emulator.calls();
      expect([calls.byToken[access], calls.byToken[refresh]]).toEqual([undefined, undefined]);
      expect(calls.requests).toEqual({});
    },
  );
});
