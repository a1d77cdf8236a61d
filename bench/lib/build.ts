// The two extension builds the benchmarks use: production (sizes) and e2e (server URL baked in).
import { execFileSync } from 'node:child_process';
import buildE2eExtension from '../../tests/e2e/global-setup';

export const PRODUCTION_DIR = '.output/chrome-mv3';

export function buildProduction(): void {
  const env = { ...process.env };
  // The production build: default output folder and the default server URL.
  delete env.WXT_OUT_DIR;
  delete env.WXT_SERVER_URL;
  execFileSync('npx', ['wxt', 'build'], { env, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 });
}

export { buildE2eExtension };
