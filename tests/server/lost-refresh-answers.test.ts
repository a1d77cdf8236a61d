// A refresh whose answer is lost is retried inside the minute Smartcar keeps the used refresh
// token valid, so the grant survives. Each database gets a back end of its own: connections of
// other tests retrying in the background would share the proxy's lost answers and the count.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { apiClient, freshAccounts, tokenRefreshes, type ApiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';
import { expectEvery } from '../support/expect-every';

describe.each(['embedded', 'postgresql'] as const)('lost refresh answers on the %s database', (database) => {
  let stack: Stack;
  let api: ApiClient;
  let connect: ReturnType<typeof freshAccounts>;

  beforeAll(async () => {
    const env: Record<string, string> = { SMARTCAR_TIMEOUT_MS: '500', MAINTENANCE_INTERVAL_SECONDS: '1' };
    stack = await startStack({ database, env, tokenProxy: true });
    api = apiClient(stack.serverUrl);
    connect = freshAccounts(api, stack.emulator);
  });

  afterAll(async () => {
    await stack.close();
  });

  const refreshes = () => tokenRefreshes(stack.emulator);

  // Smartcar keeps a used refresh token valid for a minute; six lost answers in a row used to push
  // the doubling back-off past that minute and lose the grant.
  it.each([
    ['after Smartcar rotated the pair', 6],
    ['before Smartcar saw the request', 3],
  ] as const)(
    'keeps the grant when %s and %i refresh answers in a row are lost',
    async (when, lost) => {
      const { session, vehicles } = await connect({ expiring: true });
      const proxy = stack.tokenProxy;
      if (!proxy) throw new Error('the stack has no token proxy');
      const delivered = proxy.delivered();
      if (when.startsWith('after')) proxy.dropAnswers(lost);
      else stack.emulator.injectFault({ endpoint: 'token.refresh_token', drop: true, times: lost });

      // The popup is opened now and then meanwhile; the server must get a new pair in time.
      await vi.waitFor(
        async () => {
          // A refresh answer of this connection got through (other connections' do not count).
          const list = await api.readNow(session);
          expectEvery(list.vehicles, (v) => v.lastFailure === null);
          expect(refreshes()).toBeGreaterThan(lost);
          expect(proxy.delivered()).toBeGreaterThan(delivered);
        },
        { timeout: 50_000, interval: 1_000 },
      );
      expect(refreshes()).toBe(lost + 1);
      const after = await api.readNow(session);
      expect(after.vehicles.map((v) => [v.status, v.lastFailure])).toEqual(
        vehicles.map(() => ['connected', null]),
      );
    },
    60_000,
  );
});
