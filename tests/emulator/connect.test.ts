// Connect's query parameters and pages over HTTP: validation, make bypass, single select,
// required permissions, deny, approval prompt, test-mode logins.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConnect, type ConnectPage, type Emulator } from '../../emulator/index';
import {
  connect,
  connectAndExchange,
  devAuthClient,
  REDIRECT_URI,
  smartcarError,
  startForSdk,
} from './helpers';
import smartcar from 'smartcar';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startForSdk();
});
afterAll(() => emulator.close());

let accounts = 0;
/** A fresh login each time, so no earlier approval is remembered. */
function freshEmail(): string {
  accounts += 1;
  return `driver${accounts}@example.com`;
}

function authorizeUrl(params: Record<string, string>): string {
  return `${emulator.origin}/oauth/authorize?${new URLSearchParams(params).toString()}`;
}

const VALID = {
  response_type: 'code',
  client_id: 'emulator-client-id',
  redirect_uri: REDIRECT_URI,
  scope: 'read_odometer',
  state: 'st8',
  mode: 'test',
};

/** Pages a flow showed, in order, and the HTML of each. */
async function pagesOf(authUrl: string, choices: Parameters<typeof completeConnect>[1] = {}) {
  const pages = new Map<ConnectPage, string>();
  const url = await completeConnect(authUrl, { ...choices, onPage: (page, html) => pages.set(page, html) });
  return { url, pages };
}

