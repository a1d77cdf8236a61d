// What a person sees when starting the server: what is missing when it cannot start, and in
// development no line per request to scroll `npm start`'s banner away.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../support/postgres';
import { startServerProcess } from '../support/server-process';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

describe('npm run server', () => {
  it('says which settings are missing and suggests npm start, without a stack trace', async () => {
    const failure = await run('npm', ['run', 'server'], { cwd: root, env: { PATH: process.env.PATH } }).then(
      () => undefined,
      (error: unknown) => error as { code: number; stderr: string },
    );

    expect(failure?.code).toBeGreaterThan(0);
    expect(failure?.stderr).toContain('SMARTCAR_CLIENT_ID: not set');
    expect(failure?.stderr).toContain('SMARTCAR_CLIENT_SECRET: not set');
    expect(failure?.stderr).toContain('run `npm start`');
    expect(failure?.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('request logs', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  async function logsOfOneRequest(env: Record<string, string>): Promise<string> {
    const server = await startServerProcess({
      DATABASE_URL: database.url,
      SMARTCAR_CLIENT_ID: 'client',
      SMARTCAR_CLIENT_SECRET: 'secret',
      LOG_LEVEL: 'info',
      ...env,
    });
    try {
      await fetch(`${server.url}/healthz`);
    } finally {
      await server.stop();
    }
    return server.output();
  }

  it('are off in development, so the banner stays in view', async () => {
    const output = await logsOfOneRequest({});
    expect(output).toContain('Server listening');
    expect(output).not.toContain('/healthz');
  });

  it('are JSON lines in production', async () => {
    const output = await logsOfOneRequest({
      NODE_ENV: 'production',
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      EXTENSION_IDS: 'abcdefghijklmnopabcdefghijklmnop',
    });
    const requestLine = output.split('\n').find((line) => line.includes('/healthz'));
    expect(JSON.parse(requestLine ?? '')).toMatchObject({
      msg: 'incoming request',
      req: { url: '/healthz' },
    });
  });
});
