// `npm run dev`: the emulator (unless real Smartcar credentials are set), the server restarted on
// every change (tsx watch), and the extension in WXT dev mode, which opens a browser with it loaded
// and reloads it on every change. Ctrl-C stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { startEmulatorUnlessConfigured } from './emulated-smartcar';
import {
  DEV_EXTENSION_ID,
  GECKO_ID,
  chromeRedirectUrl,
  firefoxRedirectUrl,
} from '../protocol/extension-identity';

const env: NodeJS.ProcessEnv = { ...process.env };
const redirectUrls = [chromeRedirectUrl(DEV_EXTENSION_ID), firefoxRedirectUrl(GECKO_ID)];

const emulator = await startEmulatorUnlessConfigured(env);
const serverUrl = `http://${env.HOST ?? '127.0.0.1'}:${env.PORT ?? '8787'}`;

console.log(`
Car Connect development

  Server:          ${serverUrl} (restarts when server/ or protocol/ changes)
  Smartcar:        ${emulator ? `emulator at ${emulator.origin} (any email and password)` : 'the real platform'}
  Extension:       WXT dev mode opens a browser with it loaded, and reloads it on every change
  Extension ID:    ${DEV_EXTENSION_ID}
  Redirect URLs:   ${redirectUrls.join('\n                   ')}
  Firefox:         npx wxt -b firefox (add-on ${GECKO_ID})
`);

// Each in a process group of its own: npx does not pass signals on, so stopping means the whole group.
const run = (args: string[], childEnv: NodeJS.ProcessEnv) =>
  spawn('npx', args, { env: childEnv, stdio: 'inherit', detached: true });
const children: ChildProcess[] = [
  run(['tsx', 'watch', '--clear-screen=false', 'server/main.ts'], env),
  run(['wxt'], { ...env, WXT_SERVER_URL: serverUrl }),
];

let stopping = false;
async function stop(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const { pid } of children) {
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // That group has already ended.
      }
    }
  }
  await emulator?.close();
  process.exit(exitCode);
}

for (const child of children) {
  // One part ending (a crash, a closed browser) ends the session rather than leaving half of it running.
  child.on('exit', (code) => void stop(code ?? 0));
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
