// The official `smartcar` SDK ships no type declarations; these cover what this project uses.
declare module 'smartcar' {
  export interface Meta {
    requestId?: string;
    dataAge?: Date;
    fetchedAt?: Date;
    unitSystem?: 'metric' | 'imperial';
  }

  export interface Access {
    accessToken: string;
    refreshToken: string;
    expiration: Date;
    refreshExpiration: Date;
  }

  export interface AuthUrlOptions {
    state?: string;
    forcePrompt?: boolean;
    makeBypass?: string;
    singleSelect?: { enabled?: boolean; vin?: string };
    flags?: Record<string, string | boolean>;
    user?: string;
  }

  export class AuthClient {
    constructor(options: {
      clientId: string;
      clientSecret: string;
      redirectUri?: string;
      mode?: 'test' | 'live' | 'simulated';
    });
    getAuthUrl(scope: string[], options?: AuthUrlOptions): string;
    exchangeCode(code: string): Promise<Access>;
    exchangeRefreshToken(refreshToken: string): Promise<Access>;
  }

  export interface Attributes {
    id: string;
    make: string;
    model: string;
    year: number;
    meta: Meta;
  }

  /** Each entry returns the item's body with `meta`, or throws the item's SmartcarError. */
  export type BatchResponse = Record<string, () => Record<string, unknown> & { meta: Meta }>;

  export class Vehicle {
    constructor(id: string, accessToken: string, options?: { unitSystem?: 'metric' | 'imperial' });
    attributes(): Promise<Attributes>;
    permissions(paging?: { limit?: number; offset?: number }): Promise<{ permissions: string[]; meta: Meta }>;
    batch(paths: string[]): Promise<BatchResponse>;
    lock(): Promise<{ status: string; message: string; meta: Meta }>;
    unlock(): Promise<{ status: string; message: string; meta: Meta }>;
    disconnect(): Promise<{ status: string; meta: Meta }>;
  }

  export class SmartcarError extends Error {
    statusCode: number;
    type?: string;
    code?: string;
    description?: string;
    requestId?: string;
    retryAfter?: string;
    resolution?: { type: string | null };
  }

  export function getVehicles(
    accessToken: string,
    paging?: { limit?: number; offset?: number },
  ): Promise<{ vehicles: string[]; paging: { count: number; offset: number }; meta: Meta }>;

  const smartcar: {
    AuthClient: typeof AuthClient;
    Vehicle: typeof Vehicle;
    SmartcarError: typeof SmartcarError;
    getVehicles: typeof getVehicles;
  };
  export default smartcar;
}
