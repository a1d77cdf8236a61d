// The extension-to-server API. The server validates with these schemas; the extension imports
// only their types (`import type`), so the two sides cannot drift and the extension ships no validator.
import { z } from 'zod';

const MAX_TOKEN_LENGTH = 512;

const UNIT_SYSTEMS = ['metric', 'imperial'] as const;
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
  /**
   * The redirect's `user_id` (API v3 applications get one): a claim anyone can type, which the
   * server only compares with the Smartcar user Smartcar itself proves for the code's grant.
   */
  smartcarUserId: z.string().min(1).max(100).optional(),
  /** Unit system to answer the vehicles in (the server reads in metric and converts); metric when absent. */
  units: z.enum(UNIT_SYSTEMS).optional(),
});
export type ExchangeRequest = z.infer<typeof ExchangeRequest>;

export const VehicleIdParams = z.strictObject({
  id: z.string().min(1).max(100),
});

/**
 * `?units=imperial` on `GET /api/vehicles`, `POST /api/vehicles/refresh` and
 * `POST /api/vehicles/:id/security`: the unit system to answer in. The server reads every car in
 * metric and converts what it stored on each answer; metric when absent.
 */
export const VehiclesQuery = z.strictObject({
  units: z.enum(UNIT_SYSTEMS).optional(),
});

export const SecurityRequest = z.strictObject({
  action: z.enum(['LOCK', 'UNLOCK']),
});
export type SecurityRequest = z.infer<typeof SecurityRequest>;

/** Figures read from the vehicle, each present only when its permission was granted and a read succeeded. */
export interface VehicleData {
  odometer?: { distance: number };
  battery?: { percentRemaining: number; range: number };
  fuel?: { percentRemaining: number; range: number; amountRemaining: number };
  location?: { latitude: number; longitude: number };
  security?: { isLocked: boolean };
}

/**
 * When each figure in `data` was read (ISO time). A batch item can fail while the others succeed,
 * so a figure keeps its last good value and its own age.
 */
export type VehicleReadTimes = { [K in keyof VehicleData]?: string };

type VehicleStatus = 'connected' | 'reconnect_required';

/** A lock or unlock that was sent to the car and is not confirmed yet (Smartcar timed out or is still working). */
export interface PendingCommand {
  action: SecurityRequest['action'];
  /** ISO time the command was sent. */
  sentAt: string;
}

/** Why the last read of a vehicle failed, kept until a read succeeds. */
export interface ReadFailure {
  code: ErrorCode;
  message: string;
  /** ISO time of the failed read. */
  at: string;
  /** ISO time before which Smartcar said not to ask again (its rate limits, the monthly allowance). */
  retryAt?: string;
}

/** Billed Smartcar requests for this vehicle in the current calendar month (UTC), against the server's budget. */
interface VehicleUsage {
  /** The month counted, as `YYYY-MM`. */
  month: string;
  billed: number;
  budget: number;
}

export interface Vehicle {
  id: string;
  /** Null until the first read of the vehicle has answered (a read can take minutes). */
  make: string | null;
  model: string | null;
  year: number | null;
  /** Smartcar permission names granted for this vehicle. */
  permissions: string[];
  status: VehicleStatus;
  /** Unit system of the distances and ranges in `data`. */
  units: UnitSystem;
  data: VehicleData;
  readAt: VehicleReadTimes;
  /** ISO time of the last read that succeeded, or null if none has yet. */
  fetchedAt: string | null;
  /** A read of this vehicle is under way at the server; ask again to see its result. */
  reading: boolean;
  /** ISO time the server will next read the vehicle by itself (paced by the request budget), or null. */
  nextReadAt: string | null;
  lastFailure: ReadFailure | null;
  pendingCommand: PendingCommand | null;
  usage: VehicleUsage;
}

export interface ExchangeResponse {
  /** Opaque session token for `Authorization: Bearer`; the server keeps only its hash. */
  session: string;
  /** Every vehicle of the user, not only the new ones: the extension stores the list as it is. */
  vehicles: Vehicle[];
  /** Connections whose vehicle list Smartcar has not answered yet; ask again to see their vehicles. */
  pendingConnections: number;
}

export interface VehiclesResponse {
  vehicles: Vehicle[];
  pendingConnections: number;
}

/**
 * `POST /api/vehicles/:id/security` answers 200 with the confirmed lock status, or 202 when the
 * command was sent but Smartcar has not confirmed it yet (`vehicle.pendingCommand` is set).
 */
export interface SecurityResponse {
  vehicle: Vehicle;
}

/** `POST /api/vehicles/refresh`: the person asked for fresh data now; answers 202 with `reading` set. */
export type RefreshResponse = VehiclesResponse;

/** Every failure the server answers, by a stable code the extension turns into words. */
export type ErrorCode =
  | 'bad_request'
  | 'not_found'
  | 'unauthorized'
  | 'session_expired'
  | 'extension_not_allowed'
  | 'not_permitted'
  | 'redirect_uri_not_allowed'
  | 'invalid_state'
  | 'invalid_code'
  | 'reconnect_required'
  | 'rate_limited'
  | 'request_budget_spent'
  | 'upstream_error'
  | 'upstream_unavailable'
  | 'internal';

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    /** ISO time after which trying again can succeed (rate limits, the monthly budget). */
    retryAt?: string;
  };
}
