// Smartcar Connect: GET /oauth/authorize and the pages behind it (preamble, brand, login, approval).
// Flow state stays server-side, keyed by a random id in the page URLs; every step is a plain form POST.
import { randomUUID } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EmulatorContext } from './context';
import { isKnownError } from './smartcar-errors';
import { BRANDS, accountModels, createVehicle, type Vehicle } from './fleet';
import { html, page, type Html } from './html';
import { PERMISSION_LABELS, parseScope, type Permission, type RequestedScope } from './permission-labels';
import type { EmulatorClient } from './store';

const MODES = ['test', 'live', 'simulated'] as const;
type Mode = (typeof MODES)[number];

const FLOW_TTL_MS = 30 * 60 * 1000;

interface Flow {
  id: string;
  client: EmulatorClient;
  redirectUri: string;
  scope: RequestedScope;
  state: string | undefined;
  mode: Mode;
  forcePrompt: boolean;
  make: string | undefined;
  singleSelect: boolean;
  singleSelectVin: string | undefined;
  expiresAt: number;
  account?: string;
  vehicles?: Vehicle[];
}

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

function missingRequired(flow: Flow, vehicle: Vehicle): Permission[] {
  return [...flow.scope.required].filter((permission) => !vehicle.capabilities.has(permission));
}

function describe(vehicle: Vehicle): string {
  return `${vehicle.model.year} ${vehicle.model.make} ${vehicle.model.model}`;
}

function errorPage(reply: FastifyReply, status: number, title: string, message: string) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(
      page(
        title,
        html`<h1>${title}</h1>
          <p class="error" role="alert">${message}</p>`,
      ),
    );
}

