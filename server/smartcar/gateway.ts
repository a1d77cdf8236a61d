// What the server asks of Smartcar's API v2.0 and its token endpoint, via the official SDK (bound
// to this server's origins in sdk.ts), so the same code talks to the emulator or to the real
// platform. API v3 has its own client beside it (v3-gateway.ts).
import pRetry from 'p-retry';
import smartcar, { type Access, type AuthClient, type SmartcarError } from 'smartcar';
import type { FastifyBaseLogger } from 'fastify';
import type { VehicleData } from '../../protocol/server-api';
import type { Config } from '../config';
import { signInExpired, upstreamError, UpstreamError } from '../http/api-errors';
import type { Clock } from '../lib/clock';
import { BoundSdk } from './sdk';

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: Date;
  refreshExpiresAt: Date;
}

/** The figures the popup shows, each with the batch path that reads it and the permission it needs. */
export const FIGURES = {
  odometer: { path: '/odometer', permission: 'read_odometer', item: 'odometer' },
  battery: { path: '/battery', permission: 'read_battery', item: 'battery' },
  fuel: { path: '/fuel', permission: 'read_fuel', item: 'fuel' },
  location: { path: '/location', permission: 'read_location', item: 'location' },
  security: { path: '/security', permission: 'read_security', item: 'lockStatus' },
} as const;
export type PopupFigure = keyof typeof FIGURES;
export const FIGURE_NAMES = Object.keys(FIGURES) as PopupFigure[];

/** Make, model and year: the batch path `/`, asked only until known (they never change). */
const ATTRIBUTES = { path: '/', permission: 'read_vehicle_info', item: 'attributes' } as const;

export interface ReadRequest {
  attributes: boolean;
  figures: PopupFigure[];
}

export interface Attributes {
  make: string;
  model: string;
  year: number;
}

/** What one batch call answered: each item on its own, so one failed figure keeps the others. */
export interface BatchReading {
  attributes?: Attributes;
  data: VehicleData;
  /** Items Smartcar answered with an error, and that error. */
  failures: { item: PopupFigure | 'attributes'; error: UpstreamError }[];
  /** Items that succeeded: what Smartcar bills for this batch. */
  billed: number;
}

export class SmartcarGateway {
  private readonly authClients = new Map<string, AuthClient>();
  private readonly sdk: BoundSdk;

  constructor(
    private readonly settings: Config['smartcar'],
    private readonly log: FastifyBaseLogger,
    private readonly clock: Clock,
  ) {
    this.sdk = new BoundSdk(settings.origins, settings.timeoutMs);
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
    return this.sdk.connectUrl(this.authClient(redirectUri), this.settings.scope, {
      state,
      forcePrompt: true,
      ...(options.make ? { makeBypass: options.make } : {}),
      ...(options.singleVehicle ? { singleSelect: { enabled: true } } : {}),
    });
  }

