// The built add-on in a real Firefox against the real server and the Smartcar emulator: the main
// flows, which rest on the extension APIs in Firefox: messages from the popup to the background
// (connect, lock, sign out), answers through storage, and identity's auth window.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { stableUuid } from '../../../emulator/fleet';
import { GECKO_ID, firefoxRedirectUrl } from '../../../protocol/extension-identity';
import { useBackendAndBrowser } from '../fixture';
import { launchFirefoxExtension } from './browser';
import { approve, deny, signInAndPickVehicles, type ConnectChoices } from './connect-window';
import { Popup } from './popup';

const e2e = useBackendAndBrowser(launchFirefoxExtension);

async function openPopup(): Promise<Popup> {
  return new Popup(await e2e.browser.openPopup());
}

/** Connects through Connect in the auth window and returns the ids of the vehicles picked there. */
async function connectVehicles(popup: Popup, choices: Omit<ConnectChoices, 'email'>): Promise<string[]> {
  const email = `driver-${randomUUID()}@example.com`;
  const opened = e2e.browser.nextConnectWindow(e2e.stack.emulator.origin);
  await popup.connect();
  const window = await opened;
  const vins = await signInAndPickVehicles(window, { ...choices, email });
  await approve(window);
  // The emulator derives a vehicle's id from the account and the VIN.
  return vins.map((vin) => stableUuid(`${email}|${vin}`));
}

describe('the add-on in Firefox', () => {
  it('gets the redirect URL that its add-on ID fixes, which the test client registers', async () => {
    expect(await e2e.browser.redirectUrl()).toBe(firefoxRedirectUrl(GECKO_ID));
  });

  it('shows each vehicle picked in Connect, and keeps the Smartcar tokens out of storage', async () => {
    const popup = await openPopup();
    const ids = await connectVehicles(popup, { brand: 'TESLA' });
    expect(ids.length).toBeGreaterThan(1);
    await popup.expectVehicles(ids);

    const stored = JSON.stringify(await e2e.browser.readStorage());
    expect(stored).toContain('"session"');
    const tokens = e2e.stack.emulator.issuedTokens().map(({ token }) => token);
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) expect(stored).not.toContain(token);
  });

  it('shows the stored vehicles in a reopened popup while the server is down', async () => {
    const popup = await openPopup();
    const ids = await connectVehicles(popup, { brand: 'FORD', keepVehicles: 2 });
    await popup.expectVehicles(ids);
    await popup.page.close();

    await e2e.stack.stopServer();
    try {
      const reopened = await openPopup();
      await reopened.expectVehicles(ids);
    } finally {
      await e2e.stack.startServer();
    }
  });

  it('locks and unlocks a vehicle with its one lock control', async () => {
    const popup = await openPopup();
    const [id = ''] = await connectVehicles(popup, { brand: 'TESLA', keepVehicles: 1 });
    await popup.expectLockState(id, 'Locked');

    await popup.toggleLock(id, 'Unlock');
    await popup.expectLockState(id, 'Unlocked');
    await popup.toggleLock(id, 'Lock');
    await popup.expectLockState(id, 'Locked');
    expect(e2e.stack.emulator.calls().byEndpoint).toMatchObject({ unlock: 1, lock: 1 });
  });

  it('shows a notice after Deny in Connect and offers Connect again', async () => {
    const popup = await openPopup();
    const opened = e2e.browser.nextConnectWindow(e2e.stack.emulator.origin);
    await popup.connect();
    const window = await opened;
    await signInAndPickVehicles(window, { email: `driver-${randomUUID()}@example.com` });
    await deny(window);

    expect(await popup.noticeText()).toMatch(/You chose not to share your vehicle|Connecting was cancelled/);
    await popup.expectConnectOffered();
    expect(await popup.vehicleIds()).toEqual([]);
  });

  it('signs out: no vehicle left, Connect offered, and no session in storage', async () => {
    const popup = await openPopup();
    await popup.expectVehicles(await connectVehicles(popup, { brand: 'FORD', keepVehicles: 2 }));

    await popup.signOut();

    await popup.expectVehicles([]);
    await popup.expectConnectOffered();
    const { local } = await e2e.browser.readStorage();
    expect(local.session).toBeUndefined();
  });
});
