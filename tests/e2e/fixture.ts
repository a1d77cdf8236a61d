// The set-up the extension's e2e files share: the back end once per file, on the port the e2e
// build talks to, and a fresh browser profile per test, so no session or vehicles carry over.
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startStack, type Stack } from '../support/stack';
import { launchExtension, type ExtensionBrowser } from './extension';
import { E2E_SERVER_PORT } from './paths';

export interface E2eSetup {
  readonly stack: Stack;
  readonly browser: ExtensionBrowser;
}

/** Registers the hooks; the returned object's fields are set while a test runs. */
export function useExtensionAndBackend(env: Record<string, string> = {}): E2eSetup {
  let stack: Stack | undefined;
  let browser: ExtensionBrowser | undefined;
  beforeAll(async () => {
    stack = await startStack({ serverPort: E2E_SERVER_PORT, env });
  });
  afterAll(async () => {
    await stack?.close();
  });
  beforeEach(async () => {
    browser = await launchExtension();
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
