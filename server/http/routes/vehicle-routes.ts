// The signed-in caller's vehicles: list, read again, lock, disconnect, and signing out. One hook
// resolves the caller for every route here, so no handler can forget to. See protocol/server-api.ts.
import type { FastifyPluginCallback } from 'fastify';
import {
  SecurityRequest,
  VehicleIdParams,
  VehiclesQuery,
  type RefreshResponse,
  type SecurityResponse,
  type VehiclesResponse,
} from '../../../protocol/server-api';
import type { Caller } from '../../accounts/sessions';
import type { ServerParts } from '../../wiring';
import type { RateLimitHooks } from '../rate-limits';
import { parse } from '../validation';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking: set by the session hook of `vehicleRoutes`, and only on its routes. */
    caller: Caller;
  }
}

export interface VehicleRouteOptions {
  parts: ServerParts;
  limits: RateLimitHooks;
}

export const vehicleRoutes: FastifyPluginCallback<VehicleRouteOptions> = (app, options, done) => {
  const { vehicles, locks, disconnects, sessions } = options.parts;
  const { limited, commandLimited } = options.limits;

  app.decorateRequest('caller');
  // After the rate limits (onRequest), so requests without a session count against them too.
  app.addHook('preHandler', async (request) => {
    request.caller = await sessions.requireCaller(request);
  });

  app.get('/api/vehicles', async (request): Promise<VehiclesResponse> => {
    const { units } = parse(VehiclesQuery, request.query);
    return vehicles.list(request.caller.userId, units, request.caller.vehiclesVersion);
  });

  app.post(
    '/api/vehicles/refresh',
    { onRequest: limited },
    async (request, reply): Promise<RefreshResponse> => {
      const { units } = parse(VehiclesQuery, request.query);
      const answer = await vehicles.refresh(request.caller.userId, units);
      void reply.code(202);
      return answer;
    },
  );

  app.post(
    '/api/vehicles/:id/security',
    { onRequest: commandLimited },
    async (request, reply): Promise<SecurityResponse> => {
      const { id } = parse(VehicleIdParams, request.params);
      const { units } = parse(VehiclesQuery, request.query);
      const { action } = parse(SecurityRequest, request.body);
      const { vehicle, confirmed } = await locks.setLock(request.caller.userId, id, action, units);
      // 202: sent, and Smartcar has not confirmed it yet (`vehicle.pendingCommand` says so).
      void reply.code(confirmed ? 200 : 202);
      return { vehicle };
    },
  );

  app.delete('/api/vehicles/:id', async (request, reply) => {
    const { id } = parse(VehicleIdParams, request.params);
    await disconnects.disconnect(request.caller.userId, id);
    return reply.code(204).send();
  });

  app.delete('/api/session', async (request, reply) => {
    await disconnects.signOut(request.caller.userId);
    return reply.code(204).send();
  });
  done();
};
