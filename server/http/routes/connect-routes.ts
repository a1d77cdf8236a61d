// Connecting a vehicle: start Smartcar Connect, then trade its code for tokens. Open to callers
// without a session (the first connection creates the user); a session, when sent, adds the
// vehicles to its user. See protocol/server-api.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginCallback } from 'fastify';
import {
  ConnectRequest,
  ExchangeRequest,
  type ConnectResponse,
  type ExchangeResponse,
} from '../../../protocol/server-api';
import { consumeConnectState, createConnectState } from '../../accounts/connect-states';
import { proveSmartcarUser } from '../../accounts/smartcar-user';
import type { Config } from '../../config';
import type { ServerParts } from '../../wiring';
import { redirectUriNotAllowed, signInExpired } from '../api-errors';
import type { RateLimitHooks } from '../rate-limits';
import { parse } from '../validation';

export interface ConnectRouteOptions {
  config: Config;
  parts: ServerParts;
  limits: RateLimitHooks;
}

export const connectRoutes: FastifyPluginCallback<ConnectRouteOptions> = (app, options, done) => {
  const { config, limits } = options;
  const { database, smartcar, vault, vehicles, sessions, clock } = options.parts;
  const limited = { onRequest: limits.limited };

  app.post('/api/connect', limited, async (request): Promise<ConnectResponse> => {
    const { redirectUri, ...connectOptions } = parse(ConnectRequest, request.body);
    if (!config.allowedRedirectUris.has(redirectUri)) throw redirectUriNotAllowed();
    const caller = await sessions.findCaller(request);
    const state = await createConnectState(
      database.db,
      { redirectUri, userId: caller?.userId ?? null, origin: request.headers.origin ?? null },
      clock.now(),
    );
    return { url: smartcar.connectUrl(redirectUri, state, connectOptions), state };
  });

  app.post('/api/exchange', limited, async (request): Promise<ExchangeResponse> => {
    const { code, state, units = 'metric', smartcarUserId } = parse(ExchangeRequest, request.body);
    const caller = await sessions.findCaller(request);
    const binding = await consumeConnectState(
      database.db,
      state,
      { userId: caller?.userId ?? null, origin: request.headers.origin ?? null },
      clock.now(),
    );
    if (!binding) throw signInExpired('invalid_state');
    const tokens = await smartcar.exchangeCode(binding.redirectUri, code);
    // Stored before anything else can fail: the code is spent, so these tokens are the grant.
    const { owner, connectionId } = await database.db.transaction(async (tx) => {
      const user = caller ?? (await sessions.createUserWithSession(tx));
      return { owner: user, connectionId: await vault.saveConnection(tx, user.userId, tokens, null) };
    });
    if (config.smartcar.apiVersion === '3') {
      // Bounded like the listing below: a slow answer finishes in the background (it never fails).
      await Promise.race([
        proveSmartcarUser(vault, connectionId, smartcarUserId, request.log),
        sleep(config.reads.waitMs),
      ]);
    }
    await vehicles.addConnection(owner.userId, connectionId);
    return { session: owner.sessionToken, ...(await vehicles.list(owner.userId, units)) };
  });
  done();
};
