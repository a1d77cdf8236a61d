// Shared set-up for the conformance tests: an emulator the official SDK is pointed at.
import {
  completeConnect,
  DEV_CLIENT,
  startEmulator,
  type ConnectChoices,
  type Emulator,
  type EmulatorOptions,
} from '../../emulator/index';
import smartcar, { type Access, type AuthClient, type SmartcarError } from 'smartcar';

export const REDIRECT_URI = 'https://example.com/auth';

/** Starts an emulator and points the SDK's origin overrides at it (each test file has its own process). */
export async function startForSdk(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator(options);
  process.env.SMARTCAR_API_ORIGIN = emulator.origin;
  process.env.SMARTCAR_AUTH_ORIGIN = emulator.origin;
  return emulator;
}

export function devAuthClient(overrides: { clientSecret?: string; redirectUri?: string } = {}): AuthClient {
  return new smartcar.AuthClient({
    clientId: DEV_CLIENT.clientId,
    clientSecret: overrides.clientSecret ?? DEV_CLIENT.clientSecret,
    redirectUri: overrides.redirectUri ?? REDIRECT_URI,
    mode: 'test',
  });
}

/** Runs Connect through the emulator's pages and returns the redirect's query. */
export async function connect(
  client: AuthClient,
  scope: string[],
  choices: ConnectChoices = {},
  options: Parameters<AuthClient['getAuthUrl']>[1] = {},
): Promise<URLSearchParams> {
  return (await completeConnect(client.getAuthUrl(scope, options), choices)).searchParams;
}

/** Connect, then exchange the code: what a server does after the redirect. */
export async function connectAndExchange(
  client: AuthClient,
  scope: string[],
  choices: ConnectChoices = {},
): Promise<Access> {
  const code = (await connect(client, scope, choices)).get('code');
  if (code === null) throw new Error('Connect did not return a code.');
  return client.exchangeCode(code);
}

/** The SmartcarError a promise rejects with (fails the test if it resolves or throws something else). */
export async function smartcarError(promise: Promise<unknown>): Promise<SmartcarError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof smartcar.SmartcarError) return error;
    throw error;
  }
  throw new Error('Expected a SmartcarError, but the call succeeded.');
}

/** Every permission the emulated fleet knows how to serve. */
export const FULL_SCOPE = [
  'read_vehicle_info',
  'read_vin',
  'read_odometer',
  'read_location',
  'read_battery',
  'read_charge',
  'read_fuel',
  'read_tires',
  'read_engine_oil',
  'read_security',
  'control_security',
  'read_user_profile',
  'control_charge',
  'control_navigation',
  'read_service_history',
  'read_diagnostics',
];
