// Where the e2e build goes and what it talks to; shared by the global setup and the fixture.
import { existsSync } from 'node:fs';
import path from 'node:path';

/** The server port baked into the e2e build; the tests start the server on it. */
export const E2E_SERVER_PORT = 18787;
export const E2E_SERVER_URL = `http://127.0.0.1:${E2E_SERVER_PORT}`;
export const E2E_OUT_DIR = '.output/e2e';
export const EXTENSION_DIR = path.resolve(E2E_OUT_DIR, 'chrome-mv3');
export const SCREENSHOT_DIR = path.resolve('docs/screenshots');

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
