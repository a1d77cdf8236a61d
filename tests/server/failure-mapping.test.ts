// Which answer each Smartcar failure becomes, from the errors the official SDK throws.
import smartcar from 'smartcar';
import { describe, expect, it } from 'vitest';
import { toApiError } from '../../server/smartcar/gateway';

const sdkError = (status: number, headers: Record<string, string> = {}) =>
  new smartcar.SmartcarError(status, { type: 'SERVER', description: 'upstream detail' }, headers);

const answer = (error: unknown) => {
  const { statusCode, code, message, retryAfter } = toApiError(error);
  return { statusCode, code, message, retryAfter };
};

describe('toApiError', () => {
  it('turns a failure to reach Smartcar into upstream_unavailable', () => {
    expect(answer(new TypeError('fetch failed'))).toEqual({
      statusCode: 503,
      code: 'upstream_unavailable',
      message: 'Smartcar is not answering right now. Try again in a moment.',
      retryAfter: undefined,
    });
  });

  it("passes Smartcar's 429 on with its retry-after in seconds", () => {
    expect(answer(sdkError(429, { 'retry-after': '30' }))).toEqual({
      statusCode: 429,
      code: 'rate_limited',
      message: 'Smartcar asked this server to slow down. Try again later.',
      retryAfter: 30,
    });
  });

  // Smartcar's limits, told apart by type and code (https://smartcar.com/docs/help/api-limits).
  it.each([
    [
      430,
      'BILLING',
      'VEHICLE_REQUEST_LIMIT',
      'request_budget_spent',
      "This vehicle has used this month's Smartcar requests.",
    ],
    [
      402,
      'BILLING',
      'INVALID_PLAN',
      'request_budget_spent',
      "This vehicle has used this month's Smartcar requests.",
    ],
    [
      429,
      'UPSTREAM',
      'RATE_LIMIT',
      'rate_limited',
      'The car maker limits how often this vehicle can be asked. Try again later.',
    ],
    [429, 'RATE_LIMIT', 'VEHICLE', 'rate_limited', 'This vehicle was asked too often. Try again later.'],
    [
      429,
      'RATE_LIMIT',
      'SMARTCAR_API',
      'rate_limited',
      'Smartcar asked this server to slow down. Try again later.',
    ],
    [
      500,
      'UPSTREAM',
      'UNKNOWN_ISSUE',
      'upstream_unavailable',
      'Smartcar is not answering right now. Try again in a moment.',
    ],
  ] as const)('turns a %i %s:%s into %s', (status, type, code, answerCode, message) => {
    const error = new smartcar.SmartcarError(status, { type, code, description: 'upstream detail' }, {});
    expect(answer(error)).toMatchObject({ code: answerCode, message });
  });

  it('answers a 429 without a usable retry-after with no retry-after', () => {
    expect(answer(sdkError(429)).retryAfter).toBeUndefined();
    expect(answer(sdkError(429, { 'retry-after': 'soon' })).retryAfter).toBeUndefined();
  });

  it("turns a 401 (Smartcar refused this server's credentials) into upstream_error for the operator", () => {
    expect(answer(sdkError(401))).toEqual({
      statusCode: 502,
      code: 'upstream_error',
      message: 'Smartcar refused this server. Its operator must check its credentials.',
      retryAfter: undefined,
    });
  });

  it('turns a 403 into reconnect_required', () => {
    expect(answer(sdkError(403))).toEqual({
      statusCode: 409,
      code: 'reconnect_required',
      message: 'Smartcar access has ended for this vehicle. Connect it again.',
      retryAfter: undefined,
    });
  });

  it.each([408, 500, 502, 503, 504])('turns a %i into upstream_unavailable', (status) => {
    expect(answer(sdkError(status))).toEqual({
      statusCode: 503,
      code: 'upstream_unavailable',
      message: 'Smartcar is not answering right now. Try again in a moment.',
      retryAfter: undefined,
    });
  });

  it.each([400, 404, 409, 499])('turns any other status, here %i, into upstream_error', (status) => {
    expect(answer(sdkError(status))).toEqual({
      statusCode: 502,
      code: 'upstream_error',
      message: 'Smartcar could not complete this request.',
      retryAfter: undefined,
    });
  });
});
