// Smartcar Vehicle API v2.0 under /v2.0: Bearer-token auth scoped to the token's grant,
// per-endpoint permissions, Smartcar's v2 error bodies and sc-* response headers.
import type { FastifyInstance } from 'fastify';
import type { EmulatorContext } from './context';
import { pause } from './faults';
import { userIdOf } from './fleet';
import { SmartcarErrorReply } from './smartcar-errors';
import { batchRoute } from './vehicle-batch';
import {
  ACTION_ENDPOINTS,
  ACTION_SUCCESS,
  commandFor,
  READ_ENDPOINTS,
  type Query,
} from './vehicle-endpoints';
import { bearer, createVehicleGate, requirePermission, unitSystem, type VehicleGate } from './vehicle-gate';

type VehicleParams = { Params: { id: string } };
type WebhookParams = { Params: { id: string; webhookId: string } };

/** Paging query (`limit`, `offset`); malformed values are a VALIDATION error as on Smartcar. */
function paging(query: unknown, defaultLimit: number): { limit: number; offset: number } {
  const { limit, offset } = query as Query;
  const parse = (value: string | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!Number.isInteger(number) || number < min) throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
    return number;
  };
  return { limit: parse(limit, defaultLimit, 1), offset: parse(offset, 0, 0) };
}

export function vehicleApiRoutes(app: FastifyInstance, ctx: EmulatorContext, done: () => void): void {
  const gate = createVehicleGate(ctx);
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('sc-unit-system', unitSystem(request));
  });
  accountRoutes(app, gate);
  readRoutes(app, gate);
  commandRoutes(app, ctx, gate);
  disconnectRoute(app, ctx, gate);
  webhookRoutes(app, ctx, gate);
  batchRoute(app, ctx, gate);
  done();
}

/** What the token's grant covers, free of the vehicle: its vehicles and the user. */
function accountRoutes(app: FastifyInstance, { enter, grantOf, admit }: VehicleGate): void {
  app.get('/vehicles', { preHandler: enter('vehicles') }, async (request, reply) => {
    const grant = grantOf(request);
    if (!(await admit(grant, request, reply))) return reply;
    const { limit, offset } = paging(request.query, 10);
    const ids = [...grant.vehicles.keys()];
    return { vehicles: ids.slice(offset, offset + limit), paging: { count: ids.length, offset } };
  });

  app.get('/user', { preHandler: enter('user') }, async (request, reply) => {
    const grant = grantOf(request);
    if (!grant.scope.has('read_user_profile')) throw new SmartcarErrorReply('PERMISSION');
    if (!(await admit(grant, request, reply))) return reply;
    return { id: userIdOf(grant.account) };
  });
}

/** The vehicle's data, one route per read endpoint (billed), and the permissions granted for it (free). */
function readRoutes(app: FastifyInstance, gate: VehicleGate): void {
  const { enterVehicle, accessOf, admit } = gate;
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
}

/** The commands (lock, unlock, charge...), one route per action endpoint. */
function commandRoutes(app: FastifyInstance, { limits, webhooks }: EmulatorContext, gate: VehicleGate): void {
  const { enterVehicle, accessOf, admit } = gate;
  for (const endpoint of ACTION_ENDPOINTS) {
    // A command is counted under what its body asks for (`lock`, `unlock`...), a malformed one under the endpoint.
    const preHandler = enterVehicle((request) => commandFor(endpoint, request.body)?.name ?? endpoint.name);
    app.post<VehicleParams>(`/vehicles/:id${endpoint.path}`, { preHandler }, async (request, reply) => {
      const { grant, vehicle, granted } = accessOf(request);
      const command = commandFor(endpoint, request.body);
      if (!command) throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
      requirePermission(granted, endpoint.permission);
      if (!(await admit(grant, request, reply, { vehicleId: vehicle.id }))) return reply;
      gate.reachVehicle(vehicle);
      command.apply(vehicle);
      // A command acts on the vehicle, so it is billed like a read.
      limits.bill(vehicle.id);
      webhooks.vehicleChanged(vehicle.id);
      return ACTION_SUCCESS;
    });
  }
}

/** DELETE /vehicles/:id/application: the application lets go of the vehicle (free). */
function disconnectRoute(app: FastifyInstance, { store }: EmulatorContext, gate: VehicleGate): void {
  app.delete<VehicleParams>(
    '/vehicles/:id/application',
    { preHandler: gate.enterVehicle('disconnect') },
    async (request, reply) => {
      const { grant } = gate.accessOf(request);
      if (!(await gate.admit(grant, request, reply))) return reply;
      store.disconnect(grant.clientId, request.params.id);
      return { status: 'success' };
    },
  );
}

// Webhook subscriptions (smartcar/node-sdk lib/vehicle.js `subscribe`, `unsubscribe`): subscribing takes
// the vehicle's access token, unsubscribing the application management token. Neither is billed.
function webhookRoutes(
  app: FastifyInstance,
  { store, limits, latency }: EmulatorContext,
  gate: VehicleGate,
): void {
  app.post<WebhookParams>(
    '/vehicles/:id/webhooks/:webhookId',
    { preHandler: gate.enterVehicle('subscribe') },
    async (request, reply) => {
      const { grant, vehicle } = gate.accessOf(request);
      const { webhookId } = request.params;
      if (!store.client(grant.clientId)?.webhookIds?.includes(webhookId)) {
        throw new SmartcarErrorReply('VALIDATION');
      }
      if (!(await gate.admit(grant, request, reply))) return reply;
      return { webhookId, vehicleId: vehicle.id };
    },
  );

  app.delete<WebhookParams>(
    '/vehicles/:id/webhooks/:webhookId',
    { preHandler: gate.arrive('unsubscribe') },
    async (request) => {
      const token = bearer(request);
      const client = token === undefined ? undefined : store.clientByManagementToken(token);
      if (!client) throw new SmartcarErrorReply('AUTHENTICATION');
      if (!client.webhookIds?.includes(request.params.webhookId)) throw new SmartcarErrorReply('VALIDATION');
      if (!limits.takeFromApplication(client.clientId, 1)) {
        throw new SmartcarErrorReply('RATE_LIMIT', 'SMARTCAR_API');
      }
      const ms = latency.platformMs();
      if (ms > 0) await pause(ms, request);
      return { status: 'success' };
    },
  );
}
