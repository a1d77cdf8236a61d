// The extension's API: start Connect, finish it, read vehicles. See protocol/server-api.ts.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  ConnectRequest,
  ExchangeRequest,
  SecurityRequest,
  VehicleIdParams,
  VehiclesQuery,
  type SecurityResponse,
  type ConnectResponse,
  type ExchangeResponse,
  type RefreshResponse,
  type VehiclesResponse,
} from '../../protocol/server-api';
import type { Config } from '../config';
import { consumeConnectState, createConnectState } from '../connect-states';
import type { Database } from '../db';
import { ApiError } from '../errors';
import type { Sessions } from '../sessions';
import type { SmartcarGateway } from '../smartcar';
import { parse } from '../validation';
import type { VehicleService } from '../vehicles';
import type { TokenVault } from '../vault/token-vault';

export interface ApiDependencies {
  config: Config;
  db: Database;
  smartcar: SmartcarGateway;
  vault: TokenVault;
  vehicles: VehicleService;
  sessions: Sessions;
  /** Limits the routes that start work upstream, per client address and per session. */
  rateLimited: (request: FastifyRequest) => Promise<void>;
  /** Limits lock and unlock, per vehicle too. */
  commandLimited: (request: FastifyRequest) => Promise<void>;
}

export function registerApiRoutes(app: FastifyInstance, deps: ApiDependencies) {
  const { config, db, smartcar, vault, vehicles, sessions, rateLimited, commandLimited } = deps;
  const limited = { onRequest: rateLimited };

  app.post('/api/connect', limited, async (request): Promise<ConnectResponse> => {
    const { redirectUri, ...options } = parse(ConnectRequest, request.body);
    if (!config.allowedRedirectUris.has(redirectUri)) {
      throw new ApiError(
        400,
        'redirect_uri_not_allowed',
        'This extension is not allowed to connect through this server. Check EXTENSION_IDS on the server.',
      );
    }
    const caller = await sessions.findCaller(request);
    const state = await createConnectState(db, {
      redirectUri,
      userId: caller?.userId ?? null,
      origin: request.headers.origin ?? null,
    });
    return { url: smartcar.connectUrl(redirectUri, state, options), state };
  });

  app.post('/api/exchange', limited, async (request): Promise<ExchangeResponse> => {
    const { code, state, units = 'metric' } = parse(ExchangeRequest, request.body);
    const caller = await sessions.findCaller(request);
    const binding = await consumeConnectState(db, state, {
      userId: caller?.userId ?? null,
      origin: request.headers.origin ?? null,
    });
    if (!binding) {
      throw new ApiError(
        400,
        'invalid_state',
        'This sign-in has expired or was already used. Connect again.',
      );
    }
    const tokens = await smartcar.exchangeCode(binding.redirectUri, code);
    // Stored before anything else can fail: the code is spent, so these tokens are the grant.
    const { owner, connectionId } = await db.transaction(async (tx) => {
      const user = caller ?? (await sessions.createUserWithSession(tx));
      return { owner: user, connectionId: await vault.saveConnection(tx, user.userId, tokens) };
    });
    await vehicles.addConnection(owner.userId, connectionId);
    return { session: owner.sessionToken, ...(await vehicles.list(owner.userId, units)) };
  });

  app.get('/api/vehicles', async (request): Promise<VehiclesResponse> => {
    const { units } = parse(VehiclesQuery, request.query);
    const caller = await sessions.requireCaller(request);
    return vehicles.list(caller.userId, units);
  });

  app.post('/api/vehicles/refresh', limited, async (request, reply): Promise<RefreshResponse> => {
    const { units } = parse(VehiclesQuery, request.query);
    const caller = await sessions.requireCaller(request);
    const answer = await vehicles.refresh(caller.userId, units);
    void reply.code(202);
    return answer;
  });

  app.post(
    '/api/vehicles/:id/security',
    { onRequest: commandLimited },
    async (request, reply): Promise<SecurityResponse> => {
      const { id } = parse(VehicleIdParams, request.params);
      const { action } = parse(SecurityRequest, request.body);
      const caller = await sessions.requireCaller(request);
      const { vehicle, confirmed } = await vehicles.setLock(caller.userId, id, action);
      // 202: sent, and Smartcar has not confirmed it yet (`vehicle.pendingCommand` says so).
      void reply.code(confirmed ? 200 : 202);
      return { vehicle };
    },
  );

  app.delete('/api/vehicles/:id', async (request, reply) => {
    const { id } = parse(VehicleIdParams, request.params);
    const caller = await sessions.requireCaller(request);
    await vehicles.disconnect(caller.userId, id);
    return reply.code(204).send();
  });

  app.delete('/api/session', async (request, reply) => {
    const caller = await sessions.requireCaller(request);
    await vehicles.signOut(caller.userId);
    return reply.code(204).send();
  });
}
