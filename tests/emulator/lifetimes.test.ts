// Configurable token lifetimes: zero-second lifetimes make tokens dead on arrival, without waiting on a clock.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Emulator } from '../../emulator/index';
import { connect, connectAndExchange, devAuthClient, smartcarError, startForSdk } from './helpers';
import smartcar from 'smartcar';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startForSdk({
    accessTokenTtlSeconds: 0,
    refreshTokenTtlSeconds: 0,
    refreshGraceSeconds: 0,
  });
});
afterAll(() => emulator.close());

it('reports the configured access token lifetime and rejects an expired access token', async () => {
  const client = devAuthClient();
  const code = (await connect(client, ['read_vehicle_info'])).get('code');
  const response = await fetch(`${emulator.origin}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from('emulator-client-id:emulator-client-secret').toString('base64')}`,
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: code ?? '',
      redirect_uri: 'https://example.com/auth',
    }),
  });
  const body = (await response.json()) as { access_token: string; expires_in: number };
  expect(body.expires_in).toBe(0);
  const error = await smartcarError(smartcar.getVehicles(body.access_token));
  expect([error.statusCode, error.type]).toEqual([401, 'AUTHENTICATION']);
});

it('rejects an expired refresh token with invalid_grant', async () => {
  const access = await connectAndExchange(devAuthClient(), ['read_vehicle_info']);
  const error = await smartcarError(devAuthClient().exchangeRefreshToken(access.refreshToken));
  expect([error.statusCode, error.type]).toEqual([400, 'invalid_grant']);
});
