// Smartcar Connect: GET /oauth/authorize and the pages behind it (preamble, brand, login, approval).
// Flow state stays server-side, keyed by a random id in the page URLs; every step is a plain form POST.
import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  approvalPage,
  brandPage,
  errorPage,
  loginPage,
  preamblePage,
  type RenderedPage,
} from './connect-pages';
import { ConnectSessions, MODES, missingRequired, type Flow } from './connect-session';
import type { EmulatorContext } from './context';
import { BRANDS, accountModels, createVehicle, type Vehicle } from './fleet';
import { parseScope } from './permission-labels';
import { isKnownError } from './smartcar-errors';

type Query = Partial<Record<string, string | string[]>>;

function single(query: Query, name: string): string | undefined {
  const value = query[name];
  return Array.isArray(value) ? value[0] : value;
}

function all(query: Query, name: string): string[] {
  const value = query[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** Test-mode logins that end the flow with a Connect error instead of an account (Smartcar test-mode logins). */
const ERROR_LOGINS: Record<string, Record<string, string>> = {
  'smartcar@vehicle-incompatible.com': {
    error: 'vehicle_incompatible',
    error_description: 'The user’s vehicle is not compatible.',
    vin: '0SCAUDI012FE3B132',
    make: 'AUDI',
    model: 'A4',
    year: '2019',
  },
  'smartcar@invalid-subscription.com': {
    error: 'invalid_subscription',
    error_description: 'User does not have an active connected vehicle subscription.',
  },
  'smartcar@no-vehicles.com': {
    error: 'no_vehicles',
    error_description: 'No vehicles found. Please add vehicles to your account and try again.',
  },
};

/** `VEHICLE_STATE.UNKNOWN@smartcar.com` and the like: every data request then fails with that error. */
function failureFor(account: string): Vehicle['failure'] {
  const match = /^([a-z_]+)\.([a-z_]+)@smartcar\.com$/.exec(account);
  if (!match?.[1] || !match[2]) return undefined;
  const [type, code] = [match[1].toUpperCase(), match[2].toUpperCase()];
  return isKnownError(type, code) ? { type, code } : undefined;
}

function show(reply: FastifyReply, rendered: RenderedPage) {
  return reply.code(rendered.status).type('text/html; charset=utf-8').send(rendered.html);
}

export async function connectRoutes(app: FastifyInstance, ctx: EmulatorContext): Promise<void> {
  await app.register(formbody);
  const sessions = new ConnectSessions(ctx.store.now);

  const redirectBack = (reply: FastifyReply, flow: Flow, params: Record<string, string>) => {
    sessions.close(flow.id);
    const url = new URL(flow.redirectUri);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    if (flow.state !== undefined) url.searchParams.set('state', flow.state);
    return reply.redirect(url.toString(), 302);
  };

  const grantAccess = (reply: FastifyReply, flow: Flow, account: string, vehicles: Vehicle[]) => {
    // Optional permissions a vehicle is incapable of are silently left out.
    const permissionsOf = (vehicle: Vehicle) =>
      new Set(flow.scope.permissions.filter((p) => vehicle.capabilities.has(p)));
    const grant = ctx.store.createGrant(
      flow.client.clientId,
      account,
      new Map(vehicles.map((vehicle) => [vehicle.id, permissionsOf(vehicle)])),
      flow.scope.permissions,
    );
    ctx.store.rememberApproval(grant, flow.scope.permissions);
    return redirectBack(reply, flow, { code: ctx.store.issueCode(grant, flow.redirectUri) });
  };

  /** With approval_prompt=auto, a user who already approved this scope for these vehicles is not asked again. */
  const previouslyApproved = (flow: Flow, account: string, compatible: Vehicle[]): Vehicle[] => {
    if (flow.forcePrompt || (flow.singleSelect && flow.singleSelectVin === undefined)) return [];
    const prior = ctx.store.priorApproval(flow.client.clientId, account);
    if (!prior || !flow.scope.permissions.every((p) => prior.permissions.has(p))) return [];
    return compatible.filter((vehicle) => prior.vehicleIds.has(vehicle.id));
  };

  app.get('/oauth/authorize', async (request, reply) => {
    const query = request.query as Query;
    const clientId = single(query, 'client_id') ?? single(query, 'application_id');
    const client = clientId === undefined ? undefined : ctx.store.client(clientId);
    if (!client)
      return show(
        reply,
        errorPage(400, 'Unknown application', 'The client_id does not belong to a registered application.'),
      );
    const requestedRedirect = single(query, 'redirect_uri');
    const redirectUri =
      requestedRedirect ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
    if (redirectUri === undefined || !client.redirectUris.includes(redirectUri)) {
      return show(
        reply,
        errorPage(400, 'Invalid redirect URI', 'The redirect_uri is not registered for this application.'),
      );
    }
    const flow: Flow = {
      id: randomUUID(),
      client,
      redirectUri,
      scope: { permissions: [], required: new Set() },
      state: single(query, 'state'),
      mode: 'live',
      forcePrompt: single(query, 'approval_prompt') === 'force',
      make: single(query, 'make')?.toUpperCase(),
      singleSelect:
        single(query, 'single_select') === 'true' || single(query, 'single_select_vin') !== undefined,
      singleSelectVin: single(query, 'single_select_vin'),
      expiresAt: sessions.expiry(),
    };
    // From here the redirect URI is trusted, so configuration problems go back to the application.
    const configurationError = (message: string) =>
      redirectBack(reply, flow, {
        error: 'configuration_error',
        error_description: 'There has been an error in the configuration of your application.',
        status_code: '400',
        error_message: message,
      });
    if (single(query, 'response_type') !== 'code') {
      return configurationError('The response_type parameter must be "code".');
    }
    const mode = single(query, 'mode') ?? 'live';
    const knownMode = MODES.find((candidate) => candidate === mode);
    if (!knownMode) return configurationError(`Unknown mode "${mode}".`);
    flow.mode = knownMode;
    const scope = parseScope(single(query, 'scope') ?? '');
    if ('unknown' in scope) return configurationError(`Unknown permission "${scope.unknown}" in scope.`);
    if (scope.permissions.length === 0) return configurationError('The scope parameter is required.');
    flow.scope = scope;
    sessions.open(flow);
    return show(reply, preamblePage(flow));
  });

  // The pages behind the preamble, each under its flow's id: the flow is looked up once, by a hook.
  const requestFlows = new WeakMap<FastifyRequest, Flow>();
  const flowOf = (request: FastifyRequest): Flow => {
    const flow = requestFlows.get(request);
    if (!flow) throw new Error(`${request.url} is outside the flow routes.`);
    return flow;
  };
  await app.register(
    (flowApp, _options, done) => {
      // An unknown or expired flow gets an error page, never a redirect: the session may be forged.
      flowApp.addHook('preHandler', async (request, reply) => {
        const flow = sessions.find((request.params as { flow: string }).flow);
        if (flow) {
          requestFlows.set(request, flow);
          return;
        }
        await show(
          reply,
          errorPage(
            404,
            'Session expired',
            'This Connect session has ended. Start again from the application.',
          ),
        );
      });

      flowApp.post('/exit', async (request, reply) => {
        const flow = flowOf(request);
        return redirectBack(reply, flow, {
          error: 'user_manually_returned_to_application',
          error_description: 'The user exited Connect before granting your application access',
        });
      });

      flowApp.post('/start', async (request, reply) => {
        const flow = flowOf(request);
        const next = flow.make !== undefined && BRANDS.includes(flow.make) ? 'login' : 'brand';
        return reply.redirect(`/connect/${flow.id}/${next}`, 303);
      });

      flowApp.get('/brand', async (request, reply) => {
        const flow = flowOf(request);
        return show(reply, brandPage(flow, single(request.query as Query, 'q') ?? ''));
      });

      flowApp.post('/brand', async (request, reply) => {
        const flow = flowOf(request);
        const make = single(request.body as Query, 'make');
        if (make === undefined || !BRANDS.includes(make)) return show(reply, brandPage(flow, ''));
        flow.make = make;
        return reply.redirect(`/connect/${flow.id}/login`, 303);
      });

      flowApp.get('/login', async (request, reply) => {
        const flow = flowOf(request);
        if (flow.make === undefined) return reply.redirect(`/connect/${flow.id}/brand`, 303);
        return show(reply, loginPage(flow, flow.make));
      });

      flowApp.post('/login', async (request, reply) => {
        const flow = flowOf(request);
        const { make } = flow;
        if (make === undefined) return reply.redirect(`/connect/${flow.id}/brand`, 303);
        const form = request.body as Query;
        const account = single(form, 'username')?.trim().toLowerCase() ?? '';
        if (account === '' || (single(form, 'password') ?? '') === '') {
          return show(reply, loginPage(flow, make, 'Enter your email and password.'));
        }
        const loginError = ERROR_LOGINS[account];
        if (loginError) return redirectBack(reply, flow, loginError);

        const failure = failureFor(account);
        const now = ctx.store.now();
        let vehicles = accountModels(account, make).map((model) =>
          ctx.store.vehicle(createVehicle(account, model, now, failure)),
        );
        if (flow.singleSelectVin !== undefined) {
          vehicles = vehicles.filter((vehicle) => vehicle.model.vin === flow.singleSelectVin);
        }
        if (vehicles.length === 0)
          return redirectBack(reply, flow, ERROR_LOGINS['smartcar@no-vehicles.com'] ?? {});
        const compatible = vehicles.filter((vehicle) => missingRequired(flow, vehicle).length === 0);
        const [incompatible] = vehicles;
        if (compatible.length === 0 && incompatible) {
          return redirectBack(reply, flow, {
            error: 'vehicle_incompatible',
            error_description: 'The user’s vehicle is not compatible.',
            vin: incompatible.model.vin,
            make: incompatible.model.make,
            model: incompatible.model.model,
            year: String(incompatible.model.year),
          });
        }
        const approved = previouslyApproved(flow, account, compatible);
        if (approved.length > 0) return grantAccess(reply, flow, account, approved);
        flow.account = account;
        flow.vehicles = vehicles;
        return reply.redirect(`/connect/${flow.id}/approve`, 303);
      });

      flowApp.get('/approve', async (request, reply) => {
        const flow = flowOf(request);
        if (!flow.vehicles) return reply.redirect(`/connect/${flow.id}/login`, 303);
        return show(reply, approvalPage(flow, flow.vehicles));
      });

      flowApp.post('/approve', async (request, reply) => {
        const flow = flowOf(request);
        const { vehicles, account } = flow;
        if (!vehicles || account === undefined) return reply.redirect(`/connect/${flow.id}/login`, 303);
        const form = request.body as Query;
        if (single(form, 'decision') !== 'allow') {
          return redirectBack(reply, flow, {
            error: 'access_denied',
            error_description: 'User denied access to application.',
          });
        }
        const chosen = new Set(all(form, 'vehicle'));
        const selected = vehicles.filter(
          (vehicle) => chosen.has(vehicle.id) && missingRequired(flow, vehicle).length === 0,
        );
        if (selected.length === 0 || (flow.singleSelect && selected.length > 1)) {
          const problem = flow.singleSelect ? 'Choose one vehicle.' : 'Choose at least one vehicle.';
          return show(reply, approvalPage(flow, vehicles, problem));
        }
        return grantAccess(reply, flow, account, selected);
      });
      done();
    },
    { prefix: '/connect/:flow' },
  );
}
