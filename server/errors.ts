// One error type for everything the API answers with a failure: a status, a stable code the
// extension turns into words, and a message safe to show (never a token or upstream detail).
import type { ErrorCode } from '../protocol/server-api';

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

export const badRequest = (message: string) => new ApiError(400, 'bad_request', message);
export const unauthorized = () =>
  new ApiError(401, 'unauthorized', 'Sign in again: this session is unknown or was signed out.');
export const notFound = (what: string) => new ApiError(404, 'not_found', `${what} was not found.`);
