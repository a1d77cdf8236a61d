// The set-up the extension's e2e files share: the back end once per file, on the port the e2e
// build talks to, and a fresh browser profile per test, so no session or vehicles carry over.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { LatencySettings } from '../../emulator';
import { startStack, type Stack } from '../support/stack';
import { launchExtension, type ExtensionBrowser } from './extension';
import { E2E_SERVER_PORT } from './paths';

export interface E2eSetup<Browser = ExtensionBrowser> {
  readonly stack: Stack;
  readonly browser: Browser;
}

export interface E2eOptions {
  /** Extra server environment, e.g. VEHICLE_DATA_MAX_AGE_SECONDS. */
  env?: Record<string, string>;
  /** The emulator's latency at the start of every test; a test may change it for itself. */
  latency?: Partial<LatencySettings>;
}

/**
 * Smartcar's own shape of latency (3–45 s per vehicle call, a long tail), a hundred times faster:
 * the popup's waiting states and the background's polling run for real in every main flow.
 */
const REALISTIC_LATENCY: Partial<LatencySettings> = {
  profile: 'realistic',
  scale: 0.01,
  vehicleLatencyMs: null,
};

/** The extension in Chromium; registers the hooks, and the returned object's fields are set while a test runs. */
export function useExtensionAndBackend(options: E2eOptions = {}): E2eSetup {
  return useBackendAndBrowser(launchExtension, options);
}

/** The same with any browser `launch` starts with the extension loaded (Chromium, Firefox). */
export function useBackendAndBrowser<Browser extends { close(): Promise<void> }>(
  launch: () => Promise<Browser>,
  { env = {}, latency = REALISTIC_LATENCY }: E2eOptions = {},
): E2eSetup<Browser> {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  beforeAll(async () => {
    stack = await startStack({ serverPort: E2E_SERVER_PORT, env });
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(async () => {
    if (stack === undefined) throw new Error('The e2e back end did not start.');
    // A file connects far more often than a person; no test here is about Smartcar's limits, and
    // each test starts with a fresh bucket, allowance and the file's latency.
    stack.emulator.setLimits({
      appBucketSize: null,
      vehicleRequestsPerWindow: null,
      monthlyRequestsPerVehicle: null,
    });
    stack.emulator.resetUsage();
    stack.emulator.setLatency({ seed: 1, ...latency });
    browser = await launch();
  });
  afterEach(async () => {
    await browser?.close();
  });
  const ready = <T>(value: T | undefined, name: string): T => {
    if (value === undefined) throw new Error(`The e2e ${name} is used outside a test.`);
    return value;
  };
  return {
    get stack() {
      return ready(stack, 'back end');
    },
    get browser() {
      return ready(browser, 'browser');
    },
  };
}
