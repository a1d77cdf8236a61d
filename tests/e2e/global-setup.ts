// Builds the extension once for every e2e test, pointed at the port the tests run the server on.
import { execFileSync } from 'node:child_process';
import { E2E_OUT_DIR, E2E_SERVER_URL, findChromium } from './paths';

export default function setup(): void {
  // Fail before building: a missing browser must be a loud failure, never a skipped suite.
  findChromium();
  execFileSync('npx', ['wxt', 'build'], {
    env: { ...process.env, WXT_SERVER_URL: E2E_SERVER_URL, WXT_OUT_DIR: E2E_OUT_DIR },
    stdio: ['ignore', 'ignore', 'inherit'],
    timeout: 120_000,
  });
}
