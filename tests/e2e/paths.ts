// Where the e2e build goes and what it talks to; shared by the global setup and the fixture.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The server port baked into the e2e build; the tests start the server on it. */
export const E2E_SERVER_PORT = 18787;
export const E2E_SERVER_URL = `http://127.0.0.1:${E2E_SERVER_PORT}`;
/** Set by the global setup to the folder it built the extension into. */
export const E2E_OUT_DIR_VARIABLE = 'CAR_CONNECT_E2E_OUT_DIR';

/** The unpacked extension the global setup built for one browser. */
export function extensionDir(build: 'chrome-mv3' | 'firefox-mv3' = 'chrome-mv3'): string {
  const outDir = process.env[E2E_OUT_DIR_VARIABLE];
  if (!outDir) throw new Error('The e2e extension is not built: run tests/e2e/global-setup.ts first.');
  return path.join(outDir, build);
}
export const SCREENSHOT_DIR = path.resolve('docs/screenshots');

/** Flags that let headless Chromium run here: as root, with no GPU, and no calls home on a closed network. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium to drive: CHROME_PATH, else Debian's. */
export function findChromium(): string {
  const candidates = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((candidate) => candidate && existsSync(candidate));
  if (!found) {
    throw new Error(
      'No Chromium found for the end-to-end tests. Install it with `apt-get install -y chromium`, ' +
        'or point CHROME_PATH at a Chromium binary (branded Chrome cannot load unpacked extensions from the command line).',
    );
  }
  return found;
}
