// The emulator's Connect pages in a real Chromium: the getAuthUrl options (make bypass, single-select VIN,
// required permissions, approval prompt), deny, and a flow done with the keyboard alone.
// Needs no extension: one browser, a fresh context per test, and a local page as the redirect target.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index';
import smartcar, { type AuthClient } from 'smartcar';
import { STEP_TIMEOUT } from './extension';
import { CHROMIUM_FLAGS, findChromium } from './paths';

const CLIENT = { clientId: 'pages-client', clientSecret: 'pages-secret' };

let app: Server;
let appOrigin: string;
let emulator: Emulator;
let browser: Browser;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  // The application's redirect target: answers every request with a page of its own.
  app = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>Back in the application</title>');
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appOrigin = `http://127.0.0.1:${String((app.address() as AddressInfo).port)}`;

  emulator = await startEmulator({
    clients: [{ ...CLIENT, redirectUris: [`${appOrigin}/auth`] }],
  });
  // getAuthUrl takes Connect's origin from here; exchangeCode and the vehicle API too.
  process.env.SMARTCAR_API_ORIGIN = emulator.origin;
  process.env.SMARTCAR_AUTH_ORIGIN = emulator.origin;

  browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    timeout: STEP_TIMEOUT,
    args: CHROMIUM_FLAGS,
  });
});

afterAll(async () => {
  await browser.close();
  await emulator.close();
  await new Promise<void>((resolve) => {
    app.close(() => {
      resolve();
    });
  });
});

beforeEach(async () => {
  context = await browser.newContext();
  context.setDefaultTimeout(STEP_TIMEOUT);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT);
  page = await context.newPage();
});

afterEach(async () => {
  await context.close();
});

function authClient(): AuthClient {
  return new smartcar.AuthClient({ ...CLIENT, redirectUri: `${appOrigin}/auth`, mode: 'test' });
}

/** A login no earlier test has used, so no approval is remembered for it. */
function freshEmail(): string {
  return `${randomUUID()}@example.com`;
}

/** Does `action` and returns the query of the redirect back to the application that follows. */
async function redirectAfter(action: () => Promise<void>): Promise<URLSearchParams> {
  const back = page.waitForURL((url) => url.origin === appOrigin, { timeout: STEP_TIMEOUT });
  await action();
  await back;
  const url = new URL(page.url());
  expect(url.pathname).toBe('/auth');
  return url.searchParams;
}

async function openConnect(url: string): Promise<void> {
  await page.goto(url);
  await page.click('button#continue-button');
}

async function signIn(email: string): Promise<void> {
  await page.fill('input#username', email);
  await page.fill('input#password', 'any password');
  await page.click('#sign-in-button');
}

/** The VINs the approval page offers, from its vehicle inputs. */
async function offeredVins(): Promise<(string | null)[]> {
  await page.waitForSelector('.page-content');
  const inputs = page.locator('input[name="vehicle"]');
  const vins: (string | null)[] = [];
  for (const input of await inputs.all()) vins.push(await input.getAttribute('data-vin'));
  return vins;
}

/** The `id` of the focused element. */
function focusedId(): Promise<string | undefined> {
  return page.evaluate(() => document.activeElement?.id);
}

/** Exchanges the code and returns the VINs of the vehicles it reaches, as the server would. */
async function vinsBehind(code: string | null): Promise<string[]> {
  expect(code).toEqual(expect.any(String));
  const { accessToken } = await authClient().exchangeCode(code ?? '');
  const { vehicles } = await smartcar.getVehicles(accessToken);
  const vins = await Promise.all(
    vehicles.map(async (id) => (await new smartcar.Vehicle(id, accessToken).vin()).vin),
  );
  return vins.sort();
}

