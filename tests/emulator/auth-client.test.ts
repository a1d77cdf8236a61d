// AuthClient (getAuthUrl, exchangeCode, exchangeRefreshToken) against the emulator over real sockets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConnect, DEV_CLIENT, type Emulator } from '../../emulator/index';
import {
  chromeRedirectUrl,
  DEV_EXTENSION_ID,
  firefoxRedirectUrl,
  GECKO_ID,
} from '../../protocol/extension-identity';
import {
  connect,
  connectAndExchange,
  devAuthClient,
  REDIRECT_URI,
  smartcarError,
  startForSdk,
} from './helpers';
import smartcar from 'smartcar';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const OTHER_CLIENT = {
  clientId: 'other-client-id',
  clientSecret: 'other-secret',
  redirectUris: [REDIRECT_URI],
};

function otherAuthClient() {
  return new smartcar.AuthClient({ ...OTHER_CLIENT, redirectUri: REDIRECT_URI, mode: 'test' });
}

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startForSdk({ clients: [DEV_CLIENT, OTHER_CLIENT] });
});
afterAll(() => emulator.close());

describe('getAuthUrl + Connect', () => {
  it('returns a single code, the user id and the state to the redirect URI', async () => {
    const client = devAuthClient();
    const url = client.getAuthUrl(['read_odometer'], { state: 's t/ä' });
    expect(url.startsWith(`${emulator.origin}/oauth/authorize?`)).toBe(true);
    const query = await connect(client, ['read_odometer'], {}, { state: 's t/ä' });
    expect([...query.keys()].sort()).toEqual(['code', 'state', 'user_id']);
    expect(query.get('state')).toBe('s t/ä');
  });

  it.each([
    ['Chrome', chromeRedirectUrl(DEV_EXTENSION_ID)],
    ['Firefox', firefoxRedirectUrl(GECKO_ID)],
  ])('lets the development client redirect to the extension’s %s redirect URL', async (_, redirectUri) => {
    const client = devAuthClient({ redirectUri });
    const authUrl = client.getAuthUrl(['read_odometer']);
    const { origin, pathname } = await completeConnect(authUrl);
    expect(`${origin}${pathname}`).toBe(redirectUri);
    const access = await connectAndExchange(client, ['read_odometer']);
    expect(access.accessToken).toMatch(UUID);
  });
});

describe('exchangeCode', () => {
  it('returns exactly the Access shape the SDK documents', async () => {
    const access = await connectAndExchange(devAuthClient(), ['read_odometer']);
    expect(Object.keys(access).sort()).toEqual([
      'accessToken',
      'expiration',
      'refreshExpiration',
      'refreshToken',
    ]);
    expect(access.accessToken).toMatch(UUID);
    expect(access.refreshToken).toMatch(UUID);
    expect(access.accessToken).not.toBe(access.refreshToken);
    expect(access.expiration).toBeInstanceOf(Date);
  });

  it('accepts a code only once', async () => {
    const client = devAuthClient();
    const code = (await connect(client, ['read_odometer'])).get('code') ?? '';
    await client.exchangeCode(code);
    const error = await smartcarError(client.exchangeCode(code));
    expect([error.statusCode, error.message]).toEqual([
      400,
      `invalid_request:undefined - Invalid code: ${code}`,
    ]);
  });

  it('rejects an unknown code with invalid_request "Invalid code: …", as java-sdk’s AuthTest expects', async () => {
    const error = await smartcarError(devAuthClient().exchangeCode('not-a-code'));
    expect([error.statusCode, error.type, error.description]).toEqual([
      400,
      'invalid_request',
      'Invalid code: not-a-code',
    ]);
  });

  it('rejects a code issued to another client, and leaves it to its own client', async () => {
    const code = (await connect(otherAuthClient(), ['read_odometer'])).get('code') ?? '';
    const error = await smartcarError(devAuthClient().exchangeCode(code));
    expect([error.statusCode, error.type]).toEqual([400, 'invalid_request']);
    await expect(otherAuthClient().exchangeCode(code)).resolves.toHaveProperty('accessToken');
  });

  it('rejects a wrong client secret with invalid_client', async () => {
    const code = (await connect(devAuthClient(), ['read_odometer'])).get('code') ?? '';
    const error = await smartcarError(devAuthClient({ clientSecret: 'wrong' }).exchangeCode(code));
    expect([error.statusCode, error.type]).toEqual([401, 'invalid_client']);
  });

  it('rejects a code redeemed with another redirect URI than it was issued for', async () => {
    const code = (await connect(devAuthClient(), ['read_odometer'])).get('code') ?? '';
    const otherRedirect = devAuthClient({
      redirectUri: 'https://nndbmeanannkdoblbjpcejkfagdlibni.chromiumapp.org/',
    });
    const error = await smartcarError(otherRedirect.exchangeCode(code));
    expect([error.statusCode, error.type]).toEqual([400, 'invalid_grant']);
    // The failed attempt did not burn the code for its rightful redirect URI.
    await expect(devAuthClient().exchangeCode(code)).resolves.toHaveProperty('accessToken');
  });

  it('accepts client credentials in the form body instead of HTTP Basic', async () => {
    const code = (await connect(devAuthClient(), ['read_odometer'])).get('code') ?? '';
    const response = await fetch(`${emulator.origin}/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code,
        redirect_uri: REDIRECT_URI,
        client_id: 'emulator-client-id',
        client_secret: 'emulator-client-secret',
      }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'token_type']);
    expect(body.token_type).toBe('Bearer');
    expect(body.expires_in).toBe(7200);
  });

  it('answers an unsupported grant type with unsupported_grant_type', async () => {
    const response = await fetch(`${emulator.origin}/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from('emulator-client-id:emulator-client-secret').toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'password' }),
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({
      error: 'unsupported_grant_type',
      error_description: 'Unsupported grant_type: password.',
    });
  });
});

