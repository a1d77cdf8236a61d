// `npm run dev`: the emulator (unless real Smartcar credentials are set), the server restarted on
// every change (tsx watch), and the extension in WXT dev mode, which rebuilds and reloads it on every
// change and, where a browser can run, opens one with it loaded. Ctrl-C stops everything.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'wxt';
import { startEmulatorUnlessConfigured } from './emulated-smartcar';
import { localServerUrl } from './local-server-url';
import {
  DEV_EXTENSION_ID,
  GECKO_ID,
  chromeRedirectUrl,
  firefoxRedirectUrl,
} from '../protocol/extension-identity';

const env: NodeJS.ProcessEnv = { ...process.env };
const redirectUrls = [chromeRedirectUrl(DEV_EXTENSION_ID), firefoxRedirectUrl(GECKO_ID)];

const emulator = await startEmulatorUnlessConfigured(env);
const serverUrl = localServerUrl(env.HOST ?? '127.0.0.1', env.PORT ?? '8787');

// Each in a process group of its own: npx does not pass signals on, so stopping means the whole group.
const server: ChildProcess = spawn('npx', ['tsx', 'watch', '--clear-screen=false', 'server/main.ts'], {
  env,
  stdio: 'inherit',
  detached: true,
});
const serverRunning = () => server.exitCode === null && server.signalCode === null;
const signalServer = () => {
  try {
    process.kill(-(server.pid ?? 0), 'SIGTERM');
  } catch {
    // That group has already ended.
  }
};
// However this process ends (a crash in WXT included), the server does not outlive it.
process.on('exit', () => {
  if (serverRunning()) signalServer();
});

// Chromium needs a display, and refuses to run as root without its sandbox; there WXT's browser
// would exit at once and take the session with it, so the person loads the build by hand instead.
const desktop = process.platform !== 'linux' || Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
const canOpenBrowser = desktop && process.getuid?.() !== 0;
// wxt.config.ts reads the server URL from the environment when WXT loads it, here in this process.
process.env.WXT_SERVER_URL = serverUrl;
let extensionFolder = '';
const extension = await createServer({
  webExt: { disabled: !canOpenBrowser },
  hooks: {
    'server:started': (wxt) => {
      extensionFolder = wxt.config.outDir;
    },
  },
});
await extension.start();

console.log(`
Car Connect development

  Server:          ${serverUrl} (restarts when server/ or protocol/ changes)
  Smartcar:        ${emulator ? `emulator at ${emulator.origin} (any email and password)` : 'the real platform'}
  WXT dev server:  ${extension.origin} (the development build reloads from it on every change)
  Load unpacked:   ${extensionFolder}${canOpenBrowser ? ' (WXT opened a browser with it loaded)' : ''}
  Extension ID:    ${DEV_EXTENSION_ID}
  Redirect URLs:   ${redirectUrls.join('\n                   ')}
  Firefox:         npx wxt -b firefox (add-on ${GECKO_ID})
`);

let stopping = false;
async function stop(reason: string, exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\nStopping: ${reason}.`);
  if (serverRunning()) {
    // The server finishes its requests and closes its database before the session ends.
    const serverExited = once(server, 'exit');
    signalServer();
    await serverExited;
  }
  await extension.stop();
  await emulator?.close();
  process.exit(exitCode);
}

// The server ending (a crash) ends the session rather than leaving half of it running.
server.on(
  'exit',
  (code, signal) => void stop(`the server ended (${signal ?? `exit code ${String(code)}`})`, code ?? 0),
);
process.on('SIGINT', () => void stop('interrupted', 0));
// Vite (inside WXT) exits on SIGTERM as soon as its own server is closed, the server process
// perhaps still closing; this session stops its parts in order instead. Vite also exits when
// standard input ends, which with input closed (`< /dev/null`, a script, a task runner) happened at
// the first file change, once WXT began reading input for its keyboard shortcuts.
process.removeAllListeners('SIGTERM');
process.stdin.removeAllListeners('end');
process.on('SIGTERM', () => void stop('asked to (SIGTERM)', 0));
