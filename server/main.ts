// Runs the server alone: `npm run server`. `npm start` runs it together with the emulator.
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app';
import { loadConfig } from './config';

export async function startServer(env: Record<string, string | undefined> = process.env) {
  const config = loadConfig(env);
  const app = await buildApp(config);
  await app.listen({ port: config.port, host: config.host });
  return { app, config };
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  const { app } = await startServer();
  // In-flight requests finish before the database closes; a second signal exits at once.
  closeWithGrace({ delay: 10_000 }, async ({ err }) => {
    if (err) app.log.error({ err }, 'shutting down after an error');
    await app.close();
  });
}
