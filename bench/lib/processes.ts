// Servers under test run in their own Node processes, so the load generator in this process
// never shares their event loop, and their RSS and start time are their own.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ChildServer {
  url: string;
  pid: number;
  /** Milliseconds from spawn to the first successful answer on the ready path. */
  startToReadyMs: number;
  /** Resident set size now, from /proc. */
  rss(): Promise<number>;
  /** Output so far, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

export interface ChildOptions {
  /** A TypeScript entry point, run with tsx as `npm run server` does. */
  entry: string;
  env: Record<string, string>;
  port: number;
  /** Path answering 2xx once the server can serve. */
  readyPath: string;
  timeoutMs?: number;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (!address || typeof address !== 'object') throw new Error('no free port');
  return address.port;
}

export async function startChild(options: ChildOptions): Promise<ChildServer> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(options.entry)], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      resolve();
    });
  });

  const url = `http://127.0.0.1:${options.port}`;
  const deadline = started + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${options.entry} exited early:\n${output}`);
    if (performance.now() > deadline) {
      await stop(child, exited);
      throw new Error(`${options.entry} not ready in time:\n${output}`);
    }
    if (await answers(url + options.readyPath)) break;
    await sleep(5);
  }
  const startToReadyMs = performance.now() - started;
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.entry} has no pid`);

  return {
    url,
    pid,
    startToReadyMs,
    rss: () => rssOf(pid),
    output: () => output,
    stop: () => stop(child, exited),
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

async function stop(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kilobytes = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
  if (kilobytes === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kilobytes) * 1024;
}

/** Waits for a fixed port to be free: the e2e tests others run use the same one as the e2e build. */
export async function waitForFreePort(port: number, timeoutMs = 180_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const server = createServer();
    const free = await new Promise<boolean>((resolve) => {
      server.once('error', () => {
        resolve(false);
      });
      server.listen(port, '127.0.0.1', () => {
        resolve(true);
      });
    });
    if (free) {
      await new Promise((resolve) => server.close(resolve));
      return;
    }
    if (performance.now() > deadline) throw new Error(`port ${port} stayed busy`);
    console.log(`port ${port} is busy (e2e tests running?); waiting`);
    await sleep(2_000);
  }
}
