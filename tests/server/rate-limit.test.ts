import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../protocol/server-api';
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

  it('adds no counter per Authorization header once the address is over its limit', async () => {
    for (let i = 0; i < 20; i++) {
      const answer = await api.call('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI },
        headers: { authorization: `Bearer made-up-${i}` },
      });
      expect(answer.status).toBe(429);
    }
    const texts = await readdirText(stack.dataDir);
    expect(texts.match(/session [A-Za-z0-9_-]{43}/g) ?? []).toHaveLength(0);
  });
});

/** The embedded database's files as text, to look for counter keys. */
async function readdirText(dir: string): Promise<string> {
  const { readdir, readFile } = await import('node:fs/promises');
  const path = await import('node:path');
  const files = await readdir(dir, { recursive: true, withFileTypes: true });
  const contents = await Promise.all(
    files
      .filter((file) => file.isFile())
      .map((file) => readFile(path.join(file.parentPath, file.name), 'latin1')),
  );
  return contents.join('\n');
}
