// The test control API: the same operations in-process (on the Emulator object) and over HTTP
// under /__emulator, a path no Smartcar SDK uses. Off unless the emulator is started with `control`.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CallCounts } from './calls';
import type { EmulatorContext } from './context';
import type { Fault, FaultSpec } from './faults';
import { LATENCY_PROFILES, type LatencySettings } from './latency';
import type { BillingReport, Limits } from './limits';
import type { IssuedToken, TokenLifetimes } from './store';
import type { Delivery } from './webhook-delivery';
import type { EmulatorWebhook } from './webhooks';

export const CONTROL_PREFIX = '/__emulator';

const faultSpecSchema = z
  .object({
    endpoint: z.string().min(1),
    status: z.number().int().min(100).max(599).optional(),
    type: z.string().min(1).optional(),
    code: z.string().min(1).nullable().optional(),
    delayMs: z.number().int().min(0).max(600_000).optional(),
    drop: z.boolean().optional(),
    retryAfter: z.number().int().min(0).optional(),
    times: z.number().int().min(1).optional(),
  })
  .strict();

const lifetimesSchema = z
  .object({
    accessTokenTtlSeconds: z.number().int().min(0).optional(),
    refreshTokenTtlSeconds: z.number().int().min(0).optional(),
    refreshGraceSeconds: z.number().int().min(0).optional(),
  })
  .strict();

const webhookSchema = z
  .object({
    clientId: z.string().min(1).optional(),
    name: z.string().min(1).optional(),
    url: z.url().optional(),
    signals: z.array(z.string().min(1)).optional(),
    triggers: z.array(z.string().min(1)).optional(),
    autoEnroll: z.boolean().optional(),
  })
  .strict();

const errorSchema = z.object({ type: z.string().min(1), code: z.string().min(1).nullable() }).strict();
const vehicleStateSchema = z
  .object({ isLocked: z.boolean().optional(), failure: errorSchema.nullable().optional() })
  .strict();

/** What a test may change of a simulated car. */
type VehicleState = z.infer<typeof vehicleStateSchema>;

const tokenSchema = z.object({ token: z.string().min(1) }).strict();

const count = z.number().int().min(0);
export const limitsSchema = z
  .object({
    appBucketSize: count.nullable(),
    appRefillPerMinute: z.number().min(0),
    vehicleRequestsPerWindow: count.nullable(),
    vehicleWindowSeconds: z.number().int().min(1),
    monthlyRequestsPerVehicle: count.nullable(),
  })
  .strict();

export const latencySchema = z
  .object({
    profile: z.enum(LATENCY_PROFILES),
    scale: z.number().min(0),
    seed: z.number().int(),
    vehicleLatencyMs: z.number().min(0).nullable(),
  })
  .strict();

export interface EmulatorControls {
  /** Every access and refresh token the emulator has issued, with its current status. */
  issuedTokens(): IssuedToken[];
  /** Counts of calls per endpoint, per token and per vehicle since start or the last reset. */
  calls(): CallCounts;
  resetCalls(): void;
  /** Arms a fault; throws on an invalid spec. */
  injectFault(spec: FaultSpec): Fault;
  removeFault(id: string): boolean;
  clearFaults(): void;
  faults(): Fault[];
  tokenLifetimes(): TokenLifetimes;
  /** Changes lifetimes for tokens issued from now on; returns the lifetimes in force. */
  setTokenLifetimes(lifetimes: Partial<TokenLifetimes>): TokenLifetimes;
  /** Makes a token (access or refresh) expired now; false if the emulator never issued it. */
  expireToken(token: string): boolean;
  /** Revokes a token (access or refresh); false if the emulator never issued it. */
  revokeToken(token: string): boolean;
  limits(): Limits;
  /** Changes some limits; returns the limits in force. */
  setLimits(limits: Partial<Limits>): Limits;
  /** Billed requests per vehicle this month (batch items, not HTTP requests). */
  billing(): BillingReport;
  /** Forgets billed requests and rate-limit use: a new month, a full application bucket. */
  resetUsage(): void;
  latency(): LatencySettings;
  /** Changes the latency profile, scale, seed or fixed vehicle latency; returns the settings in force. */
  setLatency(settings: Partial<LatencySettings>): LatencySettings;
  /** Creates or replaces an API v3 webhook (as the dashboard does); a new URL gets a VERIFY. */
  setWebhook(webhook: EmulatorWebhook): void;
  /** Every webhook delivery so far: url, eventType, eventId, attempts, their statuses, the outcome. */
  webhookDeliveries(): Delivery[];
  /**
   * Changes a simulated car (a lock state, a failure like a test login's, or `null` to end it), as if it
   * happened in the car: webhooks see it. False for an unknown vehicle.
   */
  setVehicleState(vehicleId: string, state: VehicleState): boolean;
}