export async function connectRoutes(app: FastifyInstance, ctx: EmulatorContext): Promise<void> {
  await app.register(formbody);
  const flows = new Map<string, Flow>();

  const redirectBack = (reply: FastifyReply, flow: Flow, params: Record<string, string>) => {
    flows.delete(flow.id);
    const url = new URL(flow.redirectUri);
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
    if (flow.state !== undefined) url.searchParams.set('state', flow.state);
    return reply.redirect(url.toString(), 302);
  };

  const show = (reply: FastifyReply, flow: Flow, title: string, body: Html, status = 200) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(page(title, body, flow.mode));

  const appLine = (flow: Flow) =>
    html`<p class="app">
      An application (client <code>${flow.client.clientId}</code>) wants to connect to your vehicle.
    </p>`;

  const exitButton = (flow: Flow) =>
    html`<form method="post" action="/connect/${flow.id}/exit">
      <button type="submit" class="link" id="exit-button">Back to application</button>
    </form>`;

  const preamble = (reply: FastifyReply, flow: Flow) =>
    show(
      reply,
      flow,
      'Connect your car',
      html`<h1>Connect your car</h1>
        ${appLine(flow)}
        <p>You will sign in with your vehicle’s connected services account and choose what to share.</p>
        <form method="post" action="/connect/${flow.id}/start" class="stack">
          <button type="submit" class="primary" id="continue-button">Continue</button>
        </form>
        ${exitButton(flow)}`,
    );

  const brandPage = (reply: FastifyReply, flow: Flow, search: string) => {
    const shown = BRANDS.filter((brand) => brand.toLowerCase().includes(search.toLowerCase()));
    return show(
      reply,
      flow,
      'Select your brand',
      html`<h1>Select your vehicle’s brand</h1>
        <form method="get" action="/connect/${flow.id}/brand" role="search">
          <label for="brand-search">Search brands</label>
          <input type="search" id="brand-search" name="q" value="${search}" autocomplete="off" />
        </form>
        <form method="post" action="/connect/${flow.id}/brand" class="brands">
          ${shown.map((brand) => html`<button type="submit" name="make" value="${brand}" id="${brand}" class="brand-list-item">${brand}</button>`)}
        </form>
        ${shown.length === 0 ? html`<p class="note">No brand matches “${search}”.</p>` : ''}
        ${exitButton(flow)}`,
    );
  };

  const loginPage = (reply: FastifyReply, flow: Flow, make: string, problem?: string) =>
    show(
      reply,
      flow,
      `Sign in to ${make}`,
      html`<h1>Sign in to ${make}</h1>
        <p class="note">
          Use your ${make} connected services account. In the emulator any email and password work.
        </p>
        ${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
        <form method="post" action="/connect/${flow.id}/login" class="stack">
          <div>
            <label for="username">Email</label>
            <input
              type="text"
              inputmode="email"
              id="username"
              name="username"
              autocomplete="username"
              required
            />
          </div>
          <div>
            <label for="password">Password</label>
            <input type="password" id="password" name="password" autocomplete="current-password" required />
          </div>
          <button type="submit" class="primary" id="sign-in-button">Sign in</button>
        </form>`,
      problem ? 400 : 200,
    );

  const approvalPage = (reply: FastifyReply, flow: Flow, vehicles: Vehicle[], problem?: string) => {
    const inputType = flow.singleSelect ? 'radio' : 'checkbox';
    let firstCompatible = true;
    const rows = vehicles.map((vehicle) => {
      const missing = missingRequired(flow, vehicle);
      const compatible = missing.length === 0;
      // Multi-select checks every compatible vehicle; single-select picks the first.
      const checked = compatible && (!flow.singleSelect || firstCompatible);
      if (compatible) firstCompatible = false;
      const inputId = `vehicle-${vehicle.id}`;
      return html`<div class="vehicle">
        <input
          type="${inputType}"
          name="vehicle"
          value="${vehicle.id}"
          data-vin="${vehicle.model.vin}"
          id="${inputId}"
          ${checked ? html` checked` : ''}${compatible ? '' : html` disabled aria-describedby="${inputId}-note"`}
        />
        <label for="${inputId}"
          >${describe(vehicle)}
          <span class="note">VIN ${vehicle.model.vin}</span>
          ${compatible ? '' : html`<span class="note" id="${inputId}-note"><br />Not compatible: cannot ${missing.map((p) => PERMISSION_LABELS[p].toLowerCase()).join(', ')}.</span>`}</label
        >
      </div>`;
    });
    return show(
      reply,
      flow,
      'Allow access',
      html`<div class="page-content">
        <h1>Allow access to your vehicle</h1>
        ${appLine(flow)} ${problem ? html`<p class="error" role="alert">${problem}</p>` : ''}
        <form method="post" action="/connect/${flow.id}/approve">
          <fieldset>
            <legend>${flow.singleSelect ? 'Choose a vehicle' : 'Vehicles to share'}</legend>
            ${rows}
          </fieldset>
          <p><strong>The application will be able to:</strong></p>
          <ul class="permissions">
            ${flow.scope.permissions.map((p) => html`<li>${PERMISSION_LABELS[p]}${flow.scope.required.has(p) ? html` <span class="note">(required)</span>` : ''}</li>`)}
          </ul>
          <p class="note">Only what each vehicle supports is shared.</p>
          <div class="row">
            <button type="submit" name="decision" value="deny" id="deny-button">Deny</button>
            <button type="submit" name="decision" value="allow" class="primary" id="approval-button">
              Allow
            </button>
          </div>
        </form>
      </div>`,
      problem ? 400 : 200,
    );
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

  /** The flow named in the URL, or an error page (never a redirect: the session may be forged). */
  const withFlow = (flowId: string, reply: FastifyReply): Flow | undefined => {
    const flow = flows.get(flowId);
    if (flow && flow.expiresAt > ctx.store.now()) return flow;
    flows.delete(flowId);
    void errorPage(
      reply,
      404,
      'Session expired',
      'This Connect session has ended. Start again from the application.',
    );
    return undefined;
  };

  app.get('/oauth/authorize', async (request, reply) => {
    const query = request.query as Query;
    const clientId = single(query, 'client_id') ?? single(query, 'application_id');
    const client = clientId === undefined ? undefined : ctx.store.client(clientId);
    if (!client)
      return errorPage(
        reply,
        400,
        'Unknown application',
        'The client_id does not belong to a registered application.',
      );
    const requestedRedirect = single(query, 'redirect_uri');
    const redirectUri =
      requestedRedirect ?? (client.redirectUris.length === 1 ? client.redirectUris[0] : undefined);
    if (redirectUri === undefined || !client.redirectUris.includes(redirectUri)) {
      return errorPage(
        reply,
        400,
        'Invalid redirect URI',
        'The redirect_uri is not registered for this application.',
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
      expiresAt: ctx.store.now() + FLOW_TTL_MS,
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
    flows.set(flow.id, flow);
    return preamble(reply, flow);
  });

  app.post<{ Params: { flow: string } }>('/connect/:flow/exit', async (request, reply) => {
    const flow = withFlow(request.params.flow, reply);
    if (!flow) return reply;
    return redirectBack(reply, flow, {
      error: 'user_manually_returned_to_application',
      error_description: 'The user exited Connect before granting your application access',
    });
  });

  app.post<{ Params: { flow: string } }>('/connect/:flow/start', async (request, reply) => {
    const flow = withFlow(request.params.flow, reply);
    if (!flow) return reply;
    const next = flow.make !== undefined && BRANDS.includes(flow.make) ? 'login' : 'brand';
    return reply.redirect(`/connect/${flow.id}/${next}`, 303);
  });

  app.get<{ Params: { flow: string } }>('/connect/:flow/brand', async (request, reply) => {
    const flow = withFlow(request.params.flow, reply);
    if (!flow) return reply;
    return brandPage(reply, flow, single(request.query as Query, 'q') ?? '');
  });

  app.post<{ Params: { flow: string } }>('/connect/:flow/brand', async (request, reply) => {
    const flow = withFlow(request.params.flow, reply);
    if (!flow) return reply;
    const make = single(request.body as Query, 'make');
    if (make === undefined || !BRANDS.includes(make)) return brandPage(reply, flow, '');
    flow.make = make;
    return reply.redirect(`/connect/${flow.id}/login`, 303);
  });

  app.get<{ Params: { flow: string } }>('/connect/:flow/login', async (request, reply) => {
    const flow = withFlow(request.params.flow, reply);
    if (!flow) return reply;
    if (flow.make === undefined) return reply.redirect(`/connect/${flow.id}/brand`, 303);
    return loginPage(reply, flow, flow.make);
  });

  app.post<{ Params: { flow: string } }>('/connect/:flow/login', async (request, reply) => {
    const flow = withFlow(request.params.flow, reply);
    if (!flow) return reply;
    const { make } = flow;
    if (make === undefined) return reply.redirect(`/connect/${flow.id}/brand`, 303);
    const form = request.body as Query;
    const account = single(form, 'username')?.trim().toLowerCase() ?? '';
    if (account === '' || (single(form, 'password') ?? '') === '') {
      return loginPage(reply, flow, make, 'Enter your email and password.');
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

  app.get<{ Params: { flow: string } }>('/connect/:flow/approve', async (request, reply) => {
    const flow = withFlow(request.params.flow, reply);
    if (!flow) return reply;
    if (!flow.vehicles) return reply.redirect(`/connect/${flow.id}/login`, 303);
    return approvalPage(reply, flow, flow.vehicles);
  });

  app.post<{ Params: { flow: string } }>('/connect/:flow/approve', async (request, reply) => {
    const flow = withFlow(request.params.flow, reply);
    if (!flow) return reply;
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
      return approvalPage(
        reply,
        flow,
        vehicles,
        flow.singleSelect ? 'Choose one vehicle.' : 'Choose at least one vehicle.',
      );
    }
    return grantAccess(reply, flow, account, selected);
  });
}
