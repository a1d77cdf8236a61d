// `npm run reencrypt`: after rotating TOKEN_ENCRYPTION_KEY (the old key moved to
// TOKEN_ENCRYPTION_OLD_KEYS), seals every stored token with the new key. Safe to run while
// servers are up; afterwards the old key can be removed from the configuration.
import pino from 'pino';
import { loadConfig } from './config';
import { systemClock } from './lib/clock';
import { openServerParts } from './wiring';

const config = loadConfig();
const log = pino({ level: config.logLevel });
const { database, vault } = await openServerParts(config, log, systemClock);
try {
  const moved = await vault.reencryptAll();
  log.info({ moved }, `re-encrypted ${moved} connection(s) with the current key`);
} finally {
  await database.close();
}
