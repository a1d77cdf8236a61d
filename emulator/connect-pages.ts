// The Connect pages: preamble, brand list, login, approval, and the error page. The element ids are
// those the real Connect uses, which the official SDK's end-to-end tests drive
// (smartcar/node-sdk test/end-to-end/helpers/index.js).
import { missingRequired, type Flow } from './connect-session';
import { BRANDS, type EmulatedVehicle } from './fleet';
import { html, page, type Html } from './html';
import { PERMISSION_LABELS } from './permission-labels';

/** A rendered page and the status it is answered with. */
export interface RenderedPage {
  status: number;
  html: string;
}

function flowPage(flow: Flow, title: string, body: Html, status = 200): RenderedPage {
  return { status, html: page(title, body, flow.mode) };
}

export function errorPage(status: number, title: string, message: string): RenderedPage {
  return {
    status,
    html: page(
      title,
      html`<h1>${title}</h1>
        <p class="error" role="alert">${message}</p>`,
    ),
  };
}

function describe(vehicle: EmulatedVehicle): string {
  return `${vehicle.model.year} ${vehicle.model.make} ${vehicle.model.model}`;
}

const appLine = (flow: Flow) =>
  html`<p class="app">
    An application (client <code>${flow.client.clientId}</code>) wants to connect to your vehicle.
  </p>`;

const exitButton = (flow: Flow) =>
  html`<form method="post" action="/connect/${flow.id}/exit">
    <button type="submit" class="link" id="exit-button">Back to application</button>
  </form>`;

export const preamblePage = (flow: Flow) =>
  flowPage(
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

export function brandPage(flow: Flow, search: string): RenderedPage {
  const shown = BRANDS.filter((brand) => brand.toLowerCase().includes(search.toLowerCase()));
  return flowPage(
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
      ${shown.length === 0 ? html`<p class="note">No brand matches “${search}”.</p>` : ''} ${exitButton(flow)}`,
  );
}

export const loginPage = (flow: Flow, make: string, problem?: string) =>
  flowPage(
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

export function approvalPage(flow: Flow, vehicles: EmulatedVehicle[], problem?: string): RenderedPage {
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
  return flowPage(
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
}
