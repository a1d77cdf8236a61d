// Smartcar Connect: GET /oauth/authorize and the pages behind it (preamble, brand, login, approval).
// Flow state stays server-side, keyed by a random id in the page URLs; every step is a plain form POST.
import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import {
  approvalPage,
  brandPage,
  errorPage,
  loginPage,
  preamblePage,
  type RenderedPage,
} from './connect-pages';
import type { WebhookHub } from './webhooks';
import { ConnectSessions, MODES, missingRequired, type Flow, type Mode } from './connect-session';
import type { EmulatorContext } from './context';
import { BRANDS, accountModels, createVehicle, userIdOf, type EmulatedVehicle } from './fleet';
import { parseScope, type RequestedScope } from './permission-labels';
import { isKnownError } from './smartcar-errors';
import type { EmulatorClient, Store } from './store';

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
function failureFor(account: string): EmulatedVehicle['failure'] {
  const match = /^([a-z_]+)\.([a-z_]+)@smartcar\.com$/.exec(account);
  if (!match?.[1] || !match[2]) return undefined;
  const [type, code] = [match[1].toUpperCase(), match[2].toUpperCase()];
  return isKnownError(type, code) ? { type, code } : undefined;
}

function show(reply: FastifyReply, rendered: RenderedPage) {
  return reply.code(rendered.status).type('text/html; charset=utf-8').send(rendered.html);
}

export async function connectFlowRoutes(app: FastifyInstance, ctx: EmulatorContext): Promise<void> {
  await app.register(formbody);
  const connect: Connect = {
    store: ctx.store,
    sessions: new ConnectSessions(ctx.store.now),
    webhooks: ctx.webhooks,
  };
  app.get('/oauth/authorize', async (request, reply) => authorize(connect, request.query as Query, reply));
  await app.register(flowPages(connect), { prefix: '/connect/:flow' });
}

/** What every step of Connect works with: the platform's store and the flows in progress. */
interface Connect {
  store: Store;
  sessions: ConnectSessions;
  /** Auto-enrolling webhooks take each new connection. */
  webhooks: WebhookHub;
}

/** Ends the flow: back to the application's redirect URI with `params` and the flow's `state`. */
function redirectBack(connect: Connect, reply: FastifyReply, flow: Flow, params: Record<string, string>) {
  connect.sessions.close(flow.id);
  const url = new URL(flow.redirectUri);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  if (flow.state !== undefined) url.searchParams.set('state', flow.state);
  return reply.redirect(url.toString(), 302);
}

/** Grants the flow's scope on `vehicles` and sends the application back its authorization code and user id. */
function grantAccess(
  connect: Connect,
  reply: FastifyReply,
  flow: Flow,
  account: string,
  vehicles: EmulatedVehicle[],
) {
  // Optional permissions a vehicle is incapable of are silently left out.
  const permissionsOf = (vehicle: EmulatedVehicle) =>
    new Set(flow.scope.permissions.filter((p) => vehicle.capabilities.has(p)));
  const grant = connect.store.createGrant(
    flow.client.clientId,
    account,
    new Map(vehicles.map((vehicle) => [vehicle.id, permissionsOf(vehicle)])),
    flow.scope.permissions,
  );
  connect.store.rememberApproval(grant, flow.scope.permissions);
  connect.webhooks.enroll(flow.client.clientId);
  // API v3 reads the user from `user_id` (docs `/connect/handle-the-response`); v2 keeps its `code`.
  return redirectBack(connect, reply, flow, {
    code: connect.store.issueCode(grant, flow.redirectUri),
    user_id: userIdOf(account),
  });
}

/** With approval_prompt=auto, a user who already approved this scope for these vehicles is not asked again. */
function previouslyApproved(
  store: Store,
  flow: Flow,
  account: string,
  compatible: EmulatedVehicle[],
): EmulatedVehicle[] {
  if (flow.forcePrompt || (flow.singleSelect && flow.singleSelectVin === undefined)) return [];
  const prior = store.priorApproval(flow.client.clientId, account);
  if (!prior || !flow.scope.permissions.every((p) => prior.permissions.has(p))) return [];
  return compatible.filter((vehicle) => prior.vehicleIds.has(vehicle.id));
}

