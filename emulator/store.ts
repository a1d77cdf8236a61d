// The state of one emulator: registered clients, vehicles, grants, codes and tokens. It lives in
// memory; `snapshot` and `restore` carry it across a restart (see state-file.ts). Codes and tokens are
// kept by their SHA-256 only, as a password store would: a snapshot never holds one.
import { createHash, randomUUID } from 'node:crypto';
import type { EmulatedVehicle } from './fleet';
import type { Permission } from './permission-labels';

export interface EmulatorClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** The application management token (AMT): the Bearer token of webhook unsubscribe. */
  managementToken?: string;
  /** Webhooks registered in the dashboard, which vehicles can be subscribed to. */
  webhookIds?: string[];
}

export interface TokenLifetimes {
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  /** How long a refresh token keeps working after it has been used once. */
  refreshGraceSeconds: number;
}

/** What a user approved for one application: vehicles, each with the permissions it was granted. */
export interface Grant {
  id: string;
  clientId: string;
  account: string;
  vehicles: Map<string, Set<Permission>>;
  /** Everything the user approved, whatever the vehicles support (`read_user_profile` is not per vehicle). */
  scope: Set<Permission>;
  /** When Connect granted it: a v3 connection's `createdAt` and `updatedAt`. */
  createdAt: number;
}

export interface Approval {
  vehicleIds: Set<string>;
  permissions: Set<Permission>;
}

export interface AuthCode {
  clientId: string;
  redirectUri: string;
  grantId: string;
  expiresAt: number;
  used: boolean;
}

/** `application`: API v3's client-credentials token, which no grant stands behind. */
type TokenKind = 'access' | 'refresh' | 'application';

export interface TokenRecord {
  /** The token itself, for the control API; known only for tokens issued since this start. */
  token?: string;
  kind: TokenKind;
  clientId: string;
  /** The grant an access or refresh token stands for; none on an application token. */
  grantId?: string;
  issuedAt: number;
  expiresAt: number;
  revoked: boolean;
}

type TokenStatus = 'active' | 'expired' | 'revoked';