describe('exchangeRefreshToken', () => {
  it('rotates both tokens, and the new access token works', async () => {
    const client = devAuthClient();
    const first = await connectAndExchange(client, ['read_vehicle_info']);
    const second = await client.exchangeRefreshToken(first.refreshToken);
    expect(Object.keys(second).sort()).toEqual([
      'accessToken',
      'expiration',
      'refreshExpiration',
      'refreshToken',
    ]);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const { vehicles } = await smartcar.getVehicles(second.accessToken);
    expect(vehicles.length).toBeGreaterThan(0);
  });

  it('keeps the used refresh token valid during the grace period', async () => {
    const client = devAuthClient();
    const first = await connectAndExchange(client, ['read_vehicle_info']);
    await client.exchangeRefreshToken(first.refreshToken);
    await expect(client.exchangeRefreshToken(first.refreshToken)).resolves.toHaveProperty('refreshToken');
  });

  it('rejects an unknown refresh token with "Invalid refresh_token: …", as python-sdk’s e2e tests show', async () => {
    const error = await smartcarError(devAuthClient().exchangeRefreshToken('nope'));
    expect([error.statusCode, error.type, error.description]).toEqual([
      400,
      'invalid_request',
      'Invalid refresh_token: nope',
    ]);
  });

  it('rejects a used refresh token after its grace period with invalid_grant, as node-sdk’s e2e tests show', async () => {
    const client = devAuthClient();
    const first = await connectAndExchange(client, ['read_vehicle_info']);
    emulator.setTokenLifetimes({ refreshGraceSeconds: 0 });
    try {
      await client.exchangeRefreshToken(first.refreshToken);
      const error = await smartcarError(client.exchangeRefreshToken(first.refreshToken));
      expect([error.statusCode, error.message]).toEqual([
        400,
        'invalid_grant:undefined - Invalid or expired refresh token.',
      ]);
    } finally {
      emulator.setTokenLifetimes({ refreshGraceSeconds: 60 });
    }
  });

  it('rejects a valid refresh token of another client, and leaves it to its own client', async () => {
    const access = await connectAndExchange(otherAuthClient(), ['read_vehicle_info']);
    const error = await smartcarError(devAuthClient().exchangeRefreshToken(access.refreshToken));
    expect([error.statusCode, error.type]).toEqual([400, 'invalid_request']);
    await expect(otherAuthClient().exchangeRefreshToken(access.refreshToken)).resolves.toHaveProperty(
      'accessToken',
    );
  });
});
