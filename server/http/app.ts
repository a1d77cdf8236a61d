// Builds the HTTP server from its parts. `main.ts` runs it; tests build it with their own config.
import { sql } from 'drizzle-orm';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from 'fastify';
import type { Config } from '../config';
import { scheduleMaintenance } from '../jobs/maintenance';
import { systemClock, type Clock } from '../lib/clock';
import { openServerParts, type ServerParts } from '../wiring';
import {
  ApiError,
  badRequest,
  databaseUnreachable,
  errorBody,
  extensionNotAllowed,
  internalError,
  noSuchEndpoint,
} from './api-errors';
import { createRateLimiter } from './rate-limits';
import { connectRoutes } from './routes/connect-routes';
import { vehicleRoutes } from './routes/vehicle-routes';

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
  /** Where the server reads the time; tests pass one they move. */
  clock?: Clock;
}

export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const clock = options.clock ?? systemClock;
  const app = Fastify(fastifyOptions(config, options, clock));
  const parts = await openServerParts(config, app.log, clock);
  app.addHook('onClose', () => parts.database.close());
  app.log.info({ database: parts.database.location }, 'database ready');
  if (config.maintenanceIntervalMs > 0) {
    const stopMaintenance = scheduleMaintenance(parts, app.log, config.maintenanceIntervalMs);
    app.addHook('onClose', (_instance, done) => {
      stopMaintenance();
      done();
    });
  }
  closeConnectionsWhenClosing(app);
  allowOnlyTheExtension(app, config.extensionIds);
  answerErrorsInTheApiFormat(app, clock);

  const limits = await createRateLimiter(app, parts.database.db, config.rateLimitPerMinute, clock);
  healthRoutes(app, parts);
  await app.register(connectRoutes, { config, parts, limits });
  await app.register(vehicleRoutes, { parts, limits });
  return app;
}

function fastifyOptions(config: Config, options: BuildOptions, clock: Clock): FastifyServerOptions {
  return {
    logger: {
      level: config.logLevel,
      redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    // A line per request in production; in development (`npm start`) they would scroll the banner
    // away while the extension polls, so there they come with LOG_LEVEL=debug only.
    logController: new LogController({
      disableRequestLogging: !config.production && !['debug', 'trace'].includes(config.logLevel),
    }),
    bodyLimit: 16 * 1024,
    routerOptions: { maxParamLength: 200 },
    return503OnClosing: true,
    // Behind a load balancer, the client's address comes from X-Forwarded-For, as far as the
    // configured proxies vouch for it.
    trustProxy: typeof config.trustProxy === 'number' ? trustHops(config.trustProxy) : config.trustProxy,
    // Malformed URLs (bad percent-encoding) and the like answer in the API's error format too.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      void reply.code(400).send(errorBody(badRequest(`Invalid request. ${error.message}`), clock.now()));
    },
    clientErrorHandler: (error: Error & { code?: string }, socket) => {
      answerClientError(error, socket, clock);
    },
  };
}

/**
 * Errors Node's HTTP parser finds before Fastify sees a request (oversized headers, 414, ...),
 * answered in the API's error format on the raw socket.
 */
function answerClientError(error: Error & { code?: string }, socket: Socket, clock: Clock) {
  const status = CLIENT_ERROR_STATUS[error.code ?? ''] ?? 400;
  const body = JSON.stringify(
    errorBody(badRequest(CLIENT_ERROR_MESSAGE[status] ?? 'Malformed request.'), clock.now()),
  );
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nconnection: close\r\n` +
        `content-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  } else {
    socket.destroy(error);
  }
}

/**
 * While shutting down, answers still in flight close their connection behind them, so the
 * server is not kept open by keep-alive sockets that were busy when it began to close.
 */
function closeConnectionsWhenClosing(app: FastifyInstance) {
  let closing = false;
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close');
  });
}

/** Only our extension may call the API from a browser; web pages get no CORS grant at all. */
function allowOnlyTheExtension(app: FastifyInstance, extensionIds: string[]) {
  app.addHook('onRequest', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin === undefined) return;
    if (!isAllowedOrigin(origin, extensionIds)) {
      throw extensionNotAllowed();
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
}

function answerErrorsInTheApiFormat(app: FastifyInstance, clock: Clock) {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (error instanceof ApiError) {
      if (error.retryAfter) void reply.header('retry-after', String(error.retryAfter));
      return reply.code(error.statusCode).send(errorBody(error, clock.now()));
    }
    // Fastify's own 4xx (bad JSON, wrong content type, body too large) keep their status.
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(errorBody(badRequest(error.message), clock.now()));
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send(errorBody(internalError(), clock.now()));
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody(noSuchEndpoint(request.method, request.url), clock.now())),
  );
}

function healthRoutes(app: FastifyInstance, { database }: ServerParts) {
  app.get('/healthz', () => ({ ok: true }));
  app.get('/readyz', async () => {
    try {
      await database.db.execute(sql`select 1`);
    } catch {
      throw databaseUnreachable();
    }
    return { ready: true };
  });
}

/** Trusts the nearest `count` proxies, as Fastify does for a number (its types only take a function). */
const trustHops = (count: number) => (_address: string, hop: number) => hop < count;

/** Node's parser errors, by code, as the status they deserve. */
const CLIENT_ERROR_STATUS: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  HPE_URI_TOO_LONG: 414,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};
const CLIENT_ERROR_MESSAGE: Record<number, string> = {
  431: 'The request headers are too large.',
  414: 'The address is too long.',
  408: 'The request took too long to arrive.',
};

function isAllowedOrigin(origin: string, extensionIds: string[]): boolean {
  if (origin.startsWith('moz-extension://')) return true; // Firefox origins are per-install UUIDs; no web page can send one.
  return extensionIds.some((id) => origin === `chrome-extension://${id}`);
}
