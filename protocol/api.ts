// The extension-to-server API. The server validates with these schemas; the extension imports
// only their types (`import type`), so the two sides cannot drift and the extension ships no validator.
import { z } from 'zod';

const MAX_TOKEN_LENGTH = 512;

export const UNIT_SYSTEMS = ['metric', 'imperial'] as const;
export type UnitSystem = (typeof UNIT_SYSTEMS)[number];

export const ConnectRequest = z.strictObject({
  redirectUri: z.url({ protocol: /^https$/ }).max(200),
  /** Skips Connect's brand list, e.g. `TESLA` (Smartcar's make names). */
  make: z
    .string()
    .regex(/^[A-Z][A-Z_-]{1,29}$/, 'must be a Smartcar make name such as TESLA')
    .optional(),
  /** Lets the person pick one vehicle only. */
  singleVehicle: z.boolean().optional(),
});
export type ConnectRequest = z.infer<typeof ConnectRequest>;

export interface ConnectResponse {
  /** Smartcar Connect URL to open with `identity.launchWebAuthFlow`. */
  url: string;
  /** The single-use state inside `url`; the redirect must carry it back unchanged. */
  state: string;
}

export const ExchangeRequest = z.strictObject({
  code: z.string().min(1).max(MAX_TOKEN_LENGTH),
  state: z.string().min(1).max(MAX_TOKEN_LENGTH),
  /** Unit system to read the new vehicles in; metric when absent. */
  units: z.enum(UNIT_SYSTEMS).optional(),
});
export type ExchangeRequest = z.infer<typeof ExchangeRequest>;

export const VehicleIdParams = z.strictObject({
  id: z.string().min(1).max(100),
});

/** `GET /api/vehicles?units=imperial`: data in another unit system is read again in this one. */
export const VehiclesQuery = z.strictObject({
  units: z.enum(UNIT_SYSTEMS).optional(),
});

export const SecurityRequest = z.strictObject({
  action: z.enum(['LOCK', 'UNLOCK']),
});
export type SecurityRequest = z.infer<typeof SecurityRequest>;

/** Figures read from the vehicle, each present only when its permission was granted and the read succeeded. */
export interface VehicleData {
  odometer?: { distance: number };
  battery?: { percentRemaining: number; range: number };
  fuel?: { percentRemaining: number; range: number; amountRemaining: number };
  location?: { latitude: number; longitude: number };
  security?: { isLocked: boolean };
}

export type VehicleStatus = 'connected' | 'reconnect_required';

export interface Vehicle {
  id: string;
  make: string;
  model: string;
  year: number;
  /** Smartcar permission names granted for this vehicle. */
  permissions: string[];
  status: VehicleStatus;
  /** Unit system of the distances and ranges in `data`. */
  units: UnitSystem;
  data: VehicleData;
  /** ISO time the data was read from Smartcar, or null if it never was. */
  fetchedAt: string | null;
}

export interface ExchangeResponse {
  /** Opaque session token for `Authorization: Bearer`; the server keeps only its hash. */
  session: string;
  vehicles: Vehicle[];
}

export interface VehiclesResponse {
  vehicles: Vehicle[];
}

/** `POST /api/vehicles/:id/security` answers the vehicle with its new lock status. */
export interface SecurityResponse {
  vehicle: Vehicle;
}

export const ERROR_CODES = [
  'bad_request',
  'not_found',
  'unauthorized',
  'not_permitted',
  'redirect_uri_not_allowed',
  'invalid_state',
  'invalid_code',
  'reconnect_required',
  'rate_limited',
  'upstream_error',
  'upstream_unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}
