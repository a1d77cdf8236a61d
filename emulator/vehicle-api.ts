// Smartcar Vehicle API v2.0 under /v2.0: Bearer-token auth scoped to the token's grant,
// per-endpoint permissions, Smartcar's v2 error bodies and sc-* response headers.
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from './context';
import { pause } from './faults';
import { stableUuid } from './fleet';
import { ApiError } from './smartcar-errors';
import { batchRoute } from './vehicle-batch';
import {
  ACTION_ENDPOINTS,
  ACTION_SUCCESS,
  commandFor,
  READ_ENDPOINTS,
  type Query,
} from './vehicle-endpoints';
import { bearer, createVehicleGate, requirePermission, unitSystem } from './vehicle-gate';

type VehicleParams = { Params: { id: string } };
type WebhookParams = { Params: { id: string; webhookId: string } };

/** Paging query (`limit`, `offset`); malformed values are a VALIDATION error as on Smartcar. */
function paging(query: unknown, defaultLimit: number): { limit: number; offset: number } {
  const { limit, offset } = query as Query;
  const parse = (value: string | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!Number.isInteger(number) || number < min) throw new ApiError('VALIDATION', 'PARAMETER');
    return number;
  };
  return { limit: parse(limit, defaultLimit, 1), offset: parse(offset, 0, 0) };
}

export function vehicleApiRoutes(app: FastifyInstance, ctx: EmulatorContext, done: () => void): void {
  const { store, limits, latency } = ctx;
  const gate = createVehicleGate(ctx);
  const { enter, enterVehicle, grantOf, accessOf, admit } = gate;

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('sc-unit-system', unitSystem(request));
  });

  app.get('/vehicles', { preHandler: enter('vehicles') }, async (request, reply) => {
    const grant = grantOf(request);
    if (!(await admit(grant, request, reply))) return reply;
    const { limit, offset } = paging(request.query, 10);
    const ids = [...grant.vehicles.keys()];
    return { vehicles: ids.slice(offset, offset + limit), paging: { count: ids.length, offset } };
  });

  app.get('/user', { preHandler: enter('user') }, async (request, reply) => {
    const grant = grantOf(request);
    if (!grant.scope.has('read_user_profile')) throw new ApiError('PERMISSION');
    if (!(await admit(grant, request, reply))) return reply;
    return { id: stableUuid(`user|${grant.account}`) };
  });

  for (const endpoint of READ_ENDPOINTS) {
    const route = endpoint.path === '/' ? '/vehicles/:id' : `/vehicles/:id${endpoint.path}`;
    app.get<VehicleParams>(route, { preHandler: enterVehicle(endpoint.name) }, async (request, reply) => {
      const { grant, vehicle, granted } = accessOf(request);
      requirePermission(granted, endpoint.permission);
      if (!(await admit(grant, request, reply, { vehicleId: vehicle.id }))) return reply;
      const outcome = gate.read(endpoint, vehicle, granted, unitSystem(request), request.query as Query);
      return reply.headers(outcome.headers).send(outcome.body);
    });
  }

  app.get<VehicleParams>(
    '/vehicles/:id/permissions',
    { preHandler: enterVehicle('permissions') },
    async (request, reply) => {
      const { grant, granted } = accessOf(request);
      const { limit, offset } = paging(request.query, 25);
      if (!(await admit(grant, request, reply))) return reply;
      const all = [...granted];
      return { permissions: all.slice(offset, offset + limit), paging: { count: all.length, offset } };
    },
  );

  for (const endpoint of ACTION_ENDPOINTS) {
    // A command is counted under what its body asks for (`lock`, `unlock`...), a malformed one under the endpoint.
    const preHandler = enterVehicle((request) => commandFor(endpoint, request.body)?.name ?? endpoint.name);
    app.post<VehicleParams>(`/vehicles/:id${endpoint.path}`, { preHandler }, async (request, reply) => {
      const { grant, vehicle, granted } = accessOf(request);
      const command = commandFor(endpoint, request.body);
      if (!command) throw new ApiError('VALIDATION', 'PARAMETER');
      requirePermission(granted, endpoint.permission);
      if (!(await admit(grant, request, reply, { vehicleId: vehicle.id }))) return reply;
      gate.reachVehicle(vehicle);
      command.apply(vehicle);
      // A command acts on the vehicle, so it is billed like a read.
      limits.bill(vehicle.id);
      return ACTION_SUCCESS;
    });
  }

  app.delete<VehicleParams>(
    '/vehicles/:id/application',
    { preHandler: enterVehicle('disconnect') },
    async (request, reply) => {
      const { grant } = accessOf(request);
      if (!(await admit(grant, request, reply))) return reply;
      store.disconnect(grant.clientId, request.params.id);
      return { status: 'success' };
    },
  );

  // Webhook subscriptions (smartcar/node-sdk lib/vehicle.js `subscribe`, `unsubscribe`): subscribing takes
  // the vehicle's access token, unsubscribing the application management token. Neither is billed.
  app.post<WebhookParams>(
    '/vehicles/:id/webhooks/:webhookId',
    { preHandler: enterVehicle('subscribe') },
    async (request, reply) => {
      const { grant, vehicle } = accessOf(request);
      const { webhookId } = request.params;
      if (!store.client(grant.clientId)?.webhookIds?.includes(webhookId)) throw new ApiError('VALIDATION');
      if (!(await admit(grant, request, reply))) return reply;
      return { webhookId, vehicleId: vehicle.id };
    },
  );

  app.delete<WebhookParams>(
    '/vehicles/:id/webhooks/:webhookId',
    { preHandler: gate.arrive('unsubscribe') },
    async (request) => {
      const token = bearer(request);
      const client = token === undefined ? undefined : store.clientByManagementToken(token);
      if (!client) throw new ApiError('AUTHENTICATION');
      if (!client.webhookIds?.includes(request.params.webhookId)) throw new ApiError('VALIDATION');
      if (!limits.takeFromApplication(client.clientId, 1)) throw new ApiError('RATE_LIMIT', 'SMARTCAR_API');
      const ms = latency.platformMs();
      if (ms > 0) await pause(ms, request);
      return { status: 'success' };
    },
  );

  batchRoute(app, ctx, gate);
  done();
}
