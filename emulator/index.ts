// An offline Smartcar platform: Connect, /oauth/token and the v2.0 vehicle API on one origin, with API
// v3 (/oauth2/token, /v3) beside them, so the official SDK reaches it through SMARTCAR_API_ORIGIN,
// SMARTCAR_AUTH_ORIGIN and SMARTCAR_API_V3_ORIGIN.
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  chromeRedirectUrl,
  DEV_EXTENSION_ID,
  firefoxRedirectUrl,
  GECKO_ID,
} from '../protocol/extension-identity';
import { CallLog } from './calls';
import { compatibilityRoutes } from './compatibility';
import { connectFlowRoutes } from './connect-flow-routes';
import {
  CONTROL_PREFIX,
  controlRoutes,
  createControls,
  latencySchema,
  limitsSchema,
  type EmulatorControls,
} from './control';
import type { EmulatorContext } from './context';
import { answerErrorsAsSmartcar } from './error-replies';
import { FaultRegistry } from './faults';
import { acceptEmptyJsonBodies } from './json-body';
import { DEFAULT_LATENCY, Latency, type LatencyProfile } from './latency';
import { DEFAULT_LIMITS, RateLimits, type Limits } from './limits';
import { oauthRoutes } from './oauth';
import { StateWriter, loadState } from './state-file';
import { Store, type EmulatorClient } from './store';
import { v3Routes } from './v3-api';
import { vehicleApiRoutes } from './vehicle-api';
import { WebhookHub, type EmulatorWebhook } from './webhooks';

export type { EmulatorClient, IssuedToken } from './store';
export type { CallCounts } from './calls';
export type { EmulatorControls } from './control';
export type { Fault } from './faults';
export type { LatencySettings } from './latency';
export type { Limits } from './limits';
export { DEFAULT_LIMITS } from './limits';
export { optionsFromEnv } from './env';
export { completeConnect, type ConnectChoices, type ConnectPage } from './connect-driver';

export interface EmulatorOptions {
  /** Default 0 (any free port); `npm run emulator` uses 4010 or EMULATOR_PORT. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Registered applications; the development client when omitted. */
  clients?: EmulatorClient[];
  /** Enable the test control API (default false). */
  control?: boolean;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  refreshGraceSeconds?: number;
  /** `instant` (default) or `realistic`: Smartcar's documented 3–45 s per vehicle request, up to 300 s. */
  latency?: LatencyProfile;
  /** Multiplies every latency (default 1), e.g. 0.01 to run the realistic shape a hundred times faster. */
  latencyScale?: number;
  /** Seed of the realistic profile's random source (default 1). */
  latencySeed?: number;
  /** Every request that reaches a vehicle takes this long (scaled), whatever the profile. */
  vehicleLatencyMs?: number;
  /** Rate limits and the monthly allowance; Smartcar's documented values by default (DEFAULT_LIMITS). */
  limits?: Partial<Limits>;
  /**
   * A file to keep connections, tokens, vehicles' state and usage in across restarts (created when
   * missing). Default none: everything stays in memory, as tests want.
   */
  stateFile?: string;
  /**
   * Where the emulator reads the time, in ms since the epoch; the system's by default. A test or a
   * bench passes the clock it moves, shared with the server it runs.
   */
  now?: () => number;
  /**
   * API v3 webhooks, as configured in Smartcar's dashboard: callback URL, signals, triggers,
   * auto-enrollment. A webhook with a URL is verified (VERIFY) once the emulator listens.
   */
  webhooks?: EmulatorWebhook[];
}

/** A running emulator. The control helpers work in-process whether or not the HTTP control API is on. */
export interface Emulator extends EmulatorControls {
  origin: string;
  close(): Promise<void>;
}

/**
 * The application `npm run emulator` and the development server use: the extension's redirect URLs in
 * Chrome and Firefox, and the one the official SDK's end-to-end tests use.
 */
export const DEV_CLIENT: EmulatorClient = {
  clientId: 'emulator-client-id',
  clientSecret: 'emulator-client-secret',
  redirectUris: [
    chromeRedirectUrl(DEV_EXTENSION_ID),
    firefoxRedirectUrl(GECKO_ID),
    'https://example.com/auth',
  ],
  managementToken: 'emulator-management-token',
  webhookIds: ['emulator-webhook-id'],
};

