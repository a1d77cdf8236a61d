// Runs the server alone: `npm run server`, or `node dist/server/main.js` once built. `npm start`
// runs it together with the emulator.
import closeWithGrace from 'close-with-grace';
import { buildApp } from './http/app';
import { ConfigError, loadConfig } from './config';

export async function startServer(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(env);
  const app = await buildApp(config);
  await app.listen({ port: config.port, host: config.host });
  return { app, config };
}

async function runFromCommandLine(): Promise<void> {
  let app: Awaited<ReturnType<typeof startServer>>['app'];
  try {
    ({ app } = await startServer());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(
      `The server cannot start. ${error.message}\n\n` +
        'Settings come from the environment (see "Configuration" in README.md). Or run `npm start`: ' +
        'it starts the Smartcar emulator and the server configured for it.',
    );
    process.exit(1);
  }
  // In-flight requests finish before the database closes; a second signal exits at once.
  closeWithGrace({ delay: 10_000 }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    await app.close();
  });
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await runFromCommandLine();