/** GET /oauth/authorize: checks the application's request, then opens a flow on the preamble. */
function authorize(connect: Connect, query: Query, reply: FastifyReply) {
  const registered = registeredRedirect(connect.store, query);
  if ('refusal' in registered) return show(reply, registered.refusal);
  const flow = newFlow(query, registered.client, registered.redirectUri, connect.sessions.expiry());
  // From here the redirect URI is trusted, so configuration problems go back to the application.
  const settings = requestedSettings(query);
  if ('problem' in settings) {
    return redirectBack(connect, reply, flow, {
      error: 'configuration_error',
      error_description: 'There has been an error in the configuration of your application.',
      status_code: '400',
      error_message: settings.problem,
    });
  }
  flow.mode = settings.mode;
  flow.scope = settings.scope;
  connect.sessions.open(flow);
  return show(reply, preamblePage(flow));
}

/**
 * The registered application and redirect URI the request names (the only one registered when it
 * names none). Otherwise an error page: an untrusted redirect URI is never redirected to.
 */
function registeredRedirect(
  store: Store,
  query: Query,
): { client: EmulatorClient; redirectUri: string } | { refusal: RenderedPage } {
  const clientId = single(query, 'client_id') ?? single(query, 'application_id');
  const client = clientId === undefined ? undefined : store.client(clientId);
  if (!client) {
    return {
      refusal: errorPage(
        400,
        'Unknown application',
        'The client_id does not belong to a registered application.',
      ),
    };
  }
  const requestedRedirect = single(query, 'redirect_uri');
  const redirectUri =
    requestedRedirect ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
  if (redirectUri === undefined || !client.redirectUris.includes(redirectUri)) {
    return {
      refusal: errorPage(
        400,
        'Invalid redirect URI',
        'The redirect_uri is not registered for this application.',
      ),
    };
  }
  return { client, redirectUri };
}

/** A flow for what the query asks, in live mode with no scope until `requestedSettings` are checked. */
function newFlow(query: Query, client: EmulatorClient, redirectUri: string, expiresAt: number): Flow {
  return {
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
    expiresAt,
  };
}

/** The mode and scope the query asks for, or what is wrong with the request (a configuration error). */
function requestedSettings(query: Query): { mode: Mode; scope: RequestedScope } | { problem: string } {
  if (single(query, 'response_type') !== 'code') {
    return { problem: 'The response_type parameter must be "code".' };
  }
  const mode = single(query, 'mode') ?? 'live';
  const knownMode = MODES.find((candidate) => candidate === mode);
  if (!knownMode) return { problem: `Unknown mode "${mode}".` };
  const scope = parseScope(single(query, 'scope') ?? '');
  if ('unknown' in scope) return { problem: `Unknown permission "${scope.unknown}" in scope.` };
  if (scope.permissions.length === 0) return { problem: 'The scope parameter is required.' };
  return { mode: knownMode, scope };
}

/** One page's handler behind the preamble, given the flow its URL names. */
type FlowStep = (step: {
  connect: Connect;
  flow: Flow;
  request: FastifyRequest;
  reply: FastifyReply;
}) => FastifyReply;

