// The server's parts, wired from configuration: shared by the HTTP app and the command-line tools.
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config';
import { openDatabase, type DatabaseHandle } from './db';
import { Sessions } from './sessions';
import { RequestBudget } from './budget';
import { SmartcarGateway } from './smartcar';
import { TokenCipher, loadOrCreateDevelopmentKey, parseKey } from './vault/cipher';
import { TokenVault } from './vault/token-vault';
import { VehicleService } from './vehicles';

export interface Services {
  database: DatabaseHandle;
  smartcar: SmartcarGateway;
  vault: TokenVault;
  vehicles: VehicleService;
  sessions: Sessions;
}

export async function openServices(config: Config, log: FastifyBaseLogger): Promise<Services> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    embeddedDir: path.join(config.dataDir, 'db'),
    onConnectionLost: (error) => {
      log.warn({ error: error.message }, 'PostgreSQL ended an idle connection; the pool opens a new one');
    },
  });
  const key = config.encryption.key
    ? parseKey(config.encryption.key)
    : loadOrCreateDevelopmentKey(config.dataDir);
  const cipher = new TokenCipher(key, config.encryption.oldKeys.map(parseKey));
  const smartcar = new SmartcarGateway(config.smartcar, log);
  const vault = new TokenVault(database.db, cipher, smartcar, {
    tokenCallTimeoutMs: config.smartcar.timeoutMs,
    log,
  });
  try {
    await vault.assertKeysAvailable();
  } catch (error) {
    await database.close();
    throw error;
  }
  const budget = new RequestBudget(database.db, config.reads.budget, config.reads.minIntervalMs);
  const vehicles = new VehicleService(database.db, vault, smartcar, budget, config.reads, log);
  return { database, smartcar, vault, vehicles, sessions: new Sessions(database.db, config.session) };
}
