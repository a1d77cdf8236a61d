// The README's production recipe, followed in a copy of the repository: the server built where the
// development dependencies are, a production install (`NODE_ENV=production npm ci`), the bundle run
// with plain `node` on PostgreSQL.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/postgres';
import { newEncryptionKey, startServerProcess, type ServerProcess } from '../support/server-process';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('the production recipe', () => {
  let copy: string;
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    await run('npm', ['run', 'build:server'], { cwd: root });
    copy = await mkdtemp(path.join(tmpdir(), 'car-connect-production-'));
    const { stdout } = await run('git', ['ls-files', '-z'], { cwd: root });
    for (const file of stdout.split('\0').filter(Boolean)) {
      // A file deleted in the work tree but not yet in git's index is not part of the copy.
      if (existsSync(path.join(root, file))) await cp(path.join(root, file), path.join(copy, file));
    }
    await cp(path.join(root, 'dist'), path.join(copy, 'dist'), { recursive: true });
    // Whatever the cache holds is used as is; the rest comes from the registry.
    await run('npm', ['ci', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: copy,
      env: { ...process.env, NODE_ENV: 'production' },
    });
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await server?.stop();
    await database.drop();
    await rm(copy, { recursive: true, force: true });
  });

  it('installs none of the development tools', () => {
    for (const tool of ['wxt', 'tsx', 'typescript', 'vitest']) {
      expect(existsSync(path.join(copy, 'node_modules', tool)), tool).toBe(false);
    }
  });

  it('runs the built server with node, healthy and ready on PostgreSQL', async () => {
    server = await startServerProcess(
      {
        NODE_ENV: 'production',
        TOKEN_ENCRYPTION_KEY: newEncryptionKey(),
        DATABASE_URL: database.url,
        SMARTCAR_CLIENT_ID: 'production-test',
        SMARTCAR_CLIENT_SECRET: 'production-test-secret',
        EXTENSION_IDS: 'abcdefghijklmnopabcdefghijklmnop',
      },
      undefined,
      undefined,
      { args: ['--enable-source-maps', 'dist/server/main.js'], cwd: copy },
    );
    const healthz = await fetch(`${server.url}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.json()).toEqual({ ok: true });
    const readyz = await fetch(`${server.url}/readyz`);
    expect(readyz.status).toBe(200);
  });
});
