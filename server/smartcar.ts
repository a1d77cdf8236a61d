// Everything the server asks of Smartcar goes through here, via the official SDK. The SDK reads
// SMARTCAR_API_ORIGIN / SMARTCAR_AUTH_ORIGIN from process.env on each call, which is how the
// same code talks to the emulator or to the real platform.
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import smartcar, { type Access, type AuthClient, type BatchResponse, type SmartcarError } from 'smartcar';
import type { UnitSystem, VehicleData } from '../protocol/api';
import type { Config } from './config';
import { ApiError } from './errors';

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: Date;
  refreshExpiresAt: Date;
}

/** What one batch call tells about a vehicle: its attributes and the data the popup shows. */
export interface VehicleReading {
  id: string;
  make: string;
  model: string;
  year: number;
  data: VehicleData;
  /** The granted permissions, when asked for and the batch answered them. */
  permissions?: string[];
}

/**
 * One batch request reads everything the popup shows. Paths the grant does not cover fail
 * inside the batch without failing it.
 */
const READING_PATHS = ['/', '/odometer', '/battery', '/fuel', '/location', '/security'];

/** Reads are retried this often on a timeout, a 5xx, a dropped connection or a short 429. */
const READ_RETRIES = 2;
/** A longer `retry-after` than this is passed on to the caller instead of waited out. */
const MAX_RETRY_AFTER_SECONDS = 5;

export class SmartcarGateway {
  private readonly authClients = new Map<string, AuthClient>();

  constructor(private readonly settings: Config['smartcar']) {
    if (settings.apiOrigin) process.env.SMARTCAR_API_ORIGIN = settings.apiOrigin;
    if (settings.authOrigin) process.env.SMARTCAR_AUTH_ORIGIN = settings.authOrigin;
    // The SDK has no per-call timeout option; every request it makes reads this shared setting.
    const sdkConfig = createRequire(import.meta.url)('smartcar/lib/config.json') as { timeout: number };
    sdkConfig.timeout = settings.timeoutMs;
  }

  /**
   * Always shows the approval page: the person pressed "Connect" to choose vehicles, and with
   * `auto` Connect would silently re-grant the ones chosen last time.
   */
  connectUrl(
    redirectUri: string,
    state: string,
    options: { make?: string; singleVehicle?: boolean } = {},
  ): string {
    return this.authClient(redirectUri).getAuthUrl(this.settings.scope, {
      state,
      forcePrompt: true,
      ...(options.make ? { makeBypass: options.make } : {}),
      ...(options.singleVehicle ? { singleSelect: { enabled: true } } : {}),
    });
  }

  /** Not retried: a code is single-use, so a second try after an unclear failure cannot succeed. */
  async exchangeCode(redirectUri: string, code: string): Promise<TokenSet> {
    try {
      return toTokenSet(await this.authClient(redirectUri).exchangeCode(code));
    } catch (error) {
      if (isInvalidGrant(error)) {
        throw new ApiError(
          400,
          'invalid_code',
          'This sign-in has expired or was already used. Connect again.',
        );
      }
      throw toApiError(error);
    }
  }

  /**
   * One call to the token endpoint. Not retried here: the vault retries under its lease, where it
   * knows whether Smartcar may already have used the token (token-vault.ts). Rejects with
   * `RefreshTokenRejected` when Smartcar says the refresh token is dead.
   */
  async refresh(refreshToken: string): Promise<TokenSet> {
    // Any allowed redirect URI works: the refresh grant does not send one.
    const [redirectUri] = this.authClients.keys();
    try {
      return toTokenSet(await this.authClient(redirectUri ?? '').exchangeRefreshToken(refreshToken));
    } catch (error) {
      if (isInvalidGrant(error)) throw new RefreshTokenRejected();
      throw toApiError(error);
    }
  }

  async vehicleIds(accessToken: string): Promise<string[]> {
    return (await read(() => smartcar.getVehicles(accessToken))).vehicles;
  }

