// What the screenshot tests of both browsers share: the fixed vehicles, a stand-in server that
// answers the popup's refresh with them, the store image's backdrop, and the comparison with the
// committed image. Fixed data make every run draw the same pixels.
// To redraw the committed images after a deliberate change: UPDATE_SCREENSHOTS=1 (then review the
// PNGs in the diff before committing them).
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pixelmatch from 'pixelmatch';
import { PNG } from 'pngjs';
import { expect } from 'vitest';
import type { Vehicle } from '../../protocol/server-api';
import { startStandInServer } from '../extension/stand-in-server';
import { makeVehicle } from '../extension/vehicles';
import { E2E_SERVER_PORT, E2E_SERVER_URL, SCREENSHOT_DIR } from './paths';

const UPDATE = process.env.UPDATE_SCREENSHOTS === '1';
/**
 * Per-pixel colour distance under which two pixels count as equal (pixelmatch's scale, 0 to 1);
 * anti-aliased edges are not counted at all, so font rendering noise passes.
 */
const COLOUR_THRESHOLD = 0.1;
/** Pixels that may still differ: one changed letter alone differs in about twenty. */
const MAX_DIFFERENT_PIXELS = 8;

/** The clock of every drawing, two minutes after the vehicles were read. */
export const NOW = new Date('2026-01-15T10:32:00.000Z');

export const tesla = makeVehicle({
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

export const mustang = makeVehicle({
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

export const kia: Vehicle = {
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

/**
 * `vehicles` read as long before `now` as they were before NOW, for a browser whose clock cannot be
 * fixed: the popup shows how old its data is.
 */
export function readAsLongAgo(vehicles: Vehicle[], now = Date.now()): Vehicle[] {
  const shift = (iso: string) => new Date(Date.parse(iso) + now - NOW.getTime()).toISOString();
  return vehicles.map((vehicle) => ({
    ...vehicle,
    fetchedAt: vehicle.fetchedAt && shift(vehicle.fetchedAt),
    readAt: Object.fromEntries(Object.entries(vehicle.readAt).map(([key, iso]) => [key, iso && shift(iso)])),
  }));
}

/** Extension storage of a person signed in to the e2e build's server with `vehicles`. */
export const signedInStorage = (vehicles: Vehicle[]) => ({
  serverSession: { server: E2E_SERVER_URL, token: 'screenshot-session' },
  vehicles,
});

export interface DrawingServer {
  /** What the next refresh answers. */
  vehicles: Vehicle[];
  /** How many refreshes it answered. */
  refreshes(): number;
  close(): Promise<void>;
}

const REFRESH = 'GET /api/vehicles?units=metric';

/**
 * Stands in for the server on the e2e build's port and answers the popup's refresh with the
 * drawing's vehicles: the real server would read the emulator's, which change from run to run.
 */
export async function startDrawingServer(): Promise<DrawingServer> {
  const server = await startStandInServer(E2E_SERVER_PORT);
  const drawing: DrawingServer = {
    vehicles: [],
    refreshes: () => server.requests.filter(({ method, path }) => `${method} ${path}` === REFRESH).length,
    close: () => server.close(),
  };
  server.route(REFRESH, () => ({ body: { vehicles: drawing.vehicles, pendingConnections: 0 } }));
  return drawing;
}

/** The store listing's first line, beside the popup in the store images. */
export const TAGLINE = 'Your car, one click away in the toolbar.';

/**
 * A store screenshot's page around the popup: a plain backdrop with the tagline, the popup below
 * the toolbar on the right, as the browser shows it.
 */
export function storeBackdropCss(colorScheme: 'light' | 'dark'): string {
  const dark = colorScheme === 'dark';
  return `
    html { min-height: 100%; background: ${dark ? '#0e1013' : '#e6eaef'}; }
    html::before {
      content: '${TAGLINE}'; position: absolute; left: 96px; top: 300px; width: 560px;
      font: 600 44px/1.25 system-ui, sans-serif; color: ${dark ? '#e8eaed' : '#1b1f24'};
    }
    body { position: absolute; top: 16px; right: 72px; border-radius: 8px;
           box-shadow: 0 12px 36px rgb(0 0 0 / 0.3); }`;
}

/** Writes the drawing in update mode, else compares it with the committed image of that name. */
export async function checkDrawing(drawn: Uint8Array, name: string): Promise<void> {
  const committed = path.join(SCREENSHOT_DIR, `${name}.png`);
  if (UPDATE) await writeFile(committed, drawn);
  else await expectSameImage(drawn, committed);
}

/** Fails when `drawn` differs from the committed image beyond noise; leaves the drawing and a diff to look at. */
async function expectSameImage(drawn: Uint8Array, committedFile: string): Promise<void> {
  const actual = PNG.sync.read(Buffer.from(drawn));
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
