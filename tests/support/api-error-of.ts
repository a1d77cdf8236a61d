import { expect } from 'vitest';
import { ApiError } from '../../server/http/api-errors';

/** The API error a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function apiErrorOf(promise: Promise<unknown>): Promise<ApiError> {
  const error: unknown = await promise.then(
    () => new Error('resolved'),
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ApiError);
  return error as ApiError;
}
