import type { ConnectResponse } from '@/protocol/server-api';
import type { Failure, IncompatibleVehicle } from './failure';

export type ConnectRedirect =
  { ok: true; code: string; smartcarUserId?: string } | { ok: false; failure: Failure };

const VEHICLE_FIELDS = ['vin', 'make', 'model', 'year'] as const;

/**
 * Reads the URL Smartcar Connect redirected the auth window to: `code` + `state` (+ `user_id`) on success,
 * `error` (+ `error_description`, and vehicle details for `vehicle_incompatible`) otherwise.
 */
export function parseConnectRedirect(
  responseUrl: string | undefined,
  connect: ConnectResponse,
): ConnectRedirect {
  // Some browsers resolve with no URL instead of rejecting when the window goes away.
  if (!responseUrl) return { ok: false, failure: { code: 'cancelled' } };

  const params = new URL(responseUrl).searchParams;
  const state = params.get('state');
  // A state we did not ask for means this redirect belongs to someone else's flow: trust nothing in it.
  if (state !== connect.state) return { ok: false, failure: { code: 'state_mismatch' } };

  const error = params.get('error');
  const description = params.get('error_description') ?? undefined;
  if (error === 'access_denied')
    return { ok: false, failure: { code: 'access_denied', detail: description } };
  if (error === 'vehicle_incompatible') {
    const vehicle: IncompatibleVehicle = {};
    for (const field of VEHICLE_FIELDS) {
      const value = params.get(field);
      if (value) vehicle[field] = value;
    }
    const failure: Failure = { code: 'vehicle_incompatible', detail: description, vehicle };
    const requiredPermissions = requiredScope(connect.url);
    if (requiredPermissions.length > 0) failure.requiredPermissions = requiredPermissions;
    return { ok: false, failure };
  }
  if (error) return { ok: false, failure: { code: 'connect_error', detail: description ?? error } };

  const code = params.get('code');
  if (!code) return { ok: false, failure: { code: 'connect_error', detail: 'Connect returned no code.' } };
  // API v3 applications also get the Smartcar user's id; the server checks it, never trusts it.
  const smartcarUserId = params.get('user_id');
  return smartcarUserId ? { ok: true, code, smartcarUserId } : { ok: true, code };
}

/** The permissions the Connect URL marked `required:`; an incompatible vehicle lacks one of them. */
function requiredScope(connectUrl: string): string[] {
  const scope = new URL(connectUrl).searchParams.get('scope') ?? '';
  return scope
    .split(' ')
    .filter((permission) => permission.startsWith('required:'))
    .map((permission) => permission.slice('required:'.length));
}