describe('Connect options from getAuthUrl', () => {
  it('skips the brand list with makeBypass', async () => {
    const visited: string[] = [];
    page.on('framenavigated', (frame) => {
      if (frame === page.mainFrame()) visited.push(new URL(frame.url()).pathname);
    });
    await openConnect(authClient().getAuthUrl(['read_vehicle_info', 'read_vin'], { makeBypass: 'BMW' }));
    await page.waitForSelector('#sign-in-button');
    expect(await page.locator('h1').innerText()).toBe('Sign in to BMW');
    expect(visited.map((path) => path.split('/').at(-1))).toEqual(['authorize', 'login']);
    await signIn(freshEmail());
    expect(await offeredVins()).toEqual(['WBY73AW07PFP00219', '5UXCR6C08M9E00467']);
    const query = await redirectAfter(() => page.click('button#approval-button'));
    expect(await vinsBehind(query.get('code'))).toEqual(['5UXCR6C08M9E00467', 'WBY73AW07PFP00219']);
  });

  it('offers only the vehicle singleSelect.vin names, as a single choice', async () => {
    const vin = '1FA6P8CF4M5100257'; // FORD Mustang; the account has two more Fords
    await openConnect(authClient().getAuthUrl(['read_vehicle_info', 'read_vin'], { singleSelect: { vin } }));
    await page.click('button#FORD.brand-list-item');
    await signIn(freshEmail());
    expect(await offeredVins()).toEqual([vin]);
    expect(await page.locator('input[name="vehicle"]').getAttribute('type')).toBe('radio');
    const query = await redirectAfter(() => page.click('button#approval-button'));
    expect(await vinsBehind(query.get('code'))).toEqual([vin]);
  });

  it('names the vehicle when it lacks a required permission', async () => {
    // The Tesla account's cars are electric: none can grant read_fuel.
    const url = authClient().getAuthUrl(['read_vehicle_info', 'required:read_fuel'], {
      makeBypass: 'TESLA',
      state: 'incompatible',
    });
    await openConnect(url);
    const query = await redirectAfter(() => signIn(freshEmail()));
    expect(Object.fromEntries(query)).toEqual({
      error: 'vehicle_incompatible',
      error_description: 'The user’s vehicle is not compatible.',
      vin: '5YJ3E1EA7NF000316',
      make: 'TESLA',
      model: 'Model 3',
      year: '2022',
      state: 'incompatible',
    });
  });

  it('offers but does not let the user tick a vehicle that lacks a required permission', async () => {
    // FORD: the Mustang has no battery; the F-150 Lightning and the Escape Plug-In Hybrid do.
    await openConnect(authClient().getAuthUrl(['required:read_battery', 'read_vin'], { makeBypass: 'FORD' }));
    await signIn(freshEmail());
    expect(await offeredVins()).toEqual(['1FTVW1EL5PWG00418', '1FA6P8CF4M5100257', '1FMCU0EZ8NUA00631']);
    const mustang = page.locator('input[data-vin="1FA6P8CF4M5100257"]');
    expect(await mustang.isDisabled()).toBe(true);
    expect(await mustang.isChecked()).toBe(false);
    const query = await redirectAfter(() => page.click('button#approval-button'));
    expect(await vinsBehind(query.get('code'))).toEqual(['1FMCU0EZ8NUA00631', '1FTVW1EL5PWG00418']);
  });

  it('returns access_denied and the state when the user denies', async () => {
    await openConnect(authClient().getAuthUrl(['read_odometer'], { makeBypass: 'KIA', state: 'st8' }));
    await signIn(freshEmail());
    await page.waitForSelector('.page-content');
    const query = await redirectAfter(() => page.click('button#deny-button'));
    expect(Object.fromEntries(query)).toEqual({
      error: 'access_denied',
      error_description: 'User denied access to application.',
      state: 'st8',
    });
  });

  it('asks a returning user again with forcePrompt, and not without', async () => {
    const email = freshEmail();
    const scope = ['read_vehicle_info', 'read_odometer'];
    await openConnect(authClient().getAuthUrl(scope, { makeBypass: 'TOYOTA' }));
    await signIn(email);
    await page.waitForSelector('.page-content');
    const first = await redirectAfter(() => page.click('button#approval-button'));
    expect(first.get('code')).toEqual(expect.any(String));

    // approval_prompt=auto (the SDK's default): signing in goes straight back with a new code.
    await openConnect(authClient().getAuthUrl(scope, { makeBypass: 'TOYOTA' }));
    const again = await redirectAfter(() => signIn(email));
    expect(again.get('code')).toEqual(expect.any(String));
    expect(again.get('code')).not.toBe(first.get('code'));

    // approval_prompt=force: the approval page is back for the same login.
    await openConnect(authClient().getAuthUrl(scope, { makeBypass: 'TOYOTA', forcePrompt: true }));
    await signIn(email);
    expect(await offeredVins()).toEqual(['JTMEB3FV1ND100153', '4T1G11AK3LU100782']);
    const forced = await redirectAfter(() => page.click('button#approval-button'));
    expect(forced.get('code')).toEqual(expect.any(String));
  });
});

describe('keyboard only', () => {
  it('completes Connect with Tab, Enter and Space', async () => {
    await page.goto(authClient().getAuthUrl(['read_vehicle_info', 'read_vin'], { state: 'keys' }));

    // Preamble: the first stop is Continue.
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('continue-button');
    await page.keyboard.press('Enter');

    // Brand list: search for KIA, then pick it.
    await page.waitForSelector('#brand-search');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('brand-search');
    await page.keyboard.type('ki');
    await page.keyboard.press('Enter');
    await page.waitForURL((url) => url.searchParams.get('q') === 'ki');
    expect(await page.locator('.brand-list-item').allInnerTexts()).toEqual(['KIA']);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('KIA');
    await page.keyboard.press('Space');

    // Login: email, password, Enter submits.
    await page.waitForSelector('#sign-in-button');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('username');
    await page.keyboard.type(freshEmail());
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('password');
    await page.keyboard.type('any password');
    await page.keyboard.press('Enter');

    // Approval: both KIAs are ticked; Space unticks the second, then Tab on to Allow.
    expect(await offeredVins()).toEqual(['KNDC34LA2P5100281', 'KNDCB3LC4N5100934']);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-vin'))).toBe(
      'KNDC34LA2P5100281',
    );
    await page.keyboard.press('Tab');
    await page.keyboard.press('Space');
    expect(await page.locator('input[data-vin="KNDCB3LC4N5100934"]').isChecked()).toBe(false);
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('deny-button');
    await page.keyboard.press('Tab');
    expect(await focusedId()).toBe('approval-button');
    const query = await redirectAfter(() => page.keyboard.press('Enter'));

    expect(query.get('state')).toBe('keys');
    expect(await vinsBehind(query.get('code'))).toEqual(['KNDC34LA2P5100281']);
  });
});
