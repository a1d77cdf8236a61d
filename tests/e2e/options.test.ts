// The options page in a real Chromium: units, Connect options, the server address, and what a wrong server looks like.
import { describe, expect, it } from 'vitest';
import { makeName } from '../../utils/makes';
import { approve, signIn } from './connect-window';
import { useExtensionAndBackend } from './fixture';
import { STEP_TIMEOUT } from './extension';
import { withOtherServer } from './other-server';
import { E2E_SERVER_URL } from './paths';
import {
  alertText,
  card,
  connectButton,
  connectVehicles,
  expectCards,
  figure,
  openAuthWindow,
} from './popup';

const e2e = useExtensionAndBackend();

describe('options', () => {
  it('shows distances in miles once imperial units are chosen', async () => {
    const popup = await e2e.browser.openPopup();
    const [name = ''] = await connectVehicles(e2e.browser, popup, { brand: 'TESLA', keepVehicles: 1 });
    const odometer = await figure(card(popup, name), 'Odometer');
    expect(await odometer.innerText()).toMatch(/ km$/);

    const options = await e2e.browser.openOptions();
    await options.getByRole('radio', { name: 'Imperial (miles)' }).check();

    await expect.poll(() => odometer.innerText(), { timeout: STEP_TIMEOUT }).toMatch(/ mi$/);
    expect(await card(popup, name).locator('.energy').innerText()).toMatch(/ mi range$/);
  });

  it('opens Connect at the preferred make, for one vehicle', async () => {
    const options = await e2e.browser.openOptions();
    await options.getByRole('combobox', { name: 'Car brand' }).selectOption('FORD');
    await options.getByRole('checkbox', { name: 'Connect one vehicle at a time' }).check();

    const popup = await e2e.browser.openPopup();
    const window = await openAuthWindow(e2e.browser, connectButton(popup));
    const query = new URL(window.url()).searchParams;
    expect({ make: query.get('make'), single: query.get('single_select') }).toEqual({
      make: 'FORD',
      single: 'true',
    });
    await signIn(window, { makeChosen: true });
    const choice = window.locator('input[name="vehicle"][type="radio"]:checked');
    await choice.waitFor();
    const label = await window.locator(`label[for="${(await choice.getAttribute('id')) ?? ''}"]`).innerText();
    await approve(window);

    // The label reads "<year> <MAKE> <model> VIN …"; the popup's row is named "<Make> <model>".
    const [, make = '', model = ''] = /^\d{4} (\S+) (.*?)\s*VIN/s.exec(label) ?? [];
    await expectCards(popup, [`${makeName(make)} ${model}`]);
  });

  it('saves a server address only when a Car Connect server answers there', async () => {
    const options = await e2e.browser.openOptions();
    const address = options.getByRole('textbox', { name: 'Server address' });
    const status = options.locator('#server-status');

    await address.fill('http://127.0.0.1:9');
    await address.press('Enter');
    await status.getByText(/No Car Connect server answered at http:\/\/127\.0\.0\.1:9/).waitFor();
    expect(await address.getAttribute('aria-invalid')).toBe('true');

    await address.fill(`${E2E_SERVER_URL}/`);
    await options.getByRole('button', { name: 'Save' }).click();
    await status.getByText(`Saved. Car Connect now uses ${E2E_SERVER_URL}.`).waitFor();
    expect(await address.getAttribute('aria-invalid')).toBe('false');
  });
});

describe('a server that does not accept this extension', () => {
  it('says so and points to the options page', async () => {
    await withOtherServer(e2e.stack, e2e.browser, { EXTENSION_IDS: 'someone-else@example.org' }, async () => {
      const popup = await e2e.browser.openPopup();
      await connectButton(popup).click();

      expect(await alertText(popup)).toContain('The server does not accept this copy of Car Connect.');
      const [options] = await Promise.all([
        e2e.browser.nextPage(),
        popup.getByRole('alert').getByRole('button', { name: 'Options' }).click(),
      ]);
      await options.getByRole('heading', { name: 'Car Connect options' }).waitFor();
    });
  });
});
