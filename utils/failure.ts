import type { ErrorCode } from '@/protocol/server-api';

/** What can go wrong on the extension's side of the flow, next to the server's own error codes. */
type ClientFailureCode =
  /** A request to the token server threw: it is down, or the URL is wrong. */
  | 'server_unreachable'
  /** The user closed the sign-in window. */
  | 'cancelled'
  /** The browser could not load Smartcar Connect in the sign-in window. */
  | 'auth_page_unavailable'
  /** The user pressed "Deny" in Connect. */
  | 'access_denied'
  /** Connect found the vehicle but cannot work with it. */
  | 'vehicle_incompatible'
  /** Any other error Connect redirected with (no_vehicles, invalid_subscription, ...). */
  | 'connect_error'
  /** The redirect carried a state the server did not issue for this flow. */
  | 'state_mismatch'
  /** The background stopped while the sign-in window was open, so its answer was lost. */
  | 'interrupted'
  /** Likewise for a lock, unlock, disconnect or sign-out: the server may or may not have done it. */
  | 'operation_interrupted'
  | 'unexpected';

export type FailureCode = ErrorCode | ClientFailureCode;

/** Details Connect shares about an incompatible vehicle, each only if the user allowed it. */
export interface IncompatibleVehicle {
  vin?: string;
  make?: string;
  model?: string;
  year?: string;
}

/** A failure as stored for the popup: plain data, so it survives storage and a service worker restart. */
export interface Failure {
  code: FailureCode;
  /** Extra words from Connect or the server, shown only where no better sentence exists. */
  detail?: string;
  vehicle?: IncompatibleVehicle;
  /** For vehicle_incompatible: the permissions the server marked required in the Connect URL. */
  requiredPermissions?: string[];
  /** For rate limits and the monthly budget: ISO time after which trying again can succeed. */
  retryAt?: string;
}

export class FailureError extends Error {
  constructor(readonly failure: Failure) {
    super(failure.detail ?? failure.code);
    this.name = 'FailureError';
  }
}

/** The server no longer knows the session (signed out elsewhere, or it expired). */
export function isSessionGone({ code }: Failure): boolean {
  return code === 'unauthorized' || code === 'session_expired';
}

/**
 * Failures about the server or the whole account rather than one vehicle: the popup shows them once,
 * in its notice, whichever action met them.
 */
export function isServerWide({ code }: Failure): boolean {
  return (
    code === 'server_unreachable' ||
    code === 'extension_not_allowed' ||
    code === 'session_expired' ||
    code === 'unauthorized' ||
    code === 'rate_limited'
  );
}

export function toFailure(error: unknown): Failure {
  if (error instanceof FailureError) return error.failure;
  return { code: 'unexpected', detail: error instanceof Error ? error.message : String(error) };
}