const DAY_SECONDS = 24 * 60 * 60;

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const ctx = createContext(options);
  const saved = options.stateFile === undefined ? undefined : await loadState(options.stateFile);
  if (saved) {
    ctx.store.restore(saved.store);
    ctx.limits.restore(saved.usage);
  }

  const app = Fastify({
    // Only the emulator's own bugs are logged; client mistakes get Smartcar's error bodies instead.
    logger: { level: 'error' },
    genReqId: () => randomUUID(),
    routerOptions: { ignoreTrailingSlash: true },
  });
  // Every response carries a request id, as Smartcar's do.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('sc-request-id', request.id);
  });
  const stateWriter = options.stateFile === undefined ? undefined : keepState(app, ctx, options.stateFile);
  answerErrorsAsSmartcar(app);
  acceptEmptyJsonBodies(app);
  const controls = await registerRoutes(app, ctx, options.control === true);

  const origin = await listen(app, options.port ?? 0, options.host ?? '127.0.0.1');
  for (const webhook of options.webhooks ?? []) ctx.webhooks.configure(webhook);
  return {
    ...controls,
    origin,
    close: async () => {
      ctx.webhooks.close();
      await app.close();
      // Last, so that what the in-process controls changed is kept too.
      await stateWriter?.flush();
    },
  };
}

/** The store and the platform's counters, limits and latency, as the options set them. */
function createContext(options: EmulatorOptions): EmulatorContext {
  const store = new Store(
    options.clients ?? [DEV_CLIENT],
    {
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 7200,
      refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 60 * DAY_SECONDS,
      refreshGraceSeconds: options.refreshGraceSeconds ?? 60,
    },
    options.now,
  );
  const latency = new Latency(
    latencySchema.parse({
      profile: options.latency ?? DEFAULT_LATENCY.profile,
      scale: options.latencyScale ?? DEFAULT_LATENCY.scale,
      seed: options.latencySeed ?? DEFAULT_LATENCY.seed,
      vehicleLatencyMs: options.vehicleLatencyMs ?? DEFAULT_LATENCY.vehicleLatencyMs,
    }),
  );
  return {
    store,
    calls: new CallLog(),
    faults: new FaultRegistry(),
    limits: new RateLimits(limitsSchema.parse({ ...DEFAULT_LIMITS, ...options.limits }), store.now),
    latency,
    webhooks: new WebhookHub(store, latency),
  };
}

/** Saves the state to `stateFile` after every response; the writer is flushed on close. */
function keepState(app: FastifyInstance, ctx: EmulatorContext, stateFile: string): StateWriter {
  const stateWriter = new StateWriter(
    stateFile,
    () => ({ store: ctx.store.snapshot(), usage: ctx.limits.snapshot() }),
    (error) => {
      app.log.error(error, 'the emulator could not save its state');
    },
  );
  // Any request may have changed the state (a grant, a token, a lock, usage).
  app.addHook('onResponse', (_request, _reply, done) => {
    stateWriter.schedule();
    done();
  });
  return stateWriter;
}

/** Connect, the token endpoint, the vehicle and compatibility APIs, and the control API when asked for. */
async function registerRoutes(
  app: FastifyInstance,
  ctx: EmulatorContext,
  controlApi: boolean,
): Promise<EmulatorControls> {
  await app.register(connectFlowRoutes, ctx);
  await app.register(oauthRoutes, ctx);
  await app.register(vehicleApiRoutes, { prefix: '/v2.0', ...ctx });
  await app.register(compatibilityRoutes, { prefix: '/v2.0', ...ctx });
  await app.register(v3Routes, { prefix: '/v3', ...ctx });
  const controls = createControls(ctx);
  if (controlApi) await app.register(controlRoutes, { prefix: CONTROL_PREFIX, ...controls });
  return controls;
}

/** Starts listening and answers the origin it listens on. */
async function listen(app: FastifyInstance, port: number, host: string): Promise<string> {
  try {
    await app.listen({ port, host });
  } catch (error) {
    // A taken port must not leave a half-started instance behind.
    await app.close();
    throw error;
  }
  const address = app.server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('The emulator is not listening on TCP.');
  }
  const listening = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${listening}:${address.port}`;
}
