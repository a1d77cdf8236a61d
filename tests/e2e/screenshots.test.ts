// Screenshots of the main states, light and dark, for the README and the store listing. Fixed data
// from a stand-in server and a fixed clock make every run draw the same pixels, so each test
// compares what it draws with the committed image and fails when an element changed.
// To redraw the committed images after a deliberate change: UPDATE_SCREENSHOTS=1 (then review the
// PNGs in the diff before committing them).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pixelmatch from 'pixelmatch';
import type { Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Vehicle } from '../../protocol/server-api';
import { startTokenServer, type TokenServer } from '../extension/token-server';
import { makeVehicle } from '../extension/vehicles';
import { launchExtension, type ExtensionBrowser } from './extension';
import { E2E_SERVER_PORT, E2E_SERVER_URL, SCREENSHOT_DIR } from './paths';

const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
/**
 * Per-pixel colour distance under which two pixels count as equal (pixelmatch's scale, 0 to 1);
 * anti-aliased edges are not counted at all, so font rendering noise passes.
 */
const COLOUR_THRESHOLD = 0.1;
/** Pixels that may still differ: one changed letter alone differs in about twenty. */
const MAX_DIFFERENT_PIXELS = 8;

const NOW = new Date('2026-01-15T10:32:00.000Z');

const tesla = makeVehicle({
  make: 'TESLA',
  year: 2022,
  permissions: [
    'read_vehicle_info',
    'read_odometer',
    'read_battery',
    'read_location',
    'read_security',
    'control_security',
  ],
  data: {
    odometer: { distance: 23817 },
    battery: { percentRemaining: 0.72, range: 341 },
    location: { latitude: 37.7749, longitude: -122.4194 },
    security: { isLocked: true },
  },
});

const mustang = makeVehicle({
  id: 'veh-mustang',
  make: 'FORD',
  model: 'Mustang',
  permissions: ['read_vehicle_info', 'read_odometer', 'read_fuel', 'read_security'],
  data: {
    odometer: { distance: 41205 },
    fuel: { percentRemaining: 0.38, range: 214, amountRemaining: 23 },
    security: { isLocked: false },
  },
});

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

/**
 * A page that draws its scene from storage alone: the popup's first render would otherwise come
 * from its copy of the previous scene, which may pass the scene's `ready` check for a frame.
 */
async function newScenePage(): Promise<Page> {
  const page = await browser.context.newPage();
  await page.addInitScript(() => {
    localStorage.clear();
  });
  return page;
}

let server: TokenServer;
let browser: ExtensionBrowser;
/** What the stand-in server answers to a refresh: the vehicles of the scene being drawn. */
let vehicles: Vehicle[] = [];

beforeAll(async () => {
  server = await startTokenServer(E2E_SERVER_PORT);
  server.route('GET /api/vehicles?units=metric', () => ({ body: { vehicles, pendingConnections: 0 } }));
  browser = await launchExtension();
});
afterAll(async () => {
  await browser.close();
  await server.close();
});

describe.each(['light', 'dark'] as const)('screenshots in %s', (colorScheme) => {
  it.each(scenes)('$name', async ({ name, page: file, local, session, ready }) => {
    vehicles = (local?.vehicles as Vehicle[] | undefined) ?? [];
    await browser.writeStorage({ local, session });
    const page = await newScenePage();
    try {
      await page.clock.setFixedTime(NOW);
      await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
      if (file === 'options.html') await page.setViewportSize({ width: 640, height: 480 });
      await page.goto(`chrome-extension://${browser.extensionId}/${file}`);
      await ready(page);
      const suffix = colorScheme === 'dark' ? '-dark' : '';
      const drawn = await page.screenshot({ fullPage: true, animations: 'disabled', caret: 'hide' });
      await checkDrawing(drawn, `${name}${suffix}`);
    } finally {
      await page.close();
    }
  });
});

/** The store listing's first line, beside the popup in the store images. */
const TAGLINE = 'Your car, one click away in the toolbar.';

