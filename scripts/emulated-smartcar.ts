// `npm start` and `npm run dev` without Smartcar credentials: start the emulator with the
// development application (both extension redirect URLs registered) and point the server at it.
// Its state is kept beside the server's (optionsFromEnv), so a restart keeps every connection.
import { DEV_CLIENT, optionsFromEnv, startEmulator, type Emulator } from '../emulator';

export async function startEmulatorUnlessConfigured(env: NodeJS.ProcessEnv): Promise<Emulator | undefined> {
  if (env.SMARTCAR_CLIENT_ID) return undefined;
  const emulator = await startEmulator({
    ...optionsFromEnv(env),
    port: Number(env.EMULATOR_PORT ?? 4010),
    clients: [DEV_CLIENT],
  });
  Object.assign(env, {
    SMARTCAR_CLIENT_ID: DEV_CLIENT.clientId,
    SMARTCAR_CLIENT_SECRET: DEV_CLIENT.clientSecret,
    SMARTCAR_ORIGIN: emulator.origin,
  });
  return emulator;
}
