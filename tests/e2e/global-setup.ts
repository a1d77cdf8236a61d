// Builds the extension once for every e2e test, for Chromium and Firefox, pointed at the port the
// tests run the server on.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { findFirefox } from './firefox/paths';
import { E2E_OUT_DIR_VARIABLE, E2E_SERVER_URL, findChromium } from './paths';

/**
 * Builds into a fresh folder of its own, so a run cannot lose its extension to another run (tests,
 * benchmarks) rebuilding at the same time; the test workers find it through the environment.
 * Returns the teardown that removes it.
 */
export default function setup(): () => void {
  // Fail before building: a missing browser must be a loud failure, never a skipped suite.
  findChromium();
  findFirefox();
  const outDir = mkdtempSync(path.join(tmpdir(), 'car-connect-e2e-build-'));
  // One after the other: both builds write WXT's generated types in the project.
  for (const browser of ['chrome', 'firefox']) {
    // Each build goes to its own subfolder: chrome-mv3, firefox-mv3.
    execFileSync('npx', ['wxt', 'build', '-b', browser], {
      env: { ...process.env, WXT_SERVER_URL: E2E_SERVER_URL, WXT_OUT_DIR: outDir },
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 120_000,
    });
  }
  process.env[E2E_OUT_DIR_VARIABLE] = outDir;
  return () => {
    rmSync(outDir, { recursive: true, force: true });
  };
}