describe('request validation', () => {
  it('shows an error page, never a redirect, for an unknown client', async () => {
    const response = await fetch(authorizeUrl({ ...VALID, client_id: 'nobody' }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('Unknown application');
  });

  it('shows an error page, never a redirect, for an unregistered redirect URI', async () => {
    const response = await fetch(authorizeUrl({ ...VALID, redirect_uri: 'https://evil.example/cb' }), {
      redirect: 'manual',
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('accepts the browser SDK’s application_id in place of client_id', async () => {
    const { client_id: applicationId, ...rest } = VALID;
    const response = await fetch(authorizeUrl({ ...rest, application_id: applicationId }));
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('id="continue-button"');
  });

  it.each([
    ['an unknown mode', { mode: 'demo' }, 'Unknown mode "demo".'],
    [
      'an unknown permission',
      { scope: 'read_odometer read_minds' },
      'Unknown permission "read_minds" in scope.',
    ],
    ['an empty scope', { scope: '' }, 'The scope parameter is required.'],
    ['a scope of spaces only', { scope: '   ' }, 'The scope parameter is required.'],
    [
      'a response_type other than code',
      { response_type: 'token' },
      'The response_type parameter must be "code".',
    ],
  ])('sends %s back as configuration_error', async (_name, override, message) => {
    const response = await fetch(authorizeUrl({ ...VALID, ...override }), { redirect: 'manual' });
    expect(response.status).toBe(302);
    const query = new URL(response.headers.get('location') ?? '').searchParams;
    expect(Object.fromEntries(query)).toEqual({
      error: 'configuration_error',
      error_description: 'There has been an error in the configuration of your application.',
      status_code: '400',
      error_message: message,
      state: 'st8',
    });
  });
});

describe('pages', () => {
  it('use the element ids of the real Connect', async () => {
    const { pages } = await pagesOf(devAuthClient().getAuthUrl(['read_odometer']), {
      brand: 'CHEVROLET',
      email: freshEmail(),
    });
    expect([...pages.keys()]).toEqual(['preamble', 'brand', 'login', 'approval']);
    expect(pages.get('brand')).toMatch(/<button[^>]*id="CHEVROLET"[^>]*class="brand-list-item"/);
    expect(pages.get('brand')).toMatch(/<input[^>]*id="brand-search"/);
    expect(pages.get('login')).toMatch(/<input[^>]*id="username"/);
    expect(pages.get('login')).toMatch(/<input[^>]*id="password"/);
    const approval = pages.get('approval') ?? '';
    expect(approval).toContain('class="page-content"');
    expect(approval).toContain('id="deny-button"');
    expect(approval).toContain('Retrieve total distance traveled');
  });

  it('brand search narrows the list without scripts', async () => {
    const start = await fetch(authorizeUrl(VALID));
    const flowPath = /action="(\/connect\/[^/]+)\/start"/.exec(await start.text())?.[1] ?? '';
    const brands = await (await fetch(`${emulator.origin}${flowPath}/brand?q=ki`)).text();
    expect(brands).toContain('id="KIA"');
    expect(brands).not.toContain('id="TESLA"');
  });

  it('lists every vehicle of the account, all selected, and grants only the ones left ticked', async () => {
    const client = devAuthClient();
    const { url, pages } = await pagesOf(client.getAuthUrl(['read_vehicle_info']), {
      brand: 'FORD',
      email: freshEmail(),
      vins: ['1FA6P8CF4M5100257'],
    });
    expect(pages.get('approval')?.match(/type="checkbox"[^>]*checked/g)).toHaveLength(3);
    const { accessToken } = await client.exchangeCode(url.searchParams.get('code') ?? '');
    const { vehicles } = await smartcar.getVehicles(accessToken);
    expect(vehicles).toHaveLength(1);
    expect(await new smartcar.Vehicle(vehicles[0] ?? '', accessToken).attributes()).toMatchObject({
      model: 'Mustang',
    });
  });
});

describe('options', () => {
  it('make skips the brand list', async () => {
    const { pages } = await pagesOf(devAuthClient().getAuthUrl(['read_odometer'], { makeBypass: 'KIA' }), {
      email: freshEmail(),
    });
    expect([...pages.keys()]).toEqual(['preamble', 'login', 'approval']);
    expect(pages.get('login')).toContain('Sign in to KIA');
  });

  it('single_select_vin offers only that vehicle', async () => {
    const client = devAuthClient();
    const authUrl = client.getAuthUrl(['read_vin'], { singleSelect: { vin: 'KNDCB3LC4N5100934' } });
    const { url, pages } = await pagesOf(authUrl, { brand: 'KIA', email: freshEmail() });
    expect(pages.get('approval')?.match(/name="vehicle"/g)).toHaveLength(1);
    expect(pages.get('approval')).toContain('type="radio"');
    const { accessToken } = await client.exchangeCode(url.searchParams.get('code') ?? '');
    const [id = ''] = (await smartcar.getVehicles(accessToken)).vehicles;
    expect((await new smartcar.Vehicle(id, accessToken).vin()).vin).toBe('KNDCB3LC4N5100934');
  });

  it('single_select shows radio buttons with one vehicle chosen', async () => {
    const client = devAuthClient();
    const authUrl = client.getAuthUrl(['read_vehicle_info'], { singleSelect: { enabled: true } });
    const { url, pages } = await pagesOf(authUrl, { brand: 'TOYOTA', email: freshEmail() });
    expect(pages.get('approval')?.match(/type="radio"/g)).toHaveLength(2);
    const { accessToken } = await client.exchangeCode(url.searchParams.get('code') ?? '');
    expect((await smartcar.getVehicles(accessToken)).vehicles).toHaveLength(1);
  });

  it('a required permission no vehicle can grant ends in vehicle_incompatible with the vehicle’s details', async () => {
    const query = await connect(
      devAuthClient(),
      ['required:read_fuel', 'read_odometer'],
      { brand: 'TESLA', email: freshEmail() },
      { state: 'abc' },
    );
    expect(Object.fromEntries(query)).toEqual({
      error: 'vehicle_incompatible',
      error_description: 'The user’s vehicle is not compatible.',
      vin: '5YJ3E1EA7NF000316',
      make: 'TESLA',
      model: 'Model 3',
      year: '2022',
      state: 'abc',
    });
  });

  it('a required permission leaves incapable vehicles unselectable', async () => {
    const client = devAuthClient();
    const { url, pages } = await pagesOf(client.getAuthUrl(['required:read_fuel']), {
      brand: 'FORD',
      email: freshEmail(),
    });
    expect(pages.get('approval')?.match(/ disabled/g)).toHaveLength(1);
    const { accessToken } = await client.exchangeCode(url.searchParams.get('code') ?? '');
    expect((await smartcar.getVehicles(accessToken)).vehicles).toHaveLength(2);
  });

  it('optional permissions a vehicle cannot grant are left out', async () => {
    const { accessToken } = await connectAndExchange(devAuthClient(), ['read_fuel', 'read_battery'], {
      brand: 'TESLA',
      email: freshEmail(),
    });
    const [id = ''] = (await smartcar.getVehicles(accessToken)).vehicles;
    expect((await new smartcar.Vehicle(id, accessToken).permissions()).permissions).toEqual(['read_battery']);
  });

  it('deny sends access_denied back with the state', async () => {
    const query = await connect(
      devAuthClient(),
      ['read_odometer'],
      { email: freshEmail(), decision: 'deny' },
      { state: 'xyz' },
    );
    expect(Object.fromEntries(query)).toEqual({
      error: 'access_denied',
      error_description: 'User denied access to application.',
      state: 'xyz',
    });
  });

  it('approval_prompt=auto skips an approval already given; force shows it again', async () => {
    const client = devAuthClient();
    const email = freshEmail();
    const first = await pagesOf(client.getAuthUrl(['read_odometer']), { email });
    expect(first.pages.has('approval')).toBe(true);
    const again = await pagesOf(client.getAuthUrl(['read_odometer']), { email });
    expect(again.pages.has('approval')).toBe(false);
    expect(again.url.searchParams.get('code')).toBeTruthy();
    const forced = await pagesOf(client.getAuthUrl(['read_odometer'], { forcePrompt: true }), { email });
    expect(forced.pages.has('approval')).toBe(true);
    const wider = await pagesOf(client.getAuthUrl(['read_odometer', 'read_location']), { email });
    expect(wider.pages.has('approval')).toBe(true);
  });

  it('flags and user are accepted', async () => {
    const authUrl = devAuthClient().getAuthUrl(['read_odometer'], { flags: { country: 'DE' }, user: 'u1' });
    const query = (await completeConnect(authUrl, { email: freshEmail() })).searchParams;
    expect(query.get('code')).toBeTruthy();
  });

  it('Back to application returns user_manually_returned_to_application', async () => {
    const page = await (await fetch(authorizeUrl(VALID))).text();
    const action = /action="(\/connect\/[^"]+\/exit)"/.exec(page)?.[1] ?? '';
    const response = await fetch(`${emulator.origin}${action}`, { method: 'POST', redirect: 'manual' });
    const query = new URL(response.headers.get('location') ?? '').searchParams;
    expect(query.get('error')).toBe('user_manually_returned_to_application');
    expect(query.get('state')).toBe('st8');
  });

  it('an unknown Connect session is an error page', async () => {
    const response = await fetch(`${emulator.origin}/connect/not-a-session/login`, { redirect: 'manual' });
    expect(response.status).toBe(404);
    expect(response.headers.get('location')).toBeNull();
  });
});

describe('test-mode logins', () => {
  it.each([
    ['smartcar@vehicle-incompatible.com', 'vehicle_incompatible'],
    ['smartcar@invalid-subscription.com', 'invalid_subscription'],
    ['smartcar@no-vehicles.com', 'no_vehicles'],
  ])('%s ends Connect with %s', async (email, error) => {
    const query = await connect(devAuthClient(), ['read_odometer'], { email });
    expect(query.get('error')).toBe(error);
  });

  it('vehicle-incompatible reports the documented Audi', async () => {
    const query = await connect(devAuthClient(), ['read_odometer'], {
      email: 'smartcar@vehicle-incompatible.com',
    });
    expect([query.get('vin'), query.get('make'), query.get('model'), query.get('year')]).toEqual([
      '0SCAUDI012FE3B132',
      'AUDI',
      'A4',
      '2019',
    ]);
  });

  it('TYPE.CODE@smartcar.com makes every data request fail with that error', async () => {
    const { accessToken } = await connectAndExchange(
      devAuthClient(),
      ['read_odometer', 'read_location', 'read_security', 'control_security'],
      { email: 'VEHICLE_STATE.UNKNOWN@smartcar.com' },
    );
    const [id = ''] = (await smartcar.getVehicles(accessToken)).vehicles;
    const vehicle = new smartcar.Vehicle(id, accessToken);
    const batch = await vehicle.batch(['/odometer', '/location', '/security']);
    const errors = await Promise.all(
      [
        vehicle.odometer(),
        vehicle.location(),
        vehicle.lockStatus(),
        vehicle.lock(),
        vehicle.unlock(),
        ...[batch.odometer, batch.location, batch.lockStatus].map((item) =>
          Promise.resolve().then(() => item?.()),
        ),
      ].map(smartcarError),
    );
    expect(errors).toHaveLength(8);
    // Not the status: the SDK gives a batch item's error the status of the batch answer (200).
    for (const error of errors) {
      expect([error.type, error.code, error.message, error.resolution]).toEqual([
        'VEHICLE_STATE',
        'UNKNOWN',
        'VEHICLE_STATE:UNKNOWN - The vehicle was unable to perform your request due to an unknown issue.',
        { type: 'RETRY_LATER' },
      ]);
    }
  });
});
