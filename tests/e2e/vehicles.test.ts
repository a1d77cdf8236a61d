// What a driver does with connected vehicles, in a real Chromium against the server and the emulator.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useExtensionAndBackend } from './fixture';
import { approve, signInAndPickVehicles } from './connect-window';
import { STEP_TIMEOUT } from './extension';
import { card, connectButton, connectVehicles, expectCards, figure, openAuthWindow, tabTo } from './popup';

// Vehicle data is read from Smartcar on every request, so a dead refresh token shows at once.
const e2e = useExtensionAndBackend({ VEHICLE_DATA_MAX_AGE_SECONDS: '0' });

/** Waits for the badge the service worker sets. */
async function expectBadge(text: string): Promise<void> {
  await expect.poll(async () => (await e2e.browser.readBadge()).text, { timeout: STEP_TIMEOUT }).toBe(text);
}

describe('a connected vehicle', () => {
  it('locks and unlocks, showing the pending state and the result', async () => {
    const popup = await e2e.browser.openPopup();
    const [name = ''] = await connectVehicles(e2e.browser, popup, { brand: 'TESLA', keepVehicles: 1 });
    const tesla = card(popup, name);
    await expectBadge('1');

    // Smartcar takes its time, as a real car does.
    e2e.stack.emulator.injectFault({ endpoint: 'unlock', delayMs: 1500, times: 1 });
    await tesla.getByRole('button', { name: 'Unlock' }).click();
    await tesla.getByRole('status').getByText('Unlocking…').waitFor();
    expect(await tesla.getByRole('button', { name: 'Lock', exact: true }).isDisabled()).toBe(true);
    await tesla.getByRole('status').getByText('Unlocked just now.').waitFor();
    expect(await figure(tesla, 'Doors').innerText()).toBe('Unlocked');

    await tesla.getByRole('button', { name: 'Lock', exact: true }).click();
    await tesla.getByRole('status').getByText('Locked just now.').waitFor();
    expect(await figure(tesla, 'Doors').innerText()).toBe('Locked');
    expect(e2e.stack.emulator.calls().byEndpoint).toMatchObject({ unlock: 1, lock: 1 });
  });

  it('disconnects one vehicle after asking, and keeps the other', async () => {
    const popup = await e2e.browser.openPopup();
    const [first = '', second = ''] = await connectVehicles(e2e.browser, popup, {
      brand: 'TESLA',
      keepVehicles: 2,
    });
    await expectBadge('2');
    const before = e2e.stack.emulator.calls().byEndpoint.disconnect ?? 0;

    await card(popup, first).getByRole('button', { name: 'Disconnect' }).click();
    const question = card(popup, first).getByRole('group', { name: 'Disconnect' });
    expect(await question.innerText()).toContain(`Disconnect the ${first}?`);
    await question.getByRole('button', { name: 'Disconnect' }).click();

    await card(popup, first).waitFor({ state: 'detached' });
    await expectCards(popup, [second]);
    await expectBadge('1');
    expect(e2e.stack.emulator.calls().byEndpoint.disconnect).toBe(before + 1);
  });

  it('signs out of everything after asking', async () => {
    const popup = await e2e.browser.openPopup();
    await connectVehicles(e2e.browser, popup, { brand: 'FORD', keepVehicles: 2 });

    await popup.getByRole('button', { name: 'Sign out' }).click();
    await popup.getByRole('group', { name: 'Sign out' }).getByRole('button', { name: 'Sign out' }).click();

    await popup.getByText('Signed out. No vehicle is connected.').waitFor();
    await connectButton(popup).getByText('Connect a vehicle').waitFor();
    expect(await popup.getByTestId('vehicle').count()).toBe(0);
    await expectBadge('');
    const { local } = await e2e.browser.readStorage();
    expect(local.session).toBeUndefined();
  });
});

describe('from the keyboard', () => {
  it('locks, opens the permissions, and cancels a disconnect with Escape', async () => {
    const popup = await e2e.browser.openPopup();
    const [name = ''] = await connectVehicles(e2e.browser, popup, { brand: 'KIA', keepVehicles: 1 });
    const kia = card(popup, name);
    await popup.bringToFront();

    await tabTo(popup, 'Lock');
    await popup.keyboard.press('Enter');
    await kia.getByRole('status').getByText('Locked just now.').waitFor();

    await tabTo(popup, 'Permissions');
    await popup.keyboard.press('Enter');
    await kia.getByText('Read odometer').waitFor();

    await tabTo(popup, 'Disconnect');
    await popup.keyboard.press('Enter');
    await kia.getByRole('group', { name: 'Disconnect' }).waitFor();
    const focused = () => popup.evaluate(() => document.activeElement?.textContent);
    await expect.poll(focused).toBe('Cancel');
    await popup.keyboard.press('Escape');

    await expect.poll(focused).toBe('Disconnect');
    await expectCards(popup, [name]);
  });
});

describe('a connection Smartcar no longer accepts', () => {
  it('offers Reconnect, which runs Connect for that make and brings the vehicle back', async () => {
    const email = `driver-${randomUUID()}@example.com`;
    const popup = await e2e.browser.openPopup();
    const [name = ''] = await connectVehicles(e2e.browser, popup, { brand: 'TESLA', email, keepVehicles: 1 });
    for (const { token, kind } of e2e.stack.emulator.issuedTokens()) {
      if (kind === 'refresh') e2e.stack.emulator.revokeToken(token);
      else e2e.stack.emulator.expireToken(token);
    }

    await popup.getByRole('button', { name: 'Refresh' }).click();
    const stale = card(popup, name);
    await stale.getByText('Needs reconnecting').waitFor();
    expect(await stale.innerText()).toContain('Smartcar no longer accepts this connection');
    await expectBadge('!');
    expect((await e2e.browser.readBadge()).title).toBe('A vehicle needs reconnecting');

    const window = await openAuthWindow(e2e.browser, stale.getByRole('button', { name: 'Reconnect' }));
    expect(new URL(window.url()).searchParams.get('make')).toBe('TESLA');
    await signInAndPickVehicles(window, { email, makeChosen: true, keepVehicles: 1 });
    await approve(window);

    await stale.getByText('Needs reconnecting').waitFor({ state: 'detached' });
    await expectCards(popup, [name]);
    await expectBadge('1');
  });
});
