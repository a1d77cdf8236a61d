// Screenshots of the main states, light and dark, for the README and the store listing. Fixed data
// from a stand-in server and a fixed clock make every run draw the same pixels.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { Vehicle } from '../../protocol/server-api';
import { startTokenServer, type TokenServer } from '../extension/token-server';
import { launchExtension, type ExtensionBrowser } from './extension';
import { E2E_SERVER_PORT, E2E_SERVER_URL, SCREENSHOT_DIR } from './paths';

const NOW = new Date('2026-01-15T10:32:00.000Z');
const FETCHED_AT = '2026-01-15T10:30:00.000Z';

const tesla: Vehicle = {
  id: 'veh-tesla',
  make: 'TESLA',
  model: 'Model 3',
  year: 2022,
  permissions: [
    'read_vehicle_info',
    'read_odometer',
    'read_battery',
    'read_location',
    'read_security',
    'control_security',
  ],
  status: 'connected',
  units: 'metric',
  data: {
    odometer: { distance: 23817 },
    battery: { percentRemaining: 0.72, range: 341 },
    location: { latitude: 37.7749, longitude: -122.4194 },
    security: { isLocked: true },
  },
  fetchedAt: FETCHED_AT,
  readAt: {},
  reading: false,
  nextReadAt: null,
  lastFailure: null,
  pendingCommand: null,
  usage: { month: '2026-01', billed: 5, budget: 500 },
};

const mustang: Vehicle = {
  id: 'veh-mustang',
  make: 'FORD',
  model: 'Mustang',
  year: 2021,
  permissions: ['read_vehicle_info', 'read_odometer', 'read_fuel', 'read_security'],
  status: 'connected',
  units: 'metric',
  data: {
    odometer: { distance: 41205 },
    fuel: { percentRemaining: 0.38, range: 214, amountRemaining: 23 },
    security: { isLocked: false },
  },
  fetchedAt: FETCHED_AT,
  readAt: {},
  reading: false,
  nextReadAt: null,
  lastFailure: null,
  pendingCommand: null,
  usage: { month: '2026-01', billed: 5, budget: 500 },
};

interface Scene {
  name: string;
  page: 'popup.html' | 'options.html';
  local?: Record<string, unknown>;
  session?: Record<string, unknown>;
  /** Text that shows once the scene is drawn. */
  ready: (page: Page) => Promise<void>;
}

const signedIn = (vehicles: Vehicle[]) => ({
  serverSession: { server: E2E_SERVER_URL, token: 'screenshot-session' },
  vehicles,
});

const kia: Vehicle = {
  ...tesla,
  id: 'veh-kia',
  make: 'KIA',
  model: 'EV6',
  year: 2023,
  data: {
    odometer: { distance: 8120 },
    battery: { percentRemaining: 0.18, range: 74 },
    security: { isLocked: false },
  },
};
const refreshed = (page: Page) => page.getByRole('button', { name: 'Refresh', exact: true }).waitFor();

const scenes: Scene[] = [
  {
    name: 'popup-first-run',
    page: 'popup.html',
    ready: (page) => page.getByText('Connect a vehicle').waitFor(),
  },
  {
    name: 'popup-connecting',
    page: 'popup.html',
    session: { connectFlow: { status: 'connecting' } },
    ready: (page) => page.getByText('Connecting…').waitFor(),
  },
  { name: 'popup-connected', page: 'popup.html', local: signedIn([tesla, mustang]), ready: refreshed },
  {
    // Chrome shows at most 600 px of a popup: three vehicles and both main buttons fit.
    name: 'popup-three-vehicles',
    page: 'popup.html',
    local: signedIn([tesla, mustang, kia]),
    ready: refreshed,
  },
  {
    name: 'popup-reconnect',
    page: 'popup.html',
    local: signedIn([{ ...tesla, status: 'reconnect_required' }]),
    ready: refreshed,
  },
  {
    name: 'popup-incompatible',
    page: 'popup.html',
    session: {
      connectFlow: {
        status: 'error',
        failure: { code: 'vehicle_incompatible', vehicle: { make: 'AUDI', model: 'A4', year: '2019' } },
      },
    },
    ready: (page) => page.getByRole('alert').waitFor(),
  },
  {
    name: 'options',
    page: 'options.html',
    local: signedIn([tesla]),
    ready: (page) => page.getByRole('button', { name: 'Sign out' }).waitFor(),
  },
];

let server: TokenServer;
let browser: ExtensionBrowser;
/** What the stand-in server answers to a refresh: the vehicles of the scene being drawn. */
let vehicles: Vehicle[] = [];

beforeAll(async () => {
  server = await startTokenServer(E2E_SERVER_PORT);
  server.route('GET /api/vehicles?units=metric', () => ({ body: { vehicles, pendingConnections: 0 } }));
  browser = await launchExtension();
  await mkdir(SCREENSHOT_DIR, { recursive: true });
});
afterAll(async () => {
  await browser.close();
  await server.close();
});

describe.each(['light', 'dark'] as const)('screenshots in %s', (colorScheme) => {
  it.each(scenes)('$name', async ({ name, page: file, local, session, ready }) => {
    vehicles = (local?.vehicles as Vehicle[] | undefined) ?? [];
    await browser.writeStorage({ local, session });
    const page = await browser.context.newPage();
    try {
      await page.clock.setFixedTime(NOW);
      await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
      if (file === 'options.html') await page.setViewportSize({ width: 640, height: 480 });
      await page.goto(`chrome-extension://${browser.extensionId}/${file}`);
      await ready(page);
      const suffix = colorScheme === 'dark' ? '-dark' : '';
      await page.screenshot({
        path: path.join(SCREENSHOT_DIR, `${name}${suffix}.png`),
        fullPage: true,
        animations: 'disabled',
        caret: 'hide',
      });
    } finally {
      await page.close();
    }
  });
});
