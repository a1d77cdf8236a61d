// Firefox Add-ons takes 1280×800 screenshots, as the Chrome Web Store does; these are drawn in
// Firefox, so the listing shows the add-on as Firefox renders it. Compared with the committed images
// like the Chromium ones (see ../drawings.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  checkDrawing,
  kia,
  mustang,
  readAsLongAgo,
  signedInStorage,
  startDrawingServer,
  storeBackdropCss,
  tesla,
  type DrawingServer,
} from '../drawings';
import { STEP_TIMEOUT } from '../extension';
import { launchFirefoxExtension, type FirefoxExtension } from './browser';
import { Popup } from './popup';

let server: DrawingServer;
let firefox: FirefoxExtension | undefined;

beforeEach(async () => {
  server = await startDrawingServer();
});
afterEach(async () => {
  await firefox?.close();
  firefox = undefined;
  await server.close();
});

describe('Firefox Add-ons images', () => {
  it.each(['light', 'dark'] as const)('1280×800 screenshot, three vehicles, %s', async (colorScheme) => {
    // The colour scheme is a preference Firefox reads at start: one browser per scheme.
    firefox = await launchFirefoxExtension({ colorScheme });
    // Firefox's clock cannot be fixed from here, so the data's age is.
    server.vehicles = readAsLongAgo([tesla, mustang, kia]);
    await firefox.writeStorage({ local: signedInStorage(server.vehicles) });
    const popup = new Popup(await firefox.openPopup());
    await popup.page.setViewport({ width: 1280, height: 800 });
    await popup.expectVehicles(server.vehicles.map(({ id }) => id));
    await expect.poll(() => server.refreshes(), { timeout: STEP_TIMEOUT }).toBeGreaterThan(0);
    await popup.expectSettled();
    await popup.page.evaluate((css) => {
      const style = document.createElement('style');
      style.textContent = css;
      document.head.append(style);
    }, storeBackdropCss(colorScheme));
    const suffix = colorScheme === 'dark' ? '-dark' : '';
    await checkDrawing(await popup.page.screenshot(), `store-firefox-1280x800${suffix}`);
  });
});
