// What a driver does with connected vehicles, in a real Chromium against the server and the emulator.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useExtensionAndBackend } from './fixture';
import { approve, signInAndPickVehicles } from './connect-window';
import { STEP_TIMEOUT } from './extension';
import {
  card,
  connectButton,
  connectVehicles,
  expectCards,
  openAuthWindow,
  openDetails,
  tabTo,
} from './popup';

const e2e = useExtensionAndBackend({ env: { VEHICLE_DATA_MAX_AGE_SECONDS: '0' } });

/** Waits for the badge the service worker sets. */
async function expectBadge(text: string): Promise<void> {
  await expect.poll(async () => (await e2e.browser.readBadge()).text, { timeout: STEP_TIMEOUT }).toBe(text);
}

describe('a connected vehicle', () => {
  it('locks and unlocks through one control that offers the opposite of the state', async () => {
    const popup = await e2e.browser.openPopup();
    const [name = ''] = await connectVehicles(e2e.browser, popup, { brand: 'TESLA', keepVehicles: 1 });
    const tesla = card(popup, name);
    await expectBadge('1');
    const state = tesla.getByTestId('lock-state');
    const toggle = tesla.getByTestId('lock-toggle');
    await expect.poll(() => state.innerText(), { timeout: STEP_TIMEOUT }).toMatch(/^(Locked|Unlocked)$/);
    const lockedAtFirst = (await state.innerText()) === 'Locked';
    expect(await toggle.innerText()).toBe(lockedAtFirst ? 'Unlock' : 'Lock');

    // Smartcar takes its time, as a real car does.
    e2e.stack.emulator.injectFault({ endpoint: lockedAtFirst ? 'unlock' : 'lock', delayMs: 1500, times: 1 });
    await toggle.click();
    await tesla
      .getByRole('status')
      .getByText(lockedAtFirst ? 'Unlocking…' : 'Locking…')
      .waitFor();
    expect(await toggle.isDisabled()).toBe(true);
    await expect
      .poll(() => state.innerText(), { timeout: STEP_TIMEOUT })
      .toBe(lockedAtFirst ? 'Unlocked' : 'Locked');
    await expect.poll(() => toggle.innerText()).toBe(lockedAtFirst ? 'Lock' : 'Unlock');

    await toggle.click();
    await expect
      .poll(() => state.innerText(), { timeout: STEP_TIMEOUT })
      .toBe(lockedAtFirst ? 'Locked' : 'Unlocked');
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

    const details = await openDetails(card(popup, first));
    await details.getByRole('button', { name: 'Disconnect' }).click();
    const question = details.getByRole('group', { name: 'Disconnect' });
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

    await popup.getByTestId('sign-out').click();
    await popup.getByRole('group', { name: 'Sign out' }).getByRole('button', { name: 'Sign out' }).click();

    await popup.getByText('Signed out. No vehicle is connected.').waitFor();
    await connectButton(popup).getByText('Connect a vehicle').waitFor();
    expect(await popup.getByTestId('vehicle').count()).toBe(0);
    await expectBadge('');
    const { local } = await e2e.browser.readStorage();
    expect(local.session).toBeUndefined();
  });
});

describe('a reopened popup', () => {
  it('shows the vehicles, without their stale age, while the page is still loading, and works once it has loaded', async () => {
    const first = await e2e.browser.openPopup();
    const [name = ''] = await connectVehicles(e2e.browser, first, { brand: 'TESLA', keepVehicles: 1 });
    await expect
      .poll(() => card(first, name).getByTestId('lock-state').innerText(), { timeout: STEP_TIMEOUT })
      .toMatch(/^(Locked|Unlocked)$/);
    await first.close();

    const popup = await e2e.browser.context.newPage();
    // Notes how far the page had loaded when the first vehicle entered it: the popup's modules run
    // only once it is parsed, so a vehicle there while it is still loading came from the picture.
    await popup.addInitScript(() => {
      const observer = new MutationObserver(() => {
        if (!document.querySelector('[data-testid="vehicle"]')) return;
        document.documentElement.dataset.vehicleWhile = document.readyState;
        // The picture's "Read … ago" was right when it was drawn: hidden until the app redraws it.
        const age = document.querySelector('[data-age]');
        document.documentElement.dataset.ageShown = age ? getComputedStyle(age).visibility : 'none';
        observer.disconnect();
      });
      observer.observe(document, { childList: true, subtree: true });
    });
    await popup.goto(`chrome-extension://${e2e.browser.extensionId}/popup.html`);

    await expectCards(popup, [name]);
    expect(
      await popup.evaluate(() => Object.fromEntries(Object.entries(document.documentElement.dataset))),
    ).toEqual({
      vehicleWhile: 'loading',
      ageShown: 'hidden',
    });
    await expect.poll(() => popup.getByText(/^Read .+/).isVisible()).toBe(true);
    const state = card(popup, name).getByTestId('lock-state');
    const before = await state.innerText();
    await card(popup, name).getByTestId('lock-toggle').click();
    await expect
      .poll(() => state.innerText(), { timeout: STEP_TIMEOUT })
      .toBe(before === 'Locked' ? 'Unlocked' : 'Locked');
  });
});

describe('from the keyboard', () => {
  it('locks or unlocks, opens the details, and cancels a disconnect with Escape', async () => {
    const popup = await e2e.browser.openPopup();
    const [name = ''] = await connectVehicles(e2e.browser, popup, { brand: 'KIA', keepVehicles: 1 });
    const kia = card(popup, name);
    await popup.bringToFront();
    const offered = await kia.getByTestId('lock-toggle').innerText();

    await tabTo(popup, offered);
    await popup.keyboard.press('Enter');
    await kia
      .getByRole('status')
      .getByText(offered === 'Lock' ? 'Locked just now.' : 'Unlocked just now.')
      .waitFor();

    await tabTo(popup, `Details of the ${name}`);
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

    // Automatic reads pace themselves to the month's budget; Refresh reads now and finds the grant gone.
    await popup.close();
    const reopened = await e2e.browser.openPopup();
    await reopened.getByRole('button', { name: 'Refresh' }).click();
    const stale = card(reopened, name);
    await stale.getByText('Needs reconnecting').waitFor();
    expect(await stale.innerText()).toContain('Smartcar no longer accepts this connection');
    await expectBadge('!');
    expect((await e2e.browser.readBadge()).title).toBe('A vehicle needs reconnecting');

    const window = await openAuthWindow(e2e.browser, stale.getByRole('button', { name: 'Reconnect' }));
    expect(new URL(window.url()).searchParams.get('make')).toBe('TESLA');
    await signInAndPickVehicles(window, { email, makeChosen: true, keepVehicles: 1 });
    await approve(window);

    await stale.getByText('Needs reconnecting').waitFor({ state: 'detached' });
    await expectCards(reopened, [name]);
    await expectBadge('1');
  });
});
