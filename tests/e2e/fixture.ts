// The set-up the extension's e2e files share: the back end once per file, on the port the e2e
// build talks to, and a fresh browser profile per test, so no session or vehicles carry over.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startStack, type Stack } from '../support/stack';
import { launchExtension, type ExtensionBrowser } from './extension';
import { E2E_SERVER_PORT } from './paths';

export interface E2eSetup<Browser = ExtensionBrowser> {
  readonly stack: Stack;
  readonly browser: Browser;
}

/** The extension in Chromium; registers the hooks, and the returned object's fields are set while a test runs. */
export function useExtensionAndBackend(env: Record<string, string> = {}): E2eSetup {
  return useBackendAndBrowser(launchExtension, env);
}

/** The same with any browser `launch` starts with the extension loaded (Chromium, Firefox). */
export function useBackendAndBrowser<Browser extends { close(): Promise<void> }>(
  launch: () => Promise<Browser>,
  env: Record<string, string> = {},
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