export function createControls(ctx: EmulatorContext): EmulatorControls {
  const { store, calls, faults, limits, latency, webhooks } = ctx;
  return {
    setWebhook: ({ id, ...webhook }) => {
      webhooks.configure({ ...webhookSchema.parse(webhook), id });
    },
    webhookDeliveries: () => webhooks.deliveries(),
    setVehicleState: (vehicleId, state) => changeVehicle(ctx, vehicleId, vehicleStateSchema.parse(state)),
    issuedTokens: () => store.issuedTokens(),
    calls: () => calls.snapshot(),
    resetCalls: () => {
      calls.reset();
    },
    injectFault: (spec) => faults.add(faultSpecSchema.parse(spec)),
    removeFault: (id) => faults.remove(id),
    clearFaults: () => {
      faults.clear();
    },
    faults: () => faults.list(),
    tokenLifetimes: () => ({ ...store.lifetimes }),
    setTokenLifetimes: (lifetimes) => {
      const changes = lifetimesSchema.parse(lifetimes);
      const current = store.lifetimes;
      store.lifetimes = {
        accessTokenTtlSeconds: changes.accessTokenTtlSeconds ?? current.accessTokenTtlSeconds,
        refreshTokenTtlSeconds: changes.refreshTokenTtlSeconds ?? current.refreshTokenTtlSeconds,
        refreshGraceSeconds: changes.refreshGraceSeconds ?? current.refreshGraceSeconds,
      };
      return { ...store.lifetimes };
    },
    expireToken: (token) => store.expireToken(token),
    revokeToken: (token) => store.revokeToken(token),
    limits: () => ({ ...limits.limits }),
    setLimits: (changes) => {
      limits.limits = limitsSchema.parse({ ...limits.limits, ...changes });
      return { ...limits.limits };
    },
    billing: () => limits.billing(),
    resetUsage: () => {
      limits.reset();
    },
    latency: () => latency.settings,
    setLatency: (changes) => {
      latency.settings = latencySchema.parse({ ...latency.settings, ...changes });
      return latency.settings;
    },
  };
}

/** A change to the simulated car, told to the webhooks: VEHICLE_STATE for signals, VEHICLE_ERROR for failures. */
function changeVehicle(
  { store, webhooks }: EmulatorContext,
  vehicleId: string,
  state: VehicleState,
): boolean {
  const vehicle = store.vehicles.get(vehicleId);
  if (!vehicle) return false;
  if (state.isLocked !== undefined) vehicle.isLocked = state.isLocked;
  const previous = vehicle.failure;
  if (state.failure === null) delete vehicle.failure;
  if (state.failure) vehicle.failure = state.failure;
  if (state.failure) webhooks.vehicleError(vehicleId, state.failure, 'ERROR');
  if (state.failure === null && previous) webhooks.vehicleError(vehicleId, previous, 'RESOLVED');
  webhooks.vehicleChanged(vehicleId);
  return true;
}

export function controlRoutes(app: FastifyInstance, controls: EmulatorControls, done: () => void): void {
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof z.ZodError) {
      return reply.code(400).send({ error: 'invalid_request', issues: error.issues });
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    return reply
      .code(status)
      .send({ error: 'invalid_request', message: error instanceof Error ? error.message : String(error) });
  });

  app.get('/calls', () => controls.calls());
  app.delete('/calls', (_request, reply) => {
    controls.resetCalls();
    return reply.code(204).send();
  });

  app.get('/faults', () => controls.faults());
  app.post('/faults', (request, reply) =>
    reply.code(201).send(controls.injectFault(faultSpecSchema.parse(request.body))),
  );
  app.delete('/faults', (_request, reply) => {
    controls.clearFaults();
    return reply.code(204).send();
  });
  app.delete<{ Params: { id: string } }>('/faults/:id', (request, reply) =>
    reply.code(controls.removeFault(request.params.id) ? 204 : 404).send(),
  );

  app.get('/tokens', () => controls.issuedTokens());
  for (const action of ['expire', 'revoke'] as const) {
    app.post(`/tokens/${action}`, (request, reply) => {
      const { token } = tokenSchema.parse(request.body);
      const found = action === 'expire' ? controls.expireToken(token) : controls.revokeToken(token);
      return found ? reply.code(204).send() : reply.code(404).send({ error: 'unknown_token' });
    });
  }

  app.get('/limits', () => controls.limits());
  app.put('/limits', (request) => controls.setLimits(limitsSchema.partial().parse(request.body)));
  app.get('/billing', () => controls.billing());
  app.delete('/usage', (_request, reply) => {
    controls.resetUsage();
    return reply.code(204).send();
  });
  app.get('/latency', () => controls.latency());
  app.put('/latency', (request) => controls.setLatency(latencySchema.partial().parse(request.body)));

  app.put<{ Params: { id: string } }>('/webhooks/:id', (request, reply) => {
    controls.setWebhook({ ...webhookSchema.parse(request.body), id: request.params.id });
    return reply.code(204).send();
  });
  app.get('/deliveries', () => controls.webhookDeliveries());
  app.patch<{ Params: { id: string } }>('/vehicles/:id', (request, reply) => {
    const found = controls.setVehicleState(request.params.id, vehicleStateSchema.parse(request.body));
    return reply.code(found ? 204 : 404).send();
  });

  app.get('/lifetimes', () => controls.tokenLifetimes());
  app.put('/lifetimes', (request) => controls.setTokenLifetimes(lifetimesSchema.parse(request.body)));

  done();
}
