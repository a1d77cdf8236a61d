// Builds the HTTP server from its parts. `main.ts` runs it; tests build it with their own config.
import { sql } from 'drizzle-orm';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { ErrorBody } from '../protocol/api';
import type { Config } from './config';
import { ApiError } from './errors';
import { scheduleMaintenance } from './maintenance';
import { createRateLimiter } from './rate-limits';
import { registerApiRoutes } from './routes/api';
import { openServices } from './services';

/** Anything that could carry a credential, wherever it appears in a log line. */
const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.code',
  '*.state',
  '*.session',
  '*.clientSecret',
];

export interface BuildOptions {
  /** Where log lines go; defaults to stdout. Tests capture them to check nothing leaks. */
  logStream?: NodeJS.WritableStream;
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // Behind a load balancer, the client's address comes from X-Forwarded-For.
    trustProxy: config.trustProxy,
  });

  const { database, smartcar, vault, vehicles, sessions } = await openServices(config, app.log);
  app.addHook('onClose', () => database.close());
  app.log.info({ database: database.location }, 'database ready');
  if (config.maintenanceIntervalMs > 0) {
    const stopMaintenance = scheduleMaintenance(database.db, vault, app.log, config.maintenanceIntervalMs);
    app.addHook('onClose', (_instance, done) => {
      stopMaintenance();
      done();
    });
  }

  // While shutting down, answers still in flight close their connection behind them, so the
  // server is not kept open by keep-alive sockets that were busy when it began to close.
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });

  app.addHook('onRequest', async (request, reply) => {
    // Only our extension may call the API from a browser; web pages get no CORS grant at all.
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (!isAllowedOrigin(origin, config.extensionIds)) {
      throw new ApiError(403, 'bad_request', 'Requests from web pages are not accepted.');
    }
    void reply.header('access-control-allow-origin', origin).header('vary', 'Origin');
    if (request.method === 'OPTIONS') {
      await reply
        .header('access-control-allow-methods', 'GET, POST, DELETE')
        .header('access-control-allow-headers', 'authorization, content-type')
        .header('access-control-max-age', '600')
        .code(204)
        .send();
    }
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      if (error.retryAfter) void reply.header('retry-after', String(error.retryAfter));
      return reply.code(error.statusCode).send(errorBody(error.code, error.message, error.retryAfter));
    }
    // Fastify's own 4xx (bad JSON, wrong content type, body too large) keep their status.
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(errorBody('bad_request', error.message));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(errorBody('internal', 'Something went wrong on the server. Try again.'));
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send(errorBody('not_found', `No such endpoint: ${request.method} ${request.url.slice(0, 100)}.`)),
  );

  const rateLimited = await createRateLimiter(app, database.db, config.rateLimitPerMinute);

  app.get('/healthz', () => ({ ok: true }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await database.db.execute(sql`select 1`);
      return { ready: true };
    } catch {
      return reply.code(503).send(errorBody('internal', 'The database is not reachable.'));
    }
  });
  registerApiRoutes(app, { config, db: database.db, smartcar, vault, vehicles, sessions, rateLimited });
  return app;
}

function errorBody(code: ErrorBody['error']['code'], message: string, retryAfterSeconds?: number): ErrorBody {
  const retryAt = retryAfterSeconds
    ? new Date(Date.now() + retryAfterSeconds * 1000).toISOString()
    : undefined;
  return { error: { code, message, ...(retryAt ? { retryAt } : {}) } };
}

function isAllowedOrigin(origin: string, extensionIds: string[]): boolean {
  if (origin.startsWith('moz-extension://')) return true; // Firefox origins are per-install UUIDs; no web page can send one.
  return extensionIds.some((id) => origin === `chrome-extension://${id}`);
}
