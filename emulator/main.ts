// `npm run emulator`: the emulator on its own, for the development server and manual testing.
import { DEV_CLIENT, optionsFromEnv, startEmulator } from './index';

const port = Number(process.env.EMULATOR_PORT ?? 4010);
const control = process.env.EMULATOR_CONTROL === '1';

const options = { ...optionsFromEnv(process.env), port, control };
const emulator = await startEmulator(options);
const latency = emulator.latency();

console.log(`Smartcar emulator listening on ${emulator.origin}`);
console.log(`  SMARTCAR_API_ORIGIN=${emulator.origin} SMARTCAR_AUTH_ORIGIN=${emulator.origin}`);
console.log(`  client id:      ${DEV_CLIENT.clientId}`);
console.log(`  client secret:  ${DEV_CLIENT.clientSecret}`);
console.log(`  redirect URIs:  ${DEV_CLIENT.redirectUris.join(', ')}`);
console.log(
  `  latency:        ${latency.profile}${latency.scale === 1 ? '' : ` ×${latency.scale}`} (EMULATOR_LATENCY=instant for none)`,
);
console.log(
  `  state:          ${options.stateFile ?? 'in memory only'} (EMULATOR_STATE_FILE=none keeps it in memory)`,
);
console.log(
  `  control API:    ${control ? `${emulator.origin}/__emulator` : 'off (EMULATOR_CONTROL=1 enables it)'}`,
);

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping the emulator`);
  await emulator.close();
}
process.once('SIGINT', () => void stop('SIGINT'));
process.once('SIGTERM', () => void stop('SIGTERM'));
