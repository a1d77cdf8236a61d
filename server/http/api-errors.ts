// Every failure the API answers is made here: a status, a stable code the extension turns into
// words, and a message safe to show (never a token or upstream detail). The extension keys off the
// code; the message is for people reading the answer, so each code has one wording.
import type { ErrorBody, ErrorCode } from '../../protocol/server-api';
import { startOfNextMonth } from '../lib/clock';

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    /** Seconds, for 429 and 503 answers. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The answer's body; `retryAt` tells the extension when trying again can succeed. */
export function errorBody({ code, message, retryAfter }: ApiError, now: Date): ErrorBody {
  const retryAt = retryAfter ? new Date(now.getTime() + retryAfter * 1000).toISOString() : undefined;
  return { error: { code, message, ...(retryAt ? { retryAt } : {}) } };
}

export const badRequest = (message: string) => new ApiError(400, 'bad_request', message);

export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} was not found.`);

export const noSuchEndpoint = (method: string, url: string) =>
  new ApiError(404, 'not_found', `No such endpoint: ${method} ${url.slice(0, 100)}.`);

export const unauthorized = () =>
  new ApiError(401, 'unauthorized', 'Sign in again: this session is unknown or was signed out.');

export const sessionExpired = () =>
  new ApiError(
    401,
    'session_expired',
    'This sign-in has ended after a long time. Connect your vehicle again.',
  );

export const extensionNotAllowed = () =>
  new ApiError(403, 'extension_not_allowed', 'Only the car-connect extension may call this server.');

export const redirectUriNotAllowed = () =>
  new ApiError(
    400,
    'redirect_uri_not_allowed',
    'This extension is not allowed to connect through this server. Check EXTENSION_IDS on the server.',
  );

/** A Connect state (`invalid_state`) or code (`invalid_code`) that is unknown, spent or too old. */
export const signInExpired = (code: 'invalid_state' | 'invalid_code') =>
  new ApiError(400, code, 'This sign-in has expired or was already used. Connect again.');

/** Locking needs `control_security`; while the permissions are unread, nobody knows yet. */
export const lockNotPermitted = (permissionsKnown: boolean) =>
  new ApiError(
    403,
    'not_permitted',
    permissionsKnown
      ? 'Locking was not allowed for this vehicle. Connect it again to allow it.'
      : "This vehicle's permissions are still being read. Try again in a moment.",
  );

/** This server's own limit on requests per address and session. */
export const tooManyAttempts = (retryAfterSeconds: number) =>
  new ApiError(429, 'rate_limited', 'Too many attempts. Wait a minute, then try again.', retryAfterSeconds);

export const reconnectRequired = () =>
  new ApiError(409, 'reconnect_required', 'Smartcar access has ended for this vehicle. Connect it again.');

export const upstreamUnavailable = () =>
  new ApiError(503, 'upstream_unavailable', 'Smartcar is not answering right now. Try again in a moment.');

/** A wait Smartcar's limits or the month's request budget put on asking again. */
export interface Hold {
  until: Date;
  code: ErrorCode;
  message: string;
}

/** What the person is told while a hold lasts: a 429 with when to try again. */
export function holdError(hold: Hold, now: Date): ApiError {
  const seconds = Math.max(1, Math.ceil((hold.until.getTime() - now.getTime()) / 1000));
  return new ApiError(429, hold.code, hold.message, seconds);
}

/** The vehicle used this month's budget; the count starts again next month. */
export const budgetSpent = (now: Date) =>
  holdError(
    {
      until: startOfNextMonth(now),
      code: 'request_budget_spent',
      message: "This vehicle has used this month's Smartcar requests. It can be read again next month.",
    },
    now,
  );

export const databaseUnreachable = () => new ApiError(503, 'internal', 'The database is not reachable.');

export const internalError = () =>
  new ApiError(500, 'internal', 'Something went wrong on the server. Try again.');

/** Smartcar's own words about a failure, for the log and for deciding what to do next. */
export interface UpstreamDetail {
  /** Undefined when Smartcar could not be reached at all. */
  status?: number;
  type?: string;
  code?: string;
  requestId?: string;
  retryAfterSeconds?: number;
}

/** A failed Smartcar call: what the person is told, plus what Smartcar said. */
export class UpstreamError extends ApiError {
  constructor(
    statusCode: number,
    code: ErrorCode,
    message: string,
    readonly upstream: UpstreamDetail,
  ) {
    super(statusCode, code, message, upstream.retryAfterSeconds);
    this.name = 'UpstreamError';
  }

  /** A dropped connection, a timeout or a server error: worth another try later. */
  get transient(): boolean {
    const { status } = this.upstream;
    return status === undefined || status === 408 || (status >= 500 && status !== 501);
  }

  /** Smartcar's rate limits and allowance, which retries only make worse; undefined for anything else. */
  get limit(): 'application' | 'vehicle' | 'automaker' | 'billing' | undefined {
    const { status, type, code } = this.upstream;
    if (status === 430 || type === 'BILLING') return 'billing';
    if (type === 'UPSTREAM' && code === 'RATE_LIMIT') return 'automaker';
    if (status !== 429) return undefined;
    return type === 'RATE_LIMIT' && code === 'VEHICLE' ? 'vehicle' : 'application';
  }

  /** The vehicle cannot give this figure at all (an electric car has no fuel tank). */
  get incapable(): boolean {
    return this.upstream.type === 'COMPATIBILITY' || this.upstream.status === 501;
  }
}

/** Smartcar's failures in words a driver understands; the detail stays in the logs. */
export function upstreamError(detail: UpstreamDetail): UpstreamError {
  const { status, type, code } = detail;
  const answer = (statusCode: number, errorCode: ErrorCode, message: string) =>
    new UpstreamError(statusCode, errorCode, message, detail);
  const relay = (error: ApiError) => answer(error.statusCode, error.code, error.message);
  if (status === undefined) return relay(upstreamUnavailable());
  if (status === 430 || type === 'BILLING') {
    return answer(429, 'request_budget_spent', "This vehicle has used this month's Smartcar requests.");
  }
  if (type === 'UPSTREAM' && code === 'RATE_LIMIT') {
    return answer(
      429,
      'rate_limited',
      'The car maker limits how often this vehicle can be asked. Try again later.',
    );
  }
  if (status === 429) {
    return type === 'RATE_LIMIT' && code === 'VEHICLE'
      ? answer(429, 'rate_limited', 'This vehicle was asked too often. Try again later.')
      : answer(429, 'rate_limited', 'Smartcar asked this server to slow down. Try again later.');
  }
  if (status === 401) {
    // From the token endpoint: Smartcar does not accept this server's client ID and secret.
    return answer(
      502,
      'upstream_error',
      'Smartcar refused this server. Its operator must check its credentials.',
    );
  }
  if (status === 403) return relay(reconnectRequired());
  if (status === 408 || status >= 500) return relay(upstreamUnavailable());
  return answer(502, 'upstream_error', 'Smartcar could not complete this request.');
}
