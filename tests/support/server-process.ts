// The server as its own process, as it runs in production: for tests that need several
// processes on one database, or that kill one.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote, for leak checks and for failing tests' messages. */
  output(): string;
  /** Ends the process: SIGTERM for a graceful shutdown, SIGKILL for a crash. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A key shared by all processes of one test, as a deployment's processes share theirs. */
export const newEncryptionKey = () => randomBytes(32).toString('base64');

export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** How to run the server: its TypeScript sources by default; the production test runs the bundle. */
interface ServerProgram {
  args: string[];
  cwd?: string;
}

const FROM_SOURCES: ServerProgram = { args: ['--import', 'tsx', path.resolve('server/main.ts')] };

/**
 * Starts `server/main.ts` (or `program`) and waits until it is ready. Without DATA_DIR in `env` it gets a fresh
 * folder of its own, removed when it stops: two embedded databases must never share one.
 */
export async function startServerProcess(
  env: Record<string, string>,
  port?: number,
  /**
   * A first start on the embedded database runs initdb inside WASM, which takes tens of seconds on
   * a busy machine; the wait ends as soon as /readyz answers.
   */
  readyWithinMs = 75_000,
  program = FROM_SOURCES,
): Promise<ServerProcess> {
  const listenPort = port ?? (await freePort());
  const ownDataDir = env.DATA_DIR ? undefined : await mkdtemp(path.join(tmpdir(), 'car-connect-server-'));
  const child = spawn(process.execPath, program.args, {
    cwd: program.cwd,
    env: {
      ...process.env,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '100000',
      ...(ownDataDir ? { DATA_DIR: ownDataDir } : {}),
      ...env,
      PORT: String(listenPort),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${listenPort}`;
  const exited = once(child, 'exit').then(async () => {
    if (ownDataDir) await rm(ownDataDir, { recursive: true, force: true });
  });

  const deadline = Date.now() + readyWithinMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`The server exited at start:\n${output}`);
    const ready = await fetch(`${url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`The server did not get ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    url,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
