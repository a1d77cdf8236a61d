// `npm start`: builds the extension, starts the emulator (unless real Smartcar credentials are
// set) and the server, and says what to load and register. Ctrl-C stops everything.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import closeWithGrace from 'close-with-grace';
import { startEmulatorUnlessConfigured } from './emulated-smartcar';
import { localServerUrl } from './local-server-url';
import {
  DEV_EXTENSION_ID,
  GECKO_ID,
  chromeRedirectUrl,
  firefoxRedirectUrl,
} from '../protocol/extension-identity';
import { startServer } from '../server/main';

const env = { ...process.env };
const redirectUrl = chromeRedirectUrl(DEV_EXTENSION_ID);
const firefoxRedirect = firefoxRedirectUrl(GECKO_ID);
const emulator = await startEmulatorUnlessConfigured(env);

const { app, config } = await startServer(env);
const serverUrl = localServerUrl(config.host, config.port);

console.log('Building the extension...');
execFileSync('npx', ['wxt', 'build'], { stdio: 'inherit', env: { ...env, WXT_SERVER_URL: serverUrl } });

console.log(`
Car Connect is running.

  Server:          ${serverUrl}
  Smartcar:        ${emulator ? `emulator at ${emulator.origin} (any email and password)` : 'the real platform'}
  Load unpacked:   ${path.resolve('.output/chrome-mv3')}
  Extension ID:    ${DEV_EXTENSION_ID}
  Redirect URL:    ${redirectUrl}
  Firefox:         ${firefoxRedirect} (add-on ${GECKO_ID})
                   (register both in the Smartcar dashboard when using your own application)

Open chrome://extensions, turn on Developer mode, click "Load unpacked" and pick the folder above.
Press Ctrl-C to stop.
`);

closeWithGrace({ delay: 10_000 }, async () => {
  await app.close();
  await emulator?.close();
});
