/* global require, process, exports, URL */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: the node-sdk suite require()s this file. */
'use strict';
// CommonJS, like the suite it is copied into (run.sh): never loaded from this repository.
// Stands in for smartcar/node-sdk's test/end-to-end/helpers/index.js when its end-to-end suite runs
// against the emulator: the same exports, with Connect driven in Chromium through playwright-core
// (from this repository) instead of Selenium. The redirect to https://example.com/auth is caught
// in the browser, so no request leaves the machine.
const { randomUUID } = require('node:crypto');

const repository = process.env.CAR_CONNECT_ROOT;
const chromium = process.env.CHROME_PATH || '/usr/bin/chromium';
const { chromium: browserType } = require(require.resolve('playwright-core', { paths: [repository] }));

const CLIENT_ID = process.env.E2E_SMARTCAR_CLIENT_ID;
const CLIENT_SECRET = process.env.E2E_SMARTCAR_CLIENT_SECRET;
if (!CLIENT_ID || !CLIENT_SECRET) {
  throw new Error(
    '"E2E_SMARTCAR_CLIENT_ID" and "E2E_SMARTCAR_CLIENT_SECRET" environment variables must be set',
  );
}

// The suite's own list (smartcar/node-sdk test/end-to-end/helpers/index.js DEFAULT_SCOPES).
exports.DEFAULT_SCOPES = [
  'required:read_vehicle_info',
  'required:read_location',
  'required:read_odometer',
  'required:control_security',
  'required:read_vin',
  'required:read_fuel',
  'required:read_battery',
  'required:read_charge',
  'required:read_engine_oil',
  'required:read_tires',
  'required:read_user_profile',
  'required:read_diagnostics',
];

exports.getAuthClientParams = () => ({
  clientId: CLIENT_ID,
  clientSecret: CLIENT_SECRET,
  redirectUri: 'https://example.com/auth',
  mode: 'test',
});

/** The steps of the suite's Selenium helper: preamble, brand (search for KIA), login, approval. */
exports.runAuthFlow = async function runAuthFlow(authUrl, brand = 'CHEVROLET', email = '') {
  const browser = await browserType.launch({ executablePath: chromium, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage();
    await page.route('https://example.com/**', (route) => route.fulfill({ status: 200, body: 'redirected' }));
    await page.goto(authUrl);
    await page.click('button#continue-button');
    if (brand === 'KIA') await page.fill('input[id=brand-search]', brand);
    await page.click(`button#${brand.toUpperCase()}.brand-list-item`);
    await page.fill('input[id=username]', email || `${randomUUID()}@email.com`);
    await page.fill('input[id=password]', 'password');
    await page.click('#sign-in-button');
    await page.waitForSelector('.page-content');
    await page.click('button[id=approval-button]');
    await page.waitForURL(/example\.com/);
    const { searchParams } = new URL(page.url());
    const code = searchParams.get('code');
    if (!code) throw new Error(`Did not get code in url! Query string: ${searchParams.get('error')}`);
    return code;
  } finally {
    await browser.close();
  }
};
