// @vitest-environment node
// The background against the real server and the emulator (tests/support/stack.ts): the contract
// between the extension and the server, checked without a browser. The auth window is the
// emulator's Connect pages, driven as a person would.
import background from '@/entrypoints/background';
import { completeConnect } from '@/emulator/connect-driver';
import { DEV_EXTENSION_ID, chromeRedirectUrl } from '@/protocol/extension-identity';
import type { BackgroundMessage } from '@/utils/messaging';
import { connectFlowItem, serverUrlItem, sessionItem, vehiclesItem } from '@/utils/storage';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { apiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';
import { useMessages } from './messages';

let stack: Stack;

/** The embedded database takes a while to start on a busy machine. */
const STACK_TIMEOUT_MS = 90_000;

beforeAll(async () => {
  stack = await startStack();
}, STACK_TIMEOUT_MS);
afterAll(() => stack.close());

beforeEach(async () => {
  fakeBrowser.reset();
  useMessages();
  await serverUrlItem.setValue(stack.serverUrl);
  vi.spyOn(fakeBrowser.identity, 'getRedirectURL').mockReturnValue(chromeRedirectUrl(DEV_EXTENSION_ID));
  vi.spyOn(fakeBrowser.identity, 'launchWebAuthFlow').mockImplementation(async ({ url }) =>
    (await completeConnect(url, { brand: 'FORD' })).toString(),
  );
  background.main();
});

async function send(message: BackgroundMessage): Promise<void> {
  await fakeBrowser.runtime.sendMessage(message);
}

/** The stored vehicles once the server has read every one. */
async function readVehicles() {
  return vi.waitFor(
    async () => {
      const vehicles = await vehiclesItem.getValue();
      expect(vehicles.length).toBeGreaterThan(0);
      expect(vehicles.filter((vehicle) => vehicle.fetchedAt === null)).toEqual([]);
      return vehicles;
    },
    { timeout: 20_000, interval: 100 },
  );
}

describe('the background on the real server', () => {
  it(
    'connects, reads, locks and signs out',
    async () => {
      await send({ type: 'connect' });
      expect(await connectFlowItem.getValue()).toEqual({ status: 'idle' });
      const session = await sessionItem.getValue();
      expect(session?.server).toBe(stack.serverUrl);
      const vehicles = await readVehicles();
      expect(vehicles.map((vehicle) => vehicle.make)).toEqual(vehicles.map(() => 'FORD'));

      const lockable = vehicles.find((vehicle) => vehicle.permissions.includes('control_security'));
      if (!lockable) throw new Error('no vehicle the background may lock');
      const action = lockable.data.security?.isLocked ? 'UNLOCK' : 'LOCK';
      await send({ type: 'setLock', vehicleId: lockable.id, action });
      const after = (await vehiclesItem.getValue()).find((vehicle) => vehicle.id === lockable.id);
      expect(after?.data.security?.isLocked).toBe(action === 'LOCK');

      await send({ type: 'signOut' });
      expect(await sessionItem.getValue()).toBeNull();
      expect(await vehiclesItem.getValue()).toEqual([]);
      // The server ended the session too.
      const list = await apiClient(stack.serverUrl).call('GET', '/api/vehicles', { session: session?.token });
      expect(list.status).toBe(401);
    },
    STACK_TIMEOUT_MS,
  );
});