  /** The permissions a grant gave for a vehicle; fixed until the vehicle is connected again. */
  async permissions(id: string, accessToken: string): Promise<string[]> {
    return (await read(() => new smartcar.Vehicle(id, accessToken).permissions())).permissions;
  }

  /**
   * Reads a vehicle with one batch call. `withPermissions` adds `/permissions` to the batch, which
   * is not confirmed to be accepted by every Smartcar deployment; callers fall back to
   * `permissions()` when the reading comes back without them.
   */
  async readVehicle(
    id: string,
    accessToken: string,
    units: UnitSystem,
    options: { withPermissions?: boolean } = {},
  ): Promise<VehicleReading> {
    const paths = options.withPermissions ? [...READING_PATHS, '/permissions'] : READING_PATHS;
    const batch = await read(() => new smartcar.Vehicle(id, accessToken, { unitSystem: units }).batch(paths));
    const attributes = readItem(batch, 'attributes');
    if (!attributes) throw new ApiError(502, 'upstream_error', 'Smartcar did not return this vehicle.');
    const data: VehicleData = {};
    const odometer = readItem(batch, 'odometer');
    if (odometer) data.odometer = { distance: Number(odometer.distance) };
    const battery = readItem(batch, 'battery');
    if (battery)
      data.battery = { percentRemaining: Number(battery.percentRemaining), range: Number(battery.range) };
    const fuel = readItem(batch, 'fuel');
    if (fuel)
      data.fuel = {
        percentRemaining: Number(fuel.percentRemaining),
        range: Number(fuel.range),
        amountRemaining: Number(fuel.amountRemaining),
      };
    const location = readItem(batch, 'location');
    if (location)
      data.location = { latitude: Number(location.latitude), longitude: Number(location.longitude) };
    const security = readItem(batch, 'lockStatus');
    if (security) data.security = { isLocked: Boolean(security.isLocked) };
    const permissions = readItem(batch, 'permissions')?.permissions;
    return {
      id,
      make: String(attributes.make),
      model: String(attributes.model),
      year: Number(attributes.year),
      data,
      ...(Array.isArray(permissions) ? { permissions: permissions.map(String) } : {}),
    };
  }

  /** Not retried: a lock command that timed out may still have reached the car. */
  async setLock(id: string, accessToken: string, action: 'LOCK' | 'UNLOCK'): Promise<void> {
    const vehicle = new smartcar.Vehicle(id, accessToken);
    await vehicleCall(() => (action === 'LOCK' ? vehicle.lock() : vehicle.unlock()), { retry: false });
  }

  /**
   * Revokes the application's access to a vehicle. A 403 (the token no longer reaches the
   * vehicle, also what a retried, successful disconnect answers) counts as done.
   */
  async disconnect(id: string, accessToken: string): Promise<void> {
    try {
      await retried(() => new smartcar.Vehicle(id, accessToken).disconnect());
    } catch (error) {
      if (isSmartcarError(error) && error.statusCode === 403) return;
      if (isSmartcarError(error) && error.statusCode === 401) throw new AccessTokenRejected();
      throw toApiError(error);
    }
  }

  private authClient(redirectUri: string): AuthClient {
    // The SDK sends the redirect URI its client was made with, so keep one client per URI.
    let client = this.authClients.get(redirectUri);
    if (!client) {
      client = new smartcar.AuthClient({
        clientId: this.settings.clientId,
        clientSecret: this.settings.clientSecret,
        redirectUri,
        mode: this.settings.mode,
      });
      this.authClients.set(redirectUri, client);
    }
    return client;
  }
}

/**
 * Smartcar refused the access token itself (401). The vault refreshes and retries once; when
 * that does not help, the person has to connect the vehicle again.
 */
