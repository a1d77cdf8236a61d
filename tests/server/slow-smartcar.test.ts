// A hanging Smartcar token endpoint holds up only the requests that need it: the database is not
// tied up meanwhile, and token calls are bounded per process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VehiclesResponse } from '../../protocol/server-api';
import { CONCURRENT_TOKEN_CALLS } from '../../server/vault/token-vault';
import { REDIRECT_URI, apiClient } from '../support/api-client';
import { createTestDatabase } from '../support/postgres';
import { startStack, type Stack } from '../support/stack';

describe('while the token endpoint hangs', () => {
  let stack: Stack;
  let dropDatabase: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase();
    dropDatabase = database.drop;
    stack = await startStack({
      tokenProxy: true,
      // Stored data stays fresh, so a healthy person's list is answerable from storage.
      env: {
        DATABASE_URL: database.url,
        VEHICLE_DATA_MAX_AGE_SECONDS: '86400',
        SMARTCAR_TIMEOUT_MS: '30000',
      },
    });
  });
  afterAll(async () => {
    await stack.close();
    await dropDatabase();
  });

  it('answers /readyz, a new Connect and stored data before the hanging refreshes end', async () => {
    const api = apiClient(stack.serverUrl);
    const healthy = await api.connectVehicles({ choices: { email: 'healthy@example.com' } });
    // More connections needing a refresh than the database pool has connections (10).
    stack.emulator.setTokenLifetimes({ accessTokenTtlSeconds: 60 });
    const waiting = [];
    for (let i = 0; i < 12; i++) {
      waiting.push(
        await api.connectVehicles({ choices: { email: `expiring${i}@example.com`, brand: 'TESLA' } }),
      );
    }
    stack.emulator.setTokenLifetimes({ accessTokenTtlSeconds: 7200 });
    const proxy = stack.tokenProxy;
    if (!proxy) throw new Error('the stack has no token proxy');
    stack.emulator.injectFault({ endpoint: 'token.refresh_token', delayMs: 8_000, times: 12 });
    // Connecting read the vehicles, which already refreshed their short-lived tokens once.
    const answeredBefore = proxy.delivered();
    const requestedBefore = proxy.requested();

    const locks = waiting.map(({ session, vehicles }) =>
      api.call('POST', `/api/vehicles/${vehicles[0]?.id ?? ''}/security`, {
        session,
        body: { action: 'LOCK' },
      }),
    );
    while (proxy.requested() === requestedBefore) await new Promise((resolve) => setTimeout(resolve, 20));

    const finishedBeforeAnyRefresh = async (answer: Promise<{ status: number }>) => {
      const { status } = await answer;
      return { status, refreshesAnswered: proxy.delivered() - answeredBefore };
    };
    const [ready, connect, list] = await Promise.all([
      finishedBeforeAnyRefresh(api.call('GET', '/readyz')),
      finishedBeforeAnyRefresh(api.call('POST', '/api/connect', { body: { redirectUri: REDIRECT_URI } })),
      finishedBeforeAnyRefresh(
        api.call<VehiclesResponse>('GET', '/api/vehicles', { session: healthy.session }),
      ),
    ]);
    expect([ready, connect, list]).toEqual([
      { status: 200, refreshesAnswered: 0 },
      { status: 200, refreshesAnswered: 0 },
      { status: 200, refreshesAnswered: 0 },
    ]);

    const answers = await Promise.all(locks);
    // 200 once Smartcar confirmed the lock, 202 while its confirmation is still to come.
    for (const answer of answers) expect([200, 202]).toContain(answer.status);
    expect(proxy.mostAtOnce()).toBeLessThanOrEqual(CONCURRENT_TOKEN_CALLS);
  }, 120_000);
});
