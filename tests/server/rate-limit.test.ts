import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../protocol/api';
import { REDIRECT_URI, apiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';

describe('rate limits', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    stack = await startStack({ env: { RATE_LIMIT_PER_MINUTE: '3' } });
    api = apiClient(stack.serverUrl);
  });
  afterAll(() => stack.close());

  it('answers 429 with retry-after once an address starts Connect too often', async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof api.call<ErrorBody>>> | undefined;
    for (let i = 0; i < 5; i++) {
      last = await api.call<ErrorBody>('POST', '/api/connect', { body: { redirectUri: REDIRECT_URI } });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(last?.json.error.code).toBe('rate_limited');
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('counts each route on its own', async () => {
    const exchange = await api.call<ErrorBody>('POST', '/api/exchange', { body: { code: 'c', state: 's' } });
    expect(exchange.status).toBe(400);
    expect(exchange.json.error.code).toBe('invalid_state');
  });
});