export interface IssuedToken {
  token: string;
  kind: TokenKind;
  clientId: string;
  issuedAt: Date;
  expiresAt: Date;
  status: TokenStatus;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

const CODE_TTL_MS = 10 * 60 * 1000;
/** An application token lasts one hour (docs `/api-reference/authorization/request-access-token`). */
const APPLICATION_TOKEN_TTL_SECONDS = 3600;

export type CodeRejection = 'unknown' | 'used' | 'expired' | 'client' | 'redirect_uri';
export type RefreshRejection = 'unknown' | 'expired' | 'revoked' | 'client';

/** Everything a restart must keep, as plain JSON: sets become arrays, codes and tokens their hashes. */
export interface StoreState {
  vehicles: (Omit<EmulatedVehicle, 'capabilities'> & { capabilities: Permission[] })[];
  grants: (Omit<Grant, 'vehicles' | 'scope'> & { vehicles: [string, Permission[]][]; scope: Permission[] })[];
  approvals: [string, { vehicleIds: string[]; permissions: Permission[] }][];
  codes: [string, AuthCode][];
  tokens: [string, Omit<TokenRecord, 'token'>][];
}

/** The key a code or token is kept under. */
function digest(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

export class Store {
  readonly vehicles = new Map<string, EmulatedVehicle>();
  private readonly grants = new Map<string, Grant>();
  private readonly codes = new Map<string, AuthCode>();
  private readonly tokens = new Map<string, TokenRecord>();
  /** The last approval per application and account, so `approval_prompt=auto` can skip the page. */
  private readonly approvals = new Map<string, Approval>();

  constructor(
    readonly clients: readonly EmulatorClient[],
    public lifetimes: TokenLifetimes,
    readonly now: () => number = Date.now,
  ) {}

  client(clientId: string): EmulatorClient | undefined {
    return this.clients.find((client) => client.clientId === clientId);
  }

  clientByManagementToken(token: string): EmulatorClient | undefined {
    return this.clients.find((client) => client.managementToken === token);
  }

  /** The vehicle record for an account's car, created on first login so its state persists across logins. */
  vehicle(candidate: EmulatedVehicle): EmulatedVehicle {
    const existing = this.vehicles.get(candidate.id);
    if (existing) return existing;
    this.vehicles.set(candidate.id, candidate);
    return candidate;
  }

  createGrant(
    clientId: string,
    account: string,
    vehicles: Map<string, Set<Permission>>,
    scope: readonly Permission[],
  ): Grant {
    const grant: Grant = {
      id: randomUUID(),
      clientId,
      account,
      vehicles,
      scope: new Set(scope),
      createdAt: this.now(),
    };
    this.grants.set(grant.id, grant);
    return grant;
  }

  rememberApproval(grant: Grant, permissions: readonly Permission[]): void {
    this.approvals.set(`${grant.clientId}|${grant.account}`, {
      vehicleIds: new Set(grant.vehicles.keys()),
      permissions: new Set(permissions),
    });
  }

  priorApproval(clientId: string, account: string): Approval | undefined {
    return this.approvals.get(`${clientId}|${account}`);
  }

  issueCode(grant: Grant, redirectUri: string): string {
    const code = randomUUID();
    this.codes.set(digest(code), {
      clientId: grant.clientId,
      redirectUri,
      grantId: grant.id,
      expiresAt: this.now() + CODE_TTL_MS,
      used: false,
    });
    return code;
  }

  redeemCode(code: string, clientId: string, redirectUri: string | undefined): TokenPair | CodeRejection {
    const record = this.codes.get(digest(code));
    if (!record) return 'unknown';
    if (record.clientId !== clientId) return 'client';
    if (record.used) return 'used';
    if (record.expiresAt <= this.now()) return 'expired';
    if (record.redirectUri !== redirectUri) return 'redirect_uri';
    record.used = true;
    return this.issueTokens(record.clientId, record.grantId);
  }

  /** Rotates: a new pair every time; the used refresh token stays valid for the grace period. */
  refresh(refreshToken: string, clientId: string): TokenPair | RefreshRejection {
    const record = this.tokens.get(digest(refreshToken));
    if (record?.kind !== 'refresh' || record.grantId === undefined) return 'unknown';
    if (record.clientId !== clientId) return 'client';
    if (record.revoked) return 'revoked';
    const now = this.now();
    if (record.expiresAt <= now) return 'expired';
    record.expiresAt = Math.min(record.expiresAt, now + this.lifetimes.refreshGraceSeconds * 1000);
    return this.issueTokens(record.clientId, record.grantId);
  }

  /** The grant behind a live access token. */
  authenticate(accessToken: string): Grant | undefined {
    const record = this.tokens.get(digest(accessToken));
    if (record?.kind !== 'access' || record.grantId === undefined || !this.live(record)) return undefined;
    return this.grants.get(record.grantId);
  }

  /** A new application token (API v3): the client's, with no user behind it and no refresh token. */
  issueApplicationToken(clientId: string): { token: string; expiresIn: number } {
    const token = this.saveToken('application', clientId, APPLICATION_TOKEN_TTL_SECONDS);
    return { token, expiresIn: APPLICATION_TOKEN_TTL_SECONDS };
  }

  /** The application behind a live application token. */
  authenticateApplication(token: string): EmulatorClient | undefined {
    const record = this.tokens.get(digest(token));
    if (record?.kind !== 'application' || !this.live(record)) return undefined;
    return this.client(record.clientId);
  }

  /** The grants of one application, oldest first. */
  clientGrants(clientId: string): Grant[] {
    return [...this.grants.values()].filter((grant) => grant.clientId === clientId);
  }

  /** Marks a token expired from now on; false when the emulator never issued it. */
  expireToken(token: string): boolean {
    const record = this.tokens.get(digest(token));
    if (!record) return false;
    record.expiresAt = Math.min(record.expiresAt, this.now());
    return true;
  }

  revokeToken(token: string): boolean {
    const record = this.tokens.get(digest(token));
    if (!record) return false;
    record.revoked = true;
    return true;
  }

  /** The application loses the vehicle: no grant of that client reaches it any more. */
  disconnect(clientId: string, vehicleId: string): void {
    for (const grant of this.grants.values()) {
      if (grant.clientId === clientId) grant.vehicles.delete(vehicleId);
    }
  }

  /** The application loses every vehicle of the account, and its remembered approval (API v3's remove user). */
  disconnectAccount(clientId: string, account: string): void {
    for (const grant of this.clientGrants(clientId)) {
      if (grant.account === account) grant.vehicles.clear();
    }
    this.approvals.delete(`${clientId}|${account}`);
  }

  /** Every token issued since this start (a restored one's value is not known). */
  issuedTokens(): IssuedToken[] {
    const now = this.now();
    return [...this.tokens.values()].flatMap(({ token, ...record }) =>
      token === undefined
        ? []
        : [
            {
              token,
              kind: record.kind,
              clientId: record.clientId,
              issuedAt: new Date(record.issuedAt),
              expiresAt: new Date(record.expiresAt),
              status: record.revoked ? 'revoked' : record.expiresAt <= now ? 'expired' : 'active',
            } satisfies IssuedToken,
          ],
    );
  }

  /** The state to keep across a restart; spent codes and expired tokens, which can do nothing more, are left out. */
  snapshot(): StoreState {
    const now = this.now();
    return {
      vehicles: [...this.vehicles.values()].map((vehicle) => ({
        ...vehicle,
        capabilities: [...vehicle.capabilities],
      })),
      grants: [...this.grants.values()].map((grant) => ({
        ...grant,
        vehicles: [...grant.vehicles].map(([id, permissions]) => [id, [...permissions]]),
        scope: [...grant.scope],
      })),
      approvals: [...this.approvals].map(([key, approval]) => [
        key,
        { vehicleIds: [...approval.vehicleIds], permissions: [...approval.permissions] },
      ]),
      codes: [...this.codes].filter(([, code]) => !code.used && code.expiresAt > now),
      tokens: [...this.tokens]
        .filter(([, record]) => record.expiresAt > now)
        .map(([hash, { kind, clientId, grantId, issuedAt, expiresAt, revoked }]) => [
          hash,
          { kind, clientId, grantId, issuedAt, expiresAt, revoked },
        ]),
    };
  }

  /** Takes over a snapshot's state (at start, before any request). */
  restore(state: StoreState): void {
    for (const vehicle of state.vehicles) {
      this.vehicles.set(vehicle.id, { ...vehicle, capabilities: new Set(vehicle.capabilities) });
    }
    for (const grant of state.grants) {
      this.grants.set(grant.id, {
        ...grant,
        vehicles: new Map(grant.vehicles.map(([id, permissions]) => [id, new Set(permissions)])),
        scope: new Set(grant.scope),
      });
    }
    for (const [key, approval] of state.approvals) {
      this.approvals.set(key, {
        vehicleIds: new Set(approval.vehicleIds),
        permissions: new Set(approval.permissions),
      });
    }
    for (const [hash, code] of state.codes) this.codes.set(hash, code);
    for (const [hash, record] of state.tokens) this.tokens.set(hash, record);
  }

  private issueTokens(clientId: string, grantId: string): TokenPair {
    const { accessTokenTtlSeconds, refreshTokenTtlSeconds } = this.lifetimes;
    return {
      accessToken: this.saveToken('access', clientId, accessTokenTtlSeconds, grantId),
      refreshToken: this.saveToken('refresh', clientId, refreshTokenTtlSeconds, grantId),
      expiresIn: accessTokenTtlSeconds,
    };
  }

  private saveToken(kind: TokenKind, clientId: string, ttlSeconds: number, grantId?: string): string {
    const token = randomUUID();
    const now = this.now();
    this.tokens.set(digest(token), {
      token,
      kind,
      clientId,
      grantId,
      issuedAt: now,
      expiresAt: now + ttlSeconds * 1000,
      revoked: false,
    });
    return token;
  }

  private live(record: TokenRecord): boolean {
    return !record.revoked && record.expiresAt > this.now();
  }
}