  /** Not retried: a code is single-use, so a second try after an unclear failure cannot succeed. */
  async exchangeCode(redirectUri: string, code: string): Promise<TokenSet> {
    try {
      return this.tokenSet(await this.authClient(redirectUri).exchangeCode(code));
    } catch (error) {
      this.logFailure(error, { call: 'exchangeCode' });
      // Smartcar answers a code it cannot redeem (unknown, used, expired) with `invalid_request`
      // "Invalid code: …", and a redirect URI other than the code's with `invalid_grant`.
      if (isOAuthError(error, 'invalid_request') || isOAuthError(error, 'invalid_grant')) {
        throw signInExpired('invalid_code');
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
      return this.tokenSet(await this.authClient(redirectUri ?? '').exchangeRefreshToken(refreshToken));
    } catch (error) {
      this.logFailure(error, { call: 'refresh' });
      if (isOAuthError(error, 'invalid_grant')) throw new RefreshTokenRejected();
      // `invalid_request` "Invalid refresh_token: …" means Smartcar does not know the token at all.
      // The vault only ever sends the token it stores, and a used one answers `invalid_grant`, so
      // this is Smartcar refusing this server (another application's credentials, say), not a dead
      // grant: the grant is kept and retried after the back-off (the 502 below), and the operator
      // is told.
      if (isOAuthError(error, 'invalid_request')) {
        this.log.error(
          { smartcar: { call: 'refresh' } },
          'Smartcar does not know a stored refresh token; check SMARTCAR_CLIENT_ID (the grant is kept)',
        );
      }
      throw toApiError(error);
    }
  }

  /** Every vehicle the grant covers, paging `GET /vehicles` to the end (free). */
  async vehicleIds(accessToken: string): Promise<string[]> {
    return this.paged({ call: 'vehicles' }, async (offset) => {
      const page = await this.sdk.vehicles(accessToken, offset > 0 ? { offset } : {});
      return { items: page.vehicles, count: page.paging.count };
    });
  }

  /**
   * The Smartcar user a grant belongs to: proof, as only the grant's own token can ask it. Null
   * for a grant made without `read_user_profile` (Smartcar answers 403 PERMISSION).
   */
  async userId(accessToken: string): Promise<string | null> {
    try {
      const user = await this.vehicleCall({ call: 'user' }, () => this.sdk.user(accessToken));
      return user.id;
    } catch (error) {
      if (error instanceof UpstreamError && error.upstream.type === 'PERMISSION') return null;
      throw error;
    }
  }

  /** The permissions a grant gave for a vehicle (free); fixed until the vehicle is connected again. */
  async permissions(id: string, accessToken: string): Promise<string[]> {
    const vehicle = this.sdk.vehicle(id, accessToken);
    return this.paged({ call: 'permissions', vehicleId: id }, async (offset) => {
      const page = await vehicle.permissions(offset > 0 ? { offset } : undefined);
      return { items: page.permissions, count: page.paging.count };
    });
  }

  /**
   * Reads what `request` asks with one batch call, in metric units (answers convert). Only
   * documented batch paths: Smartcar fails a whole batch that holds any other.
   */
  async readVehicle(id: string, accessToken: string, request: ReadRequest): Promise<BatchReading> {
    const asked = [...(request.attributes ? [ATTRIBUTES] : []), ...request.figures.map((f) => FIGURES[f])];
    const batch = await this.vehicleCall({ call: 'batch', vehicleId: id }, () =>
      this.sdk.vehicle(id, accessToken, { unitSystem: 'metric' }).batch(asked.map((item) => item.path)),
    );
    const reading: BatchReading = { data: {}, failures: [], billed: 0 };
    const item = (name: PopupFigure | 'attributes', itemName: string) => {
      const answer = batch[itemName];
      if (!answer) return undefined;
      try {
        const body = answer();
        reading.billed += 1;
        return body;
      } catch (error) {
        this.logFailure(error, { call: 'batch', item: name, vehicleId: id });
        reading.failures.push({ item: name, error: toApiError(error) });
        return undefined;
      }
    };
    if (request.attributes) {
      const body = item('attributes', ATTRIBUTES.item);
      if (body)
        reading.attributes = { make: String(body.make), model: String(body.model), year: Number(body.year) };
    }
    for (const figure of request.figures) {
      const body = item(figure, FIGURES[figure].item);
      if (body) Object.assign(reading.data, { [figure]: figureValue(figure, body) });
    }
    return reading;
  }

  /** Not retried: a lock command that timed out may still have reached the car. */
  async setLock(id: string, accessToken: string, action: 'LOCK' | 'UNLOCK'): Promise<void> {
    const vehicle = this.sdk.vehicle(id, accessToken);
    await this.vehicleCall({ call: action === 'LOCK' ? 'lock' : 'unlock', vehicleId: id }, () =>
      action === 'LOCK' ? vehicle.lock() : vehicle.unlock(),
    );
  }

  /**
   * Revokes the application's access to a vehicle. A 403 (the token no longer reaches the
   * vehicle, also what a retried, successful disconnect answers) counts as done.
   */
  async disconnect(id: string, accessToken: string): Promise<void> {
    try {
      await pRetry(() => this.sdk.vehicle(id, accessToken).disconnect(), {
        retries: DISCONNECT_RETRIES,
        minTimeout: 200,
        factor: 3,
        shouldRetry: ({ error }) => toApiError(error).transient,
        onFailedAttempt: ({ error, attemptNumber }) => {
          this.logFailure(error, { call: 'disconnect', vehicleId: id, attempt: attemptNumber });
        },
      });
    } catch (error) {
      if (isSmartcarError(error) && error.statusCode === 403) return;
      if (isSmartcarError(error) && error.statusCode === 401) throw new AccessTokenRejected();
      throw toApiError(error);
    }
  }

  /** Pages a list to the end: Smartcar answers a page at a time, and a person may approve many vehicles. */
  private async paged(
    context: FailureContext,
    page: (offset: number) => Promise<{ items: string[]; count: number }>,
  ): Promise<string[]> {
    const all: string[] = [];
    for (;;) {
      const { items, count } = await this.vehicleCall(context, () => page(all.length));
      all.push(...items);
      if (items.length === 0 || all.length >= count) return all;
    }
  }

  /** One vehicle API call, not retried here; failures are logged once and turned into API errors. */
  private async vehicleCall<T>(context: FailureContext, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      this.logFailure(error, context);
      if (isSmartcarError(error) && error.statusCode === 401) throw new AccessTokenRejected();
      throw toApiError(error);
    }
  }

