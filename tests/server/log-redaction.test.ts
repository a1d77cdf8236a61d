// What the server logs over a whole visit (Connect with a refused code, exchange, a read that fails
// upstream once, a lock, a made-up session): the request lines an operator needs, and no credential.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, RefreshResponse } from '../../protocol/server-api';
import { apiClient } from '../support/api-client';
import { TEST_CLIENT, startStack, type Stack } from '../support/stack';

interface LogLine {
  msg?: string;
  req?: { method?: string; url?: string };
}

describe('the server log', () => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    stack = await startStack();
    api = apiClient(stack.serverUrl);
  });
  afterAll(() => stack.close());

  it('has a line for every request and never a code, state, token, session or Authorization header', async () => {
    // A refused code spends its state: the visit then connects again.
    const spent = await api.authorize();
    const madeUpCode = 'made-up-code-0f1e2d3c4b5a';
    const refused = await api.call<ErrorBody>('POST', '/api/exchange', {
      body: { code: madeUpCode, state: spent.state },
    });
    expect([refused.status, refused.json.error.code]).toEqual([400, 'invalid_code']);
    const { code, state } = await api.authorize();
    const exchange = await api.call<{ session: string }>('POST', '/api/exchange', { body: { code, state } });
    expect(exchange.status).toBe(200);
    const { session } = exchange.json;
    const [vehicle] = (await api.settled(session)).vehicles;
    if (!vehicle) throw new Error('the account has no vehicle');

    stack.emulator.injectFault({
      endpoint: 'batch',
      status: 500,
      type: 'SERVER',
      code: 'INTERNAL',
      times: 1,
    });
    const read = await api.call<RefreshResponse>('POST', '/api/vehicles/refresh', { session });
    expect(read.status).toBe(202);
    await api.settled(session);
    const lock = await api.call('POST', `/api/vehicles/${vehicle.id}/security`, {
      session,
      body: { action: 'LOCK' },
    });
    expect(lock.status).toBe(200);
    const madeUpSession = 'made-up-session-9a8b7c6d5e4f';
    expect((await api.call('GET', '/api/vehicles', { session: madeUpSession })).status).toBe(401);

    const log = stack.logs();
    // By name, so a failure says what leaked without printing it once more.
    const secrets: Record<string, string> = {
      'refused code': spent.code,
      'state of the refused code': spent.state,
      'made-up code': madeUpCode,
      code,
      state,
      session,
      'made-up session': madeUpSession,
      'client secret': TEST_CLIENT.clientSecret,
    };
    const issued = stack.emulator.issuedTokens();
    expect(new Set(issued.map((token) => token.kind))).toEqual(new Set(['access', 'refresh']));
    for (const [index, { kind, token }] of issued.entries()) secrets[`${kind} token ${index}`] = token;
    const leaked = Object.entries(secrets).filter(([, secret]) => log.includes(secret));
    expect(leaked.map(([name]) => name)).toEqual([]);

    const lines = log
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as LogLine);
    const requests = lines
      .filter((line) => line.msg === 'incoming request')
      .map((line) => `${line.req?.method} ${line.req?.url}`);
    expect(requests).toEqual(
      expect.arrayContaining([
        'POST /api/connect',
        'POST /api/exchange',
        'POST /api/vehicles/refresh',
        `POST /api/vehicles/${vehicle.id}/security`,
        'GET /api/vehicles',
      ]),
    );
    // The read that failed upstream is there for the operator, in Smartcar's words.
    expect(lines.some((line) => line.msg === 'Smartcar answered with an error')).toBe(true);
  });
});