export class AccessTokenRejected extends ApiError {
  constructor() {
    super(409, 'reconnect_required', 'This vehicle needs to be connected again.');
    this.name = 'AccessTokenRejected';
  }
}

export class RefreshTokenRejected extends Error {
  constructor() {
    super('Smartcar rejected the refresh token.');
    this.name = 'RefreshTokenRejected';
  }
}

/** A batch item's body, or undefined when that item failed (missing permission, not capable...). */
function readItem(batch: BatchResponse, name: string): Record<string, unknown> | undefined {
  const read = batch[name];
  if (!read) return undefined;
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** Runs an idempotent Smartcar call, retrying transient failures with backoff. */
function retried<T>(call: () => Promise<T>): Promise<T> {
  return pRetry(call, {
    retries: READ_RETRIES,
    minTimeout: 200,
    factor: 3,
    shouldRetry: ({ error }) => isTransient(error),
    // Smartcar says how long to wait after a 429; wait that long before the next try.
    onFailedAttempt: async ({ error }) => {
      const seconds = retryAfterSeconds(error);
      if (seconds !== undefined && seconds <= MAX_RETRY_AFTER_SECONDS) await sleep(seconds * 1000);
    },
  });
}

/** A vehicle API call, retried when idempotent, with failures turned into API errors. */
async function vehicleCall<T>(call: () => Promise<T>, options: { retry: boolean }): Promise<T> {
  try {
    return await (options.retry ? retried(call) : call());
  } catch (error) {
    if (isSmartcarError(error) && error.statusCode === 401) throw new AccessTokenRejected();
    throw toApiError(error);
  }
}

const read = <T>(call: () => Promise<T>) => vehicleCall(call, { retry: true });

function isTransient(error: unknown): boolean {
  if (!isSmartcarError(error)) return true; // the connection failed or dropped
  if (error.statusCode === 429) return (retryAfterSeconds(error) ?? 0) <= MAX_RETRY_AFTER_SECONDS;
  return error.statusCode === 408 || (error.statusCode >= 500 && error.statusCode !== 501);
}

function retryAfterSeconds(error: unknown): number | undefined {
  if (!isSmartcarError(error) || error.retryAfter === undefined) return undefined;
  const seconds = Number(error.retryAfter);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function toTokenSet(access: Access): TokenSet {
  return {
    accessToken: access.accessToken,
    refreshToken: access.refreshToken,
    accessExpiresAt: access.expiration,
    refreshExpiresAt: access.refreshExpiration,
  };
}

function isSmartcarError(error: unknown): error is SmartcarError {
  return error instanceof smartcar.SmartcarError;
}

function isInvalidGrant(error: unknown): boolean {
  return isSmartcarError(error) && error.type === 'invalid_grant';
}

/** Smartcar's failures in words a driver understands; upstream detail stays in the logs. */
export function toApiError(error: unknown): ApiError {
  if (!isSmartcarError(error)) {
    return new ApiError(503, 'upstream_unavailable', 'Smartcar could not be reached. Try again in a moment.');
  }
  if (error.statusCode === 429) {
    const retryAfter = Number(error.retryAfter) || undefined;
    return new ApiError(
      429,
      'rate_limited',
      'Smartcar asked us to slow down. Try again shortly.',
      retryAfter,
    );
  }
  if (error.statusCode === 401) {
    // From the token endpoint: Smartcar does not accept this server's client ID and secret.
    return new ApiError(
      502,
      'upstream_error',
      'Smartcar refused this server. Its operator must check its credentials.',
    );
  }
  if (error.statusCode === 403) {
    return new ApiError(409, 'reconnect_required', 'This vehicle needs to be connected again.');
  }
  if (error.statusCode === 408 || error.statusCode >= 500) {
    return new ApiError(
      503,
      'upstream_unavailable',
      'Smartcar is not answering right now. Try again in a moment.',
    );
  }
  return new ApiError(502, 'upstream_error', 'Smartcar could not complete this request.');
}
