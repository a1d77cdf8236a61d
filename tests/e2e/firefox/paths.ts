// The Firefox the e2e tests drive; shared by the global setup and the launcher.
import { existsSync } from 'node:fs';

/** The Firefox to drive: FIREFOX_PATH, else Debian's ESR or a system Firefox. */
export function findFirefox(): string {
  const candidates = [process.env.FIREFOX_PATH, '/usr/bin/firefox-esr', '/usr/bin/firefox'];
  const found = candidates.find((candidate) => candidate && existsSync(candidate));
  if (!found) {
    throw new Error(
      'No Firefox found for the end-to-end tests. Install it with `apt-get install -y firefox-esr`, ' +
        'or point FIREFOX_PATH at a Firefox binary (140 or later, which the add-on requires).',
    );
  }
  return found;
}
