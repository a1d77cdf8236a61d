// Runs a step against a server configured differently, on the port the e2e build talks to.
import { startStack, type Stack } from '../support/stack';
import type { ExtensionBrowser } from './extension';
import { E2E_SERVER_PORT } from './paths';

/**
 * Puts a server with `env` in place of the stack's for `step`, then brings the stack's back. The
 * browser is closed first: its keep-alive connections would otherwise hold the other server open.
 */
export async function withOtherServer(
  stack: Stack,
  browser: ExtensionBrowser,
  env: Record<string, string>,
  step: () => Promise<void>,
): Promise<void> {
  await stack.stopServer();
  const other = await startStack({ serverPort: E2E_SERVER_PORT, env });
  try {
    await step();
  } finally {
    await browser.close();
    await other.close();
    await stack.startServer();
  }
}
