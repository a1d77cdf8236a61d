// The official `smartcar` SDK (10.4.0) ships no type declarations. These are typed from its JSDoc
// (node_modules/smartcar/lib/*.js) and cover what the server and the conformance tests use.
declare module 'smartcar' {
  export interface Meta {
    requestId?: string;
    dataAge?: Date;
    fetchedAt?: Date;
    unitSystem?: 'metric' | 'imperial';
  }

  type WithMeta<T> = T & { meta: Meta };
  type Paging = { limit?: number; offset?: number };
  type CommandResult = WithMeta<{ status: string; message: string }>;

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
    getAuthUrl(scope?: string[], options?: AuthUrlOptions): string;
    exchangeCode(code: string): Promise<Access>;
    exchangeRefreshToken(refreshToken: string): Promise<Access>;
  }

  export interface SecurityItem {
    type: string;
    status: string;
  }

  /** Each entry returns the item's body with `meta`, or throws the item's SmartcarError. */
  export type BatchResponse = Record<string, () => WithMeta<Record<string, unknown>>>;

  export class Vehicle {
    constructor(
      id: string,
      accessToken: string,
      options?: { unitSystem?: 'metric' | 'imperial'; flags?: Record<string, string> },
    );
    attributes(): Promise<WithMeta<{ id: string; make: string; model: string; year: number }>>;
    vin(): Promise<WithMeta<{ vin: string }>>;
    permissions(
      paging?: Paging,
    ): Promise<WithMeta<{ permissions: string[]; paging: { count: number; offset: number } }>>;
    odometer(): Promise<WithMeta<{ distance: number }>>;
    location(): Promise<WithMeta<{ latitude: number; longitude: number }>>;
    battery(): Promise<WithMeta<{ percentRemaining: number; range: number }>>;
    batteryCapacity(): Promise<WithMeta<{ capacity: number }>>;
    nominalCapacity(): Promise<
      WithMeta<{
        availableCapacities: { capacity: number; description: string | null }[];
        capacity: object;
        url: string | null;
      }>
    >;
    fuel(): Promise<WithMeta<{ range: number; percentRemaining: number; amountRemaining: number }>>;
    tirePressure(): Promise<
      WithMeta<{ frontLeft: number; frontRight: number; backLeft: number; backRight: number }>
    >;
    engineOil(): Promise<WithMeta<{ lifeRemaining: number }>>;
    charge(): Promise<WithMeta<{ isPluggedIn: boolean; state: string }>>;
    getChargeLimit(): Promise<WithMeta<{ limit: number }>>;
    setChargeLimit(limit: number): Promise<CommandResult>;
    startCharge(): Promise<CommandResult>;
    stopCharge(): Promise<CommandResult>;
    lockStatus(): Promise<
      WithMeta<{
        isLocked: boolean;
        doors: SecurityItem[];
        windows: SecurityItem[];
        sunroof: SecurityItem[];
        storage: SecurityItem[];
        chargingPort: SecurityItem[];
      }>
    >;
    lock(): Promise<CommandResult>;
    unlock(): Promise<CommandResult>;
    sendDestination(latitude: number, longitude: number): Promise<CommandResult>;
    serviceHistory(
      startDate?: string,
      endDate?: string,
    ): Promise<{ data: Record<string, unknown>[]; meta: Meta }>;
    diagnosticSystemStatus(): Promise<
      WithMeta<{ systems: { systemId: string; status: 'OK' | 'ALERT'; description: string | null }[] }>
    >;
    diagnosticTroubleCodes(): Promise<
      WithMeta<{ activeCodes: { code: string; timestamp: string | null }[] }>
    >;
    disconnect(): Promise<WithMeta<{ status: string }>>;
    request(
      method: string,
      path: string,
      body?: object | null,
      headers?: Record<string, string>,
    ): Promise<{ body: Record<string, unknown>; meta: Meta }>;
    batch(paths: string[]): Promise<BatchResponse>;
  }

  export class SmartcarError extends Error {
    constructor(status: number, body: Record<string, unknown>, headers: Record<string, string>);
    name: 'SmartcarError';
    statusCode: number;
    type?: string;
    code?: string;
    description?: string;
    docURL?: string;
    requestId?: string;
    retryAfter?: string;
    resolution?: { type: string | null };
    suggestedUserMessage?: string;
  }

  export function getVehicles(
    accessToken: string,
    paging?: Paging,
  ): Promise<WithMeta<{ vehicles: string[]; paging: { count: number; offset: number } }>>;
  export function getUser(accessToken: string): Promise<WithMeta<{ id: string }>>;

  const smartcar: {
    AuthClient: typeof AuthClient;
    Vehicle: typeof Vehicle;
    SmartcarError: typeof SmartcarError;
    getVehicles: typeof getVehicles;
    getUser: typeof getUser;
  };
  export default smartcar;
}
