// Shared set-up for the API v3 tests: a person who connected a car, the application token, and plain
// HTTP against /v3 (no official SDK speaks v3 commands or subscriptions).
import { DEV_CLIENT, type Emulator } from '../../emulator/index';
import { FULL_SCOPE, connect, devAuthClient } from './helpers';

export interface Driver {
  userId: string;
  vehicleId: string;
  /** The v2 access token of the same Connect, to check v2 sees what v3 did. */
  accessToken: string;
  token: string;
}

async function applicationToken(emulator: Emulator): Promise<string> {
  const response = await fetch(`${emulator.origin}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: DEV_CLIENT.clientId,
      client_secret: DEV_CLIENT.clientSecret,
    }).toString(),
  });
  return ((await response.json()) as { access_token: string }).access_token;
}

/** Someone who connected one Tesla (`email` picks the account) with `scope`. */
export async function connectDriver(emulator: Emulator, email: string, scope = FULL_SCOPE): Promise<Driver> {
  const client = devAuthClient();
  const query = await connect(client, scope, { brand: 'TESLA', email, vins: ['5YJ3E1EA7NF000316'] });
  const { accessToken } = await client.exchangeCode(query.get('code') ?? '');
  const vehicles = (await (
    await fetch(`${emulator.origin}/v2.0/vehicles`, { headers: { authorization: `Bearer ${accessToken}` } })
  ).json()) as { vehicles: string[] };
  return {
    userId: query.get('user_id') ?? '',
    vehicleId: vehicles.vehicles[0] ?? '',
    accessToken,
    token: await applicationToken(emulator),
  };
}

export function v3(
  emulator: Emulator,
  path: string,
  token: string,
  {
    method = 'GET',
    headers = {},
    body,
  }: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Response> {
  return fetch(`${emulator.origin}/v3${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}
