// `npm run dev` on a machine without a desktop (this one, often as root): WXT opens no browser,
// the session keeps running, the banner says which folder to load, and Ctrl-C (SIGTERM) ends it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/postgres';
import { freePort } from '../support/server-process';

const root = path.resolve(import.meta.dirname, '../..');

/** Polls until `check` holds; the test's own timeout ends a wait that never does. */
async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await sleep(200);
}

describe('npm run dev without a desktop', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('builds the extension for loading by hand, serves, and stops on SIGTERM', async () => {
    const database = await createTestDatabase();
    cleanups.push(database.drop);
    const outDir = await mkdtemp(path.join(tmpdir(), 'car-connect-dev-'));
    cleanups.push(() => rm(outDir, { recursive: true, force: true }));
    const [port, emulatorPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'development',
      PORT: String(port),
      EMULATOR_PORT: String(emulatorPort),
      EMULATOR_LATENCY: 'instant',
      DATABASE_URL: database.url,
      WXT_OUT_DIR: outDir,
    };
    delete env.DISPLAY;
    delete env.WAYLAND_DISPLAY;
    // What `npm run dev` runs, started directly so the signal reaches it; a group of its own so
    // nothing it started outlives the test.
    const dev = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    dev.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    dev.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(dev, 'exit');
    cleanups.push(async () => {
      if (dev.exitCode !== null || dev.signalCode !== null) return;
      process.kill(-(dev.pid ?? 0), 'SIGKILL');
      await exited;
    });

    await until(() => output.includes('Load unpacked:') || dev.exitCode !== null);
    expect(dev.exitCode, output).toBeNull();
    const extensionFolder = path.join(outDir, 'chrome-mv3-dev');
    expect(output).toContain(`Load unpacked:   ${extensionFolder}\n`);
    expect(output).toMatch(/WXT dev server: {2}http:\/\/localhost:\d+/);
    expect(existsSync(path.join(extensionFolder, 'manifest.json'))).toBe(true);

    const healthy = () =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        (response) => response.ok,
        () => false,
      );
    await until(async () => (await healthy()) || dev.exitCode !== null);
    expect(dev.exitCode, output).toBeNull();
    expect(output).not.toContain('--no-sandbox');
    // A change in the project makes WXT read standard input, which is closed here (as from a
    // script): the session must go on.
    const now = new Date();
    await utimes(path.join(root, 'README.md'), now, now);
    await sleep(3_000);
    expect(dev.exitCode, output).toBeNull();
    expect(await healthy()).toBe(true);

    dev.kill('SIGTERM');
    await exited;
    expect(dev.exitCode, output).toBe(0);
    expect(await healthy()).toBe(false);
  });
});