/** Writes the drawing in update mode, else compares it with the committed image of that name. */
async function checkDrawing(drawn: Buffer, name: string): Promise<void> {
  const committed = path.join(SCREENSHOT_DIR, `${name}.png`);
  if (UPDATE) await writeFile(committed, drawn);
  else await expectSameImage(drawn, committed);
}

// The Chrome Web Store takes 1280×800 screenshots and a 440×280 small promo tile; Firefox Add-ons
// takes the same 1280×800 screenshots. The popup is shown as the browser shows it: over a plain
// page, below the toolbar on the right.
describe('store images', () => {
  it.each(['light', 'dark'] as const)('1280×800 screenshot, three vehicles, %s', async (colorScheme) => {
    vehicles = [tesla, mustang, kia];
    await browser.writeStorage({ local: signedIn(vehicles) });
    const page = await newScenePage();
    try {
      await page.clock.setFixedTime(NOW);
      await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`chrome-extension://${browser.extensionId}/popup.html`);
      await refreshed(page);
      await page.addStyleTag({
        content: `
          html { min-height: 100%; background: ${colorScheme === 'dark' ? '#0e1013' : '#e6eaef'}; }
          html::before {
            content: '${TAGLINE}'; position: absolute; left: 96px; top: 300px; width: 560px;
            font: 600 44px/1.25 system-ui, sans-serif; color: ${colorScheme === 'dark' ? '#e8eaed' : '#1b1f24'};
          }
          body { position: absolute; top: 16px; right: 72px; border-radius: 8px;
                 box-shadow: 0 12px 36px rgb(0 0 0 / 0.3); }`,
      });
      const suffix = colorScheme === 'dark' ? '-dark' : '';
      await checkDrawing(
        await page.screenshot({ animations: 'disabled', caret: 'hide' }),
        `store-1280x800${suffix}`,
      );
    } finally {
      await page.close();
    }
  });

  it('440×280 small promo tile', async () => {
    const icon = (await readFile('public/icon/128.png')).toString('base64');
    const page = await browser.context.newPage();
    try {
      await page.setViewportSize({ width: 440, height: 280 });
      await page.setContent(`<!doctype html>
        <body style="margin:0;height:280px;display:flex;align-items:center;gap:24px;padding:0 36px;
                     box-sizing:border-box;background:#0b63ce;color:#fff;font-family:system-ui,sans-serif">
          <img src="data:image/png;base64,${icon}" width="96" height="96" alt="">
          <div><div style="font:700 32px/1.2 system-ui,sans-serif;white-space:nowrap">Car Connect</div>
          <div style="font:500 17px/1.35 system-ui,sans-serif;margin-top:8px">${TAGLINE}</div></div>
        </body>`);
      await checkDrawing(
        await page.screenshot({ animations: 'disabled', caret: 'hide' }),
        'store-promo-440x280',
      );
    } finally {
      await page.close();
    }
  });
});

/** Fails when `drawn` differs from the committed image beyond noise; leaves the drawing and a diff to look at. */
async function expectSameImage(drawn: Buffer, committedFile: string): Promise<void> {
  const actual = PNG.sync.read(drawn);
  const expected = PNG.sync.read(await readFile(committedFile));
  const { width, height } = expected;
  const hint = `redraw with UPDATE_SCREENSHOTS=1 if the change is meant (${path.basename(committedFile)})`;
  expect({ width: actual.width, height: actual.height }, hint).toEqual({ width, height });
  const diff = new PNG({ width, height });
  const different = pixelmatch(expected.data, actual.data, diff.data, width, height, {
    threshold: COLOUR_THRESHOLD,
  });
  if (different > MAX_DIFFERENT_PIXELS) {
    const dir = await mkdtemp(path.join(tmpdir(), 'car-connect-screenshot-'));
    await writeFile(path.join(dir, 'drawn.png'), drawn);
    await writeFile(path.join(dir, 'diff.png'), PNG.sync.write(diff));
    expect.fail(`${different} pixels differ (drawing and diff in ${dir}); ${hint}`);
  }
}
