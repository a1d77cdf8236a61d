// The extension-to-server API. The server validates with these schemas; the extension imports
// only their types (`import type`), so the two sides cannot drift and the extension ships no validator.
import { z } from 'zod';

const MAX_TOKEN_LENGTH = 512;

export const ConnectRequest = z.strictObject({
  redirectUri: z.url({ protocol: /^https$/ }).max(200),
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
});
export type ExchangeRequest = z.infer<typeof ExchangeRequest>;

export const VehicleIdParams = z.strictObject({
  id: z.string().min(1).max(100),
});

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
  units: 'metric' | 'imperial';
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

export const ERROR_CODES = [
  'bad_request',
  'not_found',
  'unauthorized',
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
