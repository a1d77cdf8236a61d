// The official `smartcar` SDK ships no type declarations; this is the slice the conformance tests use,
// typed from its JSDoc (node_modules/smartcar/lib/*.js). Loaded with require so no ambient module is declared.
import { createRequire } from 'node:module';

export interface Meta {
  requestId?: string;
  dataAge?: Date;
  fetchedAt?: Date;
  unitSystem?: string;
}

export interface Access {
  accessToken: string;
  refreshToken: string;
  expiration: Date;
  refreshExpiration: Date;
}

type WithMeta<T> = T & { meta: Meta };

export interface AuthClient {
  getAuthUrl(
    scope?: string[],
    options?: {
      state?: string;
      forcePrompt?: boolean;
      makeBypass?: string;
      singleSelect?: { enabled?: boolean; vin?: string };
      flags?: Record<string, string | boolean>;
      user?: string;
    },
  ): string;
  exchangeCode(code: string): Promise<Access>;
  exchangeRefreshToken(token: string): Promise<Access>;
}

export interface SecurityItem {
  type: string;
  status: string;
}

export type BatchResult = Record<string, () => WithMeta<Record<string, unknown>>>;

export interface Vehicle {
  attributes(): Promise<WithMeta<{ id: string; make: string; model: string; year: number }>>;
  vin(): Promise<WithMeta<{ vin: string }>>;
  permissions(paging?: {
    limit?: number;
    offset?: number;
  }): Promise<WithMeta<{ permissions: string[]; paging: { count: number; offset: number } }>>;
  odometer(): Promise<WithMeta<{ distance: number }>>;
  location(): Promise<WithMeta<{ latitude: number; longitude: number }>>;
  battery(): Promise<WithMeta<{ percentRemaining: number; range: number }>>;
  batteryCapacity(): Promise<WithMeta<{ capacity: number }>>;
  fuel(): Promise<WithMeta<{ range: number; percentRemaining: number; amountRemaining: number }>>;
  tirePressure(): Promise<
    WithMeta<{ frontLeft: number; frontRight: number; backLeft: number; backRight: number }>
  >;
  engineOil(): Promise<WithMeta<{ lifeRemaining: number }>>;
  charge(): Promise<WithMeta<{ isPluggedIn: boolean; state: string }>>;
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
  lock(): Promise<WithMeta<{ status: string; message: string }>>;
  unlock(): Promise<WithMeta<{ status: string; message: string }>>;
  disconnect(): Promise<WithMeta<{ status: string }>>;
  nominalCapacity(): Promise<
    WithMeta<{
      availableCapacities: { capacity: number; description: string | null }[];
      capacity: object;
      url: string | null;
    }>
  >;
  getChargeLimit(): Promise<WithMeta<{ limit: number }>>;
  setChargeLimit(limit: number): Promise<WithMeta<{ status: string; message: string }>>;
  startCharge(): Promise<WithMeta<{ status: string; message: string }>>;
  stopCharge(): Promise<WithMeta<{ status: string; message: string }>>;
  sendDestination(
    latitude: number,
    longitude: number,
  ): Promise<WithMeta<{ status: string; message: string }>>;
  serviceHistory(
    startDate?: string,
    endDate?: string,
  ): Promise<{ data: Record<string, unknown>[]; meta: Meta }>;
  diagnosticSystemStatus(): Promise<
    WithMeta<{ systems: { systemId: string; status: 'OK' | 'ALERT'; description: string | null }[] }>
  >;
  diagnosticTroubleCodes(): Promise<WithMeta<{ activeCodes: { code: string; timestamp: string | null }[] }>>;
  request(
    method: string,
    path: string,
    body?: object | null,
    headers?: Record<string, string>,
  ): Promise<{ body: Record<string, unknown>; meta: Meta }>;
  batch(paths: string[]): Promise<BatchResult>;
}

export interface SmartcarError extends Error {
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

export interface Smartcar {
  AuthClient: new (options: {
    clientId: string;
    clientSecret: string;
    redirectUri?: string;
    mode?: 'test' | 'live' | 'simulated';
  }) => AuthClient;
  Vehicle: new (
    id: string,
    token: string,
    options?: { unitSystem?: 'metric' | 'imperial'; flags?: Record<string, string> },
  ) => Vehicle;
  SmartcarError: abstract new (...args: never[]) => SmartcarError;
  getVehicles(
    accessToken: string,
    paging?: { limit?: number; offset?: number },
  ): Promise<WithMeta<{ vehicles: string[]; paging: { count: number; offset: number } }>>;
  getUser(accessToken: string): Promise<WithMeta<{ id: string }>>;
}

export const smartcar = createRequire(import.meta.url)('smartcar') as Smartcar;
