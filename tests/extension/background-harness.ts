// The background on the real server and the emulator (tests/support/stack.ts): one stack per test
// file, a fresh fakeBrowser and a fresh Smartcar account (so a fresh user) per test. The auth window
// is the emulator's Connect pages, driven over HTTP as a person would click through them.
import background from '@/entrypoints/background';
import { completeConnect, type ConnectChoices } from '@/emulator/connect-driver';
import type { Vehicle } from '@/protocol/server-api';
import type { BackgroundMessage } from '@/utils/messaging';
import {
  pendingConnectionsItem,
  serverUrlItem,
  sessionItem,
  vehiclesItem,
  watchUntilItem,
  type Session,
} from '@/utils/storage';
import { afterAll, afterEach, beforeAll, beforeEach, expect, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { EXTENSION_ORIGIN, REDIRECT_URI, apiClient, type ApiClient } from '../support/api-client';
import { startStack, type Stack, type StackOptions } from '../support/stack';
import { useMessages } from './messages';

/** The embedded database takes a while to start on a busy machine. */
const STACK_TIMEOUT_MS = 90_000;

/** Long enough for the server to read a few vehicles from the instant emulator on a busy machine. */
export const SETTLE_TIMEOUT_MS = 20_000;

/** A request the background sent to the server, as it left the extension. */
interface SentRequest {
  method: string;
  /** Path and query. */
  path: string;
  authorization: string | null;
  body: unknown;
  /** The server's answer, once it came. */
  answer?: { status: number; body: unknown };
}

type AuthWindow = (details: { url: string; interactive?: boolean }) => Promise<string>;

export interface BackgroundOnStack {
  stack: Stack;
  api: ApiClient;
  /** What the background sent the server in this test, in order. */
  sent: SentRequest[];
  /** `browser.identity.launchWebAuthFlow`: approves in Connect with this test's account by default. */
  authWindow: ReturnType<typeof vi.fn<AuthWindow>>;
  /** This test's Smartcar login: a new one per test, so every test starts as a new user. */
  email: string;
  /** Sends the background's requests with another extension's Origin from now on. */
  sendAs(origin: string): void;
}

let accounts = 0;

/** As the popup sends it: resolves when the promise the background's listener returned settles. */
export async function send(message: BackgroundMessage): Promise<void> {
  await fakeBrowser.runtime.sendMessage(message);
}

/** Walks Connect from the URL the background opened and answers the redirect back, as the browser does. */
export async function inConnect(url: string, choices: ConnectChoices): Promise<string> {
  return (await completeConnect(url, choices)).toString();
}

/**
 * Sends the background's requests to the server with the extension's Origin, as the browser does,
 * and records them; the answered function switches to another extension's Origin. The test's own
 * `api` calls name their Origin themselves, which is how they are told apart and left out of `sent`.
 */
function recordRequests(serverUrl: string, sent: SentRequest[]): (origin: string) => void {
  let extensionOrigin = EXTENSION_ORIGIN;
  const realFetch = globalThis.fetch;
  vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = new Headers(init?.headers);
    if (url.origin !== new URL(serverUrl).origin || headers.has('origin')) return realFetch(input, init);
    headers.set('origin', extensionOrigin);
    const request: SentRequest = {
      method: init?.method ?? 'GET',
      path: url.pathname + url.search,
      authorization: headers.get('authorization'),
      body: typeof init?.body === 'string' ? JSON.parse(init.body) : undefined,
    };
    sent.push(request);
    const response = await realFetch(input, { ...init, headers });
    request.answer = {
      status: response.status,
      body: await response
        .clone()
        .json()
        .catch(() => undefined),
    };
    return response;
  });
  return (origin) => (extensionOrigin = origin);
}

/**
 * A test waits on a real server and database, which a machine busy with other test files can slow
 * well past the extension project's default; waits inside a test stay below this.
 */
const TEST_TIMEOUT_MS = 30_000;

/** Registers the stack and the per-test setup; the answer's fields are this test's. */
export function useBackgroundOnStack(options: StackOptions = {}) {
  const current = {} as BackgroundOnStack;
  vi.setConfig({ testTimeout: TEST_TIMEOUT_MS });

  beforeAll(async () => {
    current.stack = await startStack(options);
    current.api = apiClient(current.stack.serverUrl);
  }, STACK_TIMEOUT_MS);
  afterAll(() => current.stack.close(), STACK_TIMEOUT_MS);

  beforeEach(async () => {
    fakeBrowser.reset();
    useMessages();
    await serverUrlItem.setValue(current.stack.serverUrl);
    current.email = `driver${++accounts}@example.com`;
    current.sent = [];
    current.sendAs = recordRequests(current.stack.serverUrl, current.sent);
    vi.spyOn(fakeBrowser.identity, 'getRedirectURL').mockReturnValue(REDIRECT_URI);
    current.authWindow = vi.fn<AuthWindow>(({ url }) => inConnect(url, { email: current.email }));
    vi.spyOn(fakeBrowser.identity, 'launchWebAuthFlow').mockImplementation(current.authWindow);
    background.main();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    current.stack.emulator.clearFaults();
  });

  return current;
}

/** What the background sent the server in this test, as `METHOD /path?query`. */
export function sentPaths(bg: BackgroundOnStack): string[] {
  return bg.sent.map(({ method, path }) => `${method} ${path}`);
}

/** The server's list for a session, once it has read every vehicle. */
export async function serverVehicles(api: ApiClient, session: Session, query = ''): Promise<Vehicle[]> {
  return (await api.settled(session.token, query)).vehicles;
}

/** A vehicle without `nextReadAt`, which the server works out from the time of each answer. */
export function unpaced(vehicle: Vehicle): Vehicle {
  return { ...vehicle, nextReadAt: null };
}

/** The two vehicles every test account has (the emulator's Teslas), named. */
export function carAndOther(vehicles: Vehicle[]): { car: Vehicle; other: Vehicle } {
  const [car, other] = vehicles;
  if (!car || !other) throw new Error(`expected two vehicles, got ${vehicles.length}`);
  return { car, other };
}

/**
 * Connects this test's account through the background, as a person would, and waits until the
 * server has read every vehicle and the background stopped watching; `sent` starts afresh after.
 */
export async function connected(bg: BackgroundOnStack) {
  await send({ type: 'connect' });
  const session = await sessionItem.getValue();
  if (!session) throw new Error('the connect flow stored no session');
  const vehicles = await vi.waitFor(
    async () => {
      expect(await watchUntilItem.getValue()).toBeNull();
      expect(await pendingConnectionsItem.getValue()).toBe(0);
      return vehiclesItem.getValue();
    },
    { timeout: SETTLE_TIMEOUT_MS, interval: 50 },
  );
  bg.sent.length = 0;
  return { session, vehicles, ...carAndOther(vehicles) };
}
