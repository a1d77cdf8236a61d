// API v3 on the emulator's one origin: the application token, the user id on the Connect redirect,
// the Connections API, signals and v3 error bodies, over plain HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_CLIENT, type Emulator } from '../../emulator/index';
import { connect, devAuthClient, startForSdk } from './helpers';
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