/** The pages behind the preamble, each under its flow's id: the flow is looked up once, by a hook. */
function flowPages(connect: Connect): FastifyPluginCallback {
  return (flowApp, _options, done) => {
    const requestFlows = new WeakMap<FastifyRequest, Flow>();
    // An unknown or expired flow gets an error page, never a redirect: the session may be forged.
    flowApp.addHook('preHandler', async (request, reply) => {
      const flow = connect.sessions.find((request.params as { flow: string }).flow);
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
    const page = (step: FlowStep) => async (request: FastifyRequest, reply: FastifyReply) => {
      const flow = requestFlows.get(request);
      if (!flow) throw new Error(`${request.url} is outside the flow routes.`);
      return step({ connect, flow, request, reply });
    };
    flowApp.post('/exit', page(exit));
    flowApp.post('/start', page(start));
    flowApp.get('/brand', page(showBrands));
    flowApp.post('/brand', page(chooseBrand));
    flowApp.get('/login', page(showLogin));
    flowApp.post('/login', page(logIn));
    flowApp.get('/approve', page(showApproval));
    flowApp.post('/approve', page(approve));
    done();
  };
}

/** The user left Connect: the application hears so. */
const exit: FlowStep = ({ connect, flow, reply }) =>
  redirectBack(connect, reply, flow, {
    error: 'user_manually_returned_to_application',
    error_description: 'The user exited Connect before granting your application access',
  });

/** The preamble's Continue: straight to the login when the application named a brand Connect knows. */
const start: FlowStep = ({ flow, reply }) => {
  const next = flow.make !== undefined && BRANDS.includes(flow.make) ? 'login' : 'brand';
  return reply.redirect(`/connect/${flow.id}/${next}`, 303);
};

const showBrands: FlowStep = ({ flow, request, reply }) =>
  show(reply, brandPage(flow, single(request.query as Query, 'q') ?? ''));

const chooseBrand: FlowStep = ({ flow, request, reply }) => {
  const make = single(request.body as Query, 'make');
  if (make === undefined || !BRANDS.includes(make)) return show(reply, brandPage(flow, ''));
  flow.make = make;
  return reply.redirect(`/connect/${flow.id}/login`, 303);
};

const showLogin: FlowStep = ({ flow, reply }) => {
  if (flow.make === undefined) return reply.redirect(`/connect/${flow.id}/brand`, 303);
  return show(reply, loginPage(flow, flow.make));
};

/**
 * The login: a test-mode error login ends the flow, and so does an account with no vehicle to
 * choose; one that approved this scope before is not asked again; anyone else goes on to approve.
 */
const logIn: FlowStep = ({ connect, flow, request, reply }) => {
  const { make } = flow;
  if (make === undefined) return reply.redirect(`/connect/${flow.id}/brand`, 303);
  const form = request.body as Query;
  const account = single(form, 'username')?.trim().toLowerCase() ?? '';
  if (account === '' || (single(form, 'password') ?? '') === '') {
    return show(reply, loginPage(flow, make, 'Enter your email and password.'));
  }
  const loginError = ERROR_LOGINS[account];
  if (loginError) return redirectBack(connect, reply, flow, loginError);

  const vehicles = accountVehicles(connect.store, flow, account, make);
  const compatible = vehicles.filter((vehicle) => missingRequired(flow, vehicle).length === 0);
  const nothingToChoose = noVehicleToChoose(vehicles, compatible);
  if (nothingToChoose) return redirectBack(connect, reply, flow, nothingToChoose);
  const approved = previouslyApproved(connect.store, flow, account, compatible);
  if (approved.length > 0) return grantAccess(connect, reply, flow, account, approved);
  flow.account = account;
  flow.vehicles = vehicles;
  return reply.redirect(`/connect/${flow.id}/approve`, 303);
};

/**
 * The account's cars of the brand, kept by the store from their first login on (with
 * single_select_vin, only the one it names).
 */
function accountVehicles(store: Store, flow: Flow, account: string, make: string): EmulatedVehicle[] {
  const failure = failureFor(account);
  const now = store.now();
  const vehicles = accountModels(account, make).map((model) =>
    store.vehicle(createVehicle(account, model, now, failure)),
  );
  if (flow.singleSelectVin === undefined) return vehicles;
  return vehicles.filter((vehicle) => vehicle.model.vin === flow.singleSelectVin);
}

/** The Connect error when there is nothing to choose: no vehicle, or none with every required permission. */
function noVehicleToChoose(
  vehicles: EmulatedVehicle[],
  compatible: EmulatedVehicle[],
): Record<string, string> | undefined {
  const [first] = vehicles;
  if (!first) return ERROR_LOGINS['smartcar@no-vehicles.com'] ?? {};
  if (compatible.length > 0) return undefined;
  return {
    error: 'vehicle_incompatible',
    error_description: 'The user’s vehicle is not compatible.',
    vin: first.model.vin,
    make: first.model.make,
    model: first.model.model,
    year: String(first.model.year),
  };
}

const showApproval: FlowStep = ({ flow, reply }) => {
  if (!flow.vehicles) return reply.redirect(`/connect/${flow.id}/login`, 303);
  return show(reply, approvalPage(flow, flow.vehicles));
};

/**
 * The approval page's answer: Deny ends the flow; Allow grants the chosen vehicles that have every
 * required permission (exactly one with single_select).
 */
const approve: FlowStep = ({ connect, flow, request, reply }) => {
  const { vehicles, account } = flow;
  if (!vehicles || account === undefined) return reply.redirect(`/connect/${flow.id}/login`, 303);
  const form = request.body as Query;
  if (single(form, 'decision') !== 'allow') {
    return redirectBack(connect, reply, flow, {
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
  return grantAccess(connect, reply, flow, account, selected);
};
