// The built extension in a real Chromium against the real server and the Smartcar emulator.
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { DEV_EXTENSION_ID } from '../../protocol/extension-identity';
import { approve, deny, signIn, signInAndPickVehicles } from './connect-window';
import { useExtensionAndBackend } from './fixture';
import { withOtherServer } from './other-server';
import { STEP_TIMEOUT } from './extension';
import { E2E_SERVER_URL } from './paths';
import { alertText, connectButton, expectCards, noticeText, openAuthWindow } from './popup';

const e2e = useExtensionAndBackend();

/** Clicks Connect in the popup and returns the auth window that opens. */
const startConnect = (popup: Page) => openAuthWindow(e2e.browser, connectButton(popup));

describe('connecting a vehicle', () => {
  it('loads with the ID the manifest key fixes, which the server allows', () => {
    expect(e2e.browser.extensionId).toBe(DEV_EXTENSION_ID);
  });

  it('shows a card for each vehicle picked in Connect', async () => {
    const popup = await e2e.browser.openPopup();
    await connectButton(popup).waitFor();

    const window = await startConnect(popup);
    const status = popup.getByRole('status').filter({ hasText: 'Connecting…' });
    await status.waitFor();
    expect(await status.innerText()).toContain('Finish signing in in the window that opened');
    const picked = await signInAndPickVehicles(window, { brand: 'TESLA' });
    expect(picked.length).toBeGreaterThan(1);
    await approve(window);

    await expectCards(popup, picked);
    const firstRow = popup.getByRole('article', { name: picked[0] });
    await expect
      .poll(() => firstRow.innerText(), { timeout: STEP_TIMEOUT })
      .toMatch(/\d+% · [\d,]+ km range/);
    expect(await firstRow.getByTestId('lock-state').innerText()).toMatch(/^(Locked|Unlocked)$/);
  });

  it('adds vehicles from a second connect to the same list', async () => {
    const popup = await e2e.browser.openPopup();
    const firstWindow = await startConnect(popup);
    const first = await signInAndPickVehicles(firstWindow, { brand: 'TESLA', keepVehicles: 1 });
    await approve(firstWindow);
    await expectCards(popup, first);

    const secondWindow = await startConnect(popup);
    const second = await signInAndPickVehicles(secondWindow, { brand: 'FORD', keepVehicles: 1 });
    await approve(secondWindow);

    await expectCards(popup, [...first, ...second]);
  });

  it('shows the result in a popup reopened after it was closed mid-flow', async () => {
    const popup = await e2e.browser.openPopup();
    const window = await startConnect(popup);
    await popup.close();
    const picked = await signInAndPickVehicles(window, { brand: 'FORD', keepVehicles: 2 });
    await approve(window);

    const reopened = await e2e.browser.openPopup();
    await expectCards(reopened, picked);
  });

  it('keeps Smartcar tokens out of the browser and the server logs', async () => {
    const popup = await e2e.browser.openPopup();
    const window = await startConnect(popup);
    const picked = await signInAndPickVehicles(window);
    await approve(window);
    await expectCards(popup, picked);

    const stored = JSON.stringify(await e2e.browser.readStorage());
    expect(stored).toContain('"session"');
    const tokens = e2e.stack.emulator.issuedTokens().map(({ token }) => token);
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) {
      expect(stored).not.toContain(token);
      expect(e2e.stack.logs()).not.toContain(token);
    }
  });
});

describe('when connecting does not work out', () => {
  it('explains a denial', async () => {
    const popup = await e2e.browser.openPopup();
    const window = await startConnect(popup);
    await signInAndPickVehicles(window);
    await deny(window);

    expect(await noticeText(popup)).toContain('Connecting was cancelled.');
    expect(await popup.getByRole('alert').count()).toBe(0);
    await connectButton(popup).waitFor();
  });

  it('names a vehicle Smartcar cannot connect', async () => {
    const popup = await e2e.browser.openPopup();
    const window = await startConnect(popup);
    await Promise.all([
      window.waitForEvent('close'),
      signIn(window, { email: 'smartcar@vehicle-incompatible.com' }),
    ]);

    expect(await alertText(popup)).toContain('Your 2019 AUDI A4 cannot be connected.');
  });

  it('names the permission a vehicle lacks when the server requires one', async () => {
    // Electric cars have no tank: with read_fuel required, no Tesla qualifies.
    const scope = 'read_vehicle_info read_odometer required:read_fuel';
    await withOtherServer(e2e.stack, e2e.browser, { SMARTCAR_SCOPE: scope }, async () => {
      const popup = await e2e.browser.openPopup();
      const window = await startConnect(popup);
      await Promise.all([window.waitForEvent('close'), signIn(window, { brand: 'TESLA' })]);

      const alert = await alertText(popup);
      expect(alert).toMatch(/Your 2022 TESLA Model [3Y] cannot be connected\./);
      expect(alert).toContain('It cannot give Car Connect what it requires: Read fuel level and range.');
    });
  });

  it('says how long to wait when the server is rate limiting', async () => {
    await withOtherServer(e2e.stack, e2e.browser, { RATE_LIMIT_PER_MINUTE: '1' }, async () => {
      const popup = await e2e.browser.openPopup();
      const window = await startConnect(popup);
      await window.close();
      await noticeText(popup);

      await connectButton(popup).click();

      await popup.getByRole('alert').getByText('Too many requests in a short time.').waitFor();
      expect(await alertText(popup)).toMatch(/Try again after .+\./);
    });
  });

  it('treats a closed sign-in window as a cancel', async () => {
    const popup = await e2e.browser.openPopup();
    const window = await startConnect(popup);
    await window.close();

    expect(await noticeText(popup)).toContain('Connecting was cancelled.');
  });

  it('says the server cannot be reached when it is down', async () => {
    await e2e.stack.stopServer();
    try {
      const popup = await e2e.browser.openPopup();
      await connectButton(popup).click();

      const alert = await alertText(popup);
      expect(alert).toContain(`Car Connect cannot reach its server at ${E2E_SERVER_URL}.`);
      expect(alert).toContain('Is the server running? Start it with `npm start`.');
      expect(await popup.getByTestId('notice').count()).toBe(1);
    } finally {
      await e2e.stack.startServer();
    }
  });
});