  /** The operator's one line per failed Smartcar answer: Smartcar's status, type, code and request id. */
  private logFailure(error: unknown, context: FailureContext): void {
    if (isSmartcarError(error)) {
      this.log.warn(
        {
          smartcar: {
            ...context,
            status: error.statusCode,
            type: error.type,
            // Not `code`: log redaction hides every field of that name (OAuth codes).
            errorCode: error.code,
            requestId: error.requestId,
            retryAfter: error.retryAfter,
          },
        },
        'Smartcar answered with an error',
      );
    } else {
      const cause = error as { name?: string; code?: string } | null;
      this.log.warn(
        { smartcar: { ...context, error: cause?.name, cause: cause?.code } },
        'Smartcar could not be reached',
      );
    }
  }

  /**
   * The SDK dates a new pair by the machine's clock (`Date.now()` plus the lifetimes Smartcar
   * gave); the server keeps every time on its own clock, so the lifetimes are carried over to it.
   */
  private tokenSet(access: Access): TokenSet {
    const shift = this.clock.now().getTime() - Date.now();
    return {
      accessToken: access.accessToken,
      refreshToken: access.refreshToken,
      accessExpiresAt: new Date(access.expiration.getTime() + shift),
      refreshExpiresAt: new Date(access.refreshExpiration.getTime() + shift),
    };
  }

  private authClient(redirectUri: string): AuthClient {
    // The SDK sends the redirect URI its client was made with, so keep one client per URI.
    let client = this.authClients.get(redirectUri);
    if (!client) {
      client = this.sdk.authClient({
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
 * that does not help, it answers that the person has to connect the vehicle again.
 */
export class AccessTokenRejected extends Error {
  constructor() {
    super('Smartcar rejected the access token.');
    this.name = 'AccessTokenRejected';
  }
}

export class RefreshTokenRejected extends Error {
  constructor() {
    super('Smartcar rejected the refresh token.');
    this.name = 'RefreshTokenRejected';
  }
}

interface FailureContext {
  call: string;
  vehicleId?: string;
  item?: string;
  attempt?: number;
}

/** Disconnect is idempotent: a transient failure is tried again this often. */
const DISCONNECT_RETRIES = 2;

/** A batch item's body in the shape the popup shows. */
function figureValue<F extends PopupFigure>(figure: F, body: Record<string, unknown>): VehicleData[F] {
  const number = (key: string) => Number(body[key]);
  const values: { [K in PopupFigure]: () => VehicleData[K] } = {
    odometer: () => ({ distance: number('distance') }),
    battery: () => ({ percentRemaining: number('percentRemaining'), range: number('range') }),
    fuel: () => ({
      percentRemaining: number('percentRemaining'),
      range: number('range'),
      amountRemaining: number('amountRemaining'),
    }),
    location: () => ({ latitude: number('latitude'), longitude: number('longitude') }),
    security: () => ({ isLocked: Boolean(body.isLocked) }),
  };
  return values[figure]();
}

function retryAfterSeconds(error: unknown): number | undefined {
  if (!isSmartcarError(error) || error.retryAfter === undefined) return undefined;
  const seconds = Number(error.retryAfter);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

function isSmartcarError(error: unknown): error is SmartcarError {
  return error instanceof smartcar.SmartcarError;
}

/** An error from the token endpoint: its OAuth error (`invalid_grant`, ...) is the SDK's `type`. */
function isOAuthError(error: unknown, oauthError: string): boolean {
  return isSmartcarError(error) && error.statusCode === 400 && error.type === oauthError;
}

/** Any failure of a Smartcar call as the API's answer, keeping what Smartcar said. */
export function toApiError(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (!isSmartcarError(error)) return upstreamError({});
  return upstreamError({
    status: error.statusCode,
    ...(error.type ? { type: error.type } : {}),
    ...(error.code ? { code: error.code } : {}),
    ...(error.requestId ? { requestId: error.requestId } : {}),
    ...(retryAfterSeconds(error) !== undefined ? { retryAfterSeconds: retryAfterSeconds(error) } : {}),
  });
}
