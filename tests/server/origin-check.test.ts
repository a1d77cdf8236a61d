// Which browser origins the API answers, over real HTTP: the configured Chrome extension IDs
// exactly, any Firefox extension, and requests without an Origin (not from a browser page).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../protocol/server-api';
import { apiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';

const ALLOWED_ID = 'abcdefghijklmnopabcdefghijklmnop';
const OTHER_ID = 'ponmlkjihgfedcbaponmlkjihgfedcba';

describe('the origin check', () => {
  let stack: Stack;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    stack = await startStack({
      env: { DATABASE_URL: database.url, EXTENSION_IDS: `${ALLOWED_ID},car-connect@example.dev` },
    });
  });

  afterAll(async () => {
    await stack.close();
    await database.drop();
  });

  const get = (origin: string | undefined) =>
    apiClient(stack.serverUrl).call<ErrorBody>('GET', '/healthz', { headers: origin ? { origin } : {} });

  // The client always sends the extension's origin unless told otherwise; plain fetch sends none.
  const withoutOrigin = async () => {
    const response = await fetch(`${stack.serverUrl}/healthz`);
    return { status: response.status, headers: response.headers };
  };

  it('answers a configured Chrome extension and grants it CORS for its origin only', async () => {
    const answer = await get(`chrome-extension://${ALLOWED_ID}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(`chrome-extension://${ALLOWED_ID}`);
    expect(answer.headers.get('vary')).toBe('Origin');
  });

  it('answers any Firefox extension, whose origin is a per-install UUID', async () => {
    const origin = 'moz-extension://3f1c2a9e-1b7d-4c55-9a0e-2d7c1e6b8f00';
    const answer = await get(origin);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(origin);
  });

  it.each([
    ['another Chrome extension', `chrome-extension://${OTHER_ID}`],
    ['a configured ID with something after it', `chrome-extension://${ALLOWED_ID}.example`],
    ['a configured ID under another scheme', `https://${ALLOWED_ID}`],
    ['the configured Firefox add-on ID as a Chrome origin', 'chrome-extension://car-connect@example.dev-x'],
    ['a web page', 'https://example.com'],
    ['a web page naming the Firefox scheme later on', 'https://example.com/moz-extension://x'],
    ['the opaque origin of a sandboxed page', 'null'],
  ])('refuses %s with a 403 and no CORS grant', async (_name, origin) => {
    const answer = await get(origin);
    expect(answer.status).toBe(403);
    expect(answer.json.error).toEqual({
      code: 'extension_not_allowed',
      message: 'Only the car-connect extension may call this server.',
    });
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a request without an Origin, and grants no CORS to it', async () => {
    const answer = await withoutOrigin();
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("answers the extension's preflight with the methods, headers and cache time it may use", async () => {
    const answer = await apiClient(stack.serverUrl).call('OPTIONS', '/api/connect', {
      headers: { origin: `chrome-extension://${ALLOWED_ID}` },
    });
    expect(answer.status).toBe(204);
    expect(answer.headers.get('access-control-allow-origin')).toBe(`chrome-extension://${ALLOWED_ID}`);
    expect(answer.headers.get('access-control-allow-methods')).toBe('GET, POST, DELETE');
    expect(answer.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(answer.headers.get('access-control-max-age')).toBe('600');
  });

  it('answers a GET from the extension with the endpoint, not the preflight', async () => {
    const answer = await get(`chrome-extension://${ALLOWED_ID}`);
    expect(answer.json).toEqual({ ok: true });
    expect(answer.headers.get('access-control-allow-methods')).toBeNull();
  });
});
