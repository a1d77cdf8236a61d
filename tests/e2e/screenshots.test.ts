// Screenshots of the main states, light and dark, for the README and the store listing, drawn in
// Chromium; each test compares what it draws with the committed image and fails when an element
// changed (see drawings.ts, also for redrawing).
import { readFile } from 'node:fs/promises';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  NOW,
  TAGLINE,
  checkDrawing,
  kia,
  mustang,
  signedInStorage,
  startDrawingServer,
  storeBackdropCss,
  tesla,
  type DrawingServer,
} from './drawings';
import { launchExtension, type ExtensionBrowser } from './extension';

interface Scene {
  name: string;
  page: 'popup.html' | 'options.html';
  local?: Record<string, unknown>;
  session?: Record<string, unknown>;
  /** Text that shows once the scene is drawn. */
  ready: (page: Page) => Promise<void>;
}

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
  { name: 'popup-connected', page: 'popup.html', local: signedInStorage([tesla, mustang]), ready: refreshed },
  {
    // Chrome shows at most 600 px of a popup: three vehicles and both main buttons fit.
    name: 'popup-three-vehicles',
    page: 'popup.html',
    local: signedInStorage([tesla, mustang, kia]),
    ready: refreshed,
  },
  {
    name: 'popup-reconnect',
    page: 'popup.html',
    local: signedInStorage([{ ...tesla, status: 'reconnect_required' }]),
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
    local: signedInStorage([tesla]),
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

let server: DrawingServer;
let browser: ExtensionBrowser;

beforeAll(async () => {
  server = await startDrawingServer();
  browser = await launchExtension();
});
afterAll(async () => {
  await browser.close();
  await server.close();
});

describe.each(['light', 'dark'] as const)('screenshots in %s', (colorScheme) => {
  it.each(scenes)('$name', async ({ name, page: file, local, session, ready }) => {
    server.vehicles = (local?.vehicles as typeof server.vehicles | undefined) ?? [];
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

// The Chrome Web Store takes 1280×800 screenshots and a 440×280 small promo tile (Firefox's are drawn
// in Firefox, in firefox/store-screenshots.test.ts). The popup is shown as the browser shows it: over a plain
// page, below the toolbar on the right.
describe('store images', () => {
  it.each(['light', 'dark'] as const)('1280×800 screenshot, three vehicles, %s', async (colorScheme) => {
    server.vehicles = [tesla, mustang, kia];
    await browser.writeStorage({ local: signedInStorage(server.vehicles) });
    const page = await newScenePage();
    try {
      await page.clock.setFixedTime(NOW);
      await page.emulateMedia({ colorScheme, reducedMotion: 'reduce' });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`chrome-extension://${browser.extensionId}/popup.html`);
      await refreshed(page);
      await page.addStyleTag({ content: storeBackdropCss(colorScheme) });
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
