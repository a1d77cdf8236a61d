// The server's parts, wired from configuration: shared by the HTTP app and the command-line tools.
import path from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import { Sessions } from './accounts/sessions';
import type { Config } from './config';
import { openDatabase, type DatabaseHandle } from './db';
import type { Clock } from './lib/clock';
import { SmartcarGateway } from './smartcar/gateway';
import { TokenCipher, loadOrCreateDevelopmentKey, parseKey } from './vault/cipher';
import { TokenVault } from './vault/token-vault';
import { Disconnects } from './vehicles/disconnects';
import { LockCommands } from './vehicles/lock-commands';
import { RequestBudget } from './vehicles/request-budget';
import { VehicleAnswers } from './vehicles/vehicle-answers';
import { VehicleReader } from './vehicles/vehicle-reader';
import { VehicleStore } from './vehicles/vehicle-store';
import { callsV2, callsV3, type SmartcarCalls } from './vehicles/smartcar-calls';
import { ApplicationToken } from './smartcar/application-token';
import { SmartcarV3 } from './smartcar/v3-gateway';

export interface ServerParts {
  clock: Clock;
  database: DatabaseHandle;
  smartcar: SmartcarGateway;
  vault: TokenVault;
  sessions: Sessions;
  vehicles: VehicleAnswers;
  locks: LockCommands;
  disconnects: Disconnects;
}

export async function openServerParts(
  config: Config,
  log: FastifyBaseLogger,
  clock: Clock,
): Promise<ServerParts> {
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
  const smartcar = new SmartcarGateway(config.smartcar, log, clock);
  const vault = new TokenVault(database.db, cipher, smartcar, {
    tokenCallTimeoutMs: config.smartcar.timeoutMs,
    clock,
    log,
  });
  try {
    await vault.assertKeysAvailable();
  } catch (error) {
    await database.close();
    throw error;
  }
  const { reads } = config;
  const budget = new RequestBudget(database.db, reads.budget, reads.minIntervalMs);
  const store = new VehicleStore(database.db, budget);
  const calls = smartcarCalls(config, { vault, smartcar, clock, log });
  const reader = new VehicleReader(store, calls, budget, clock, log, reads.concurrency);
  return {
    clock,
    database,
    smartcar,
    vault,
    sessions: new Sessions(database.db, config.session, clock),
    vehicles: new VehicleAnswers(store, reader, budget, clock, reads.waitMs),
    locks: new LockCommands(store, reader, vault, smartcar, budget, clock, log, reads.waitMs),
    disconnects: new Disconnects(store, calls, log),
  };
}

/** API v2.0 through the connections' tokens, or API v3 through one application token per process. */
function smartcarCalls(
  config: Config,
  {
    vault,
    smartcar,
    clock,
    log,
  }: { vault: TokenVault; smartcar: SmartcarGateway; clock: Clock; log: FastifyBaseLogger },
): SmartcarCalls {
  const v2 = callsV2(vault, smartcar);
  if (config.smartcar.apiVersion === '2.0') return v2;
  const { origins, clientId, clientSecret, timeoutMs } = config.smartcar;
  const token = new ApplicationToken(
    { iamOrigin: origins.iam, clientId, clientSecret, timeoutMs },
    clock,
    log,
  );
  return callsV3(vault, new SmartcarV3(origins.apiV3, token, timeoutMs, log), v2);
}
