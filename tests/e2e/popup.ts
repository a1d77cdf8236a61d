// What the e2e tests do in the popup, in a driver's words.
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { approve, signInAndPickVehicles, type ConnectChoices } from './connect-window';
import { STEP_TIMEOUT, type ExtensionBrowser } from './extension';

export const connectButton = (popup: Page) => popup.getByTestId('connect');

/** Clicks the button (Connect, Reconnect) and returns the auth window that opens. */
export async function openAuthWindow(browser: ExtensionBrowser, button: Locator): Promise<Page> {
  const [window] = await Promise.all([browser.nextPage(), button.click()]);
  await window.waitForLoadState();
  return window;
}

/** Connects the vehicles Connect offers for these choices and returns their names once their cards show. */
export async function connectVehicles(
  browser: ExtensionBrowser,
  popup: Page,
  choices: ConnectChoices = {},
): Promise<string[]> {
  const window = await openAuthWindow(browser, connectButton(popup));
  const picked = await signInAndPickVehicles(window, choices);
  await approve(window);
  await expectCards(popup, picked);
  await expectReadIn(popup);
  return picked;
}

/** Waits until no row is busy: the server has read every vehicle (rows come before their first read). */
async function expectReadIn(popup: Page): Promise<void> {
  await expect
    .poll(() => popup.locator('[data-testid="vehicle"][aria-busy="true"]').count(), { timeout: STEP_TIMEOUT })
    .toBe(0);
}

export async function alertText(popup: Page): Promise<string> {
  const alert = popup.getByRole('alert');
  await alert.waitFor();
  return alert.innerText();
}

/** The popup's one notice, an alert or a neutral status. */
export async function noticeText(popup: Page): Promise<string> {
  const notice = popup.getByTestId('notice');
  await notice.waitFor();
  return notice.innerText();
}

export async function expectCards(popup: Page, names: string[]): Promise<void> {
  for (const name of names) await popup.getByRole('article', { name }).waitFor();
  expect(await popup.getByTestId('vehicle').count()).toBe(names.length);
}

export const card = (popup: Page, name: string) => popup.getByRole('article', { name });

/** Opens a row's details (once) and returns them. */
export async function openDetails(row: Locator): Promise<Locator> {
  const toggle = row.getByTestId('vehicle-details-toggle');
  if ((await toggle.getAttribute('aria-expanded')) !== 'true') await toggle.click();
  return row.locator('.details');
}

/** A figure in a row's details, e.g. "Odometer" → "12,346 km". */
export async function figure(row: Locator, label: string): Promise<Locator> {
  const details = await openDetails(row);
  return details.locator('dl > div', { has: row.page().locator('dt', { hasText: label }) }).locator('dd');
}

/** Presses Tab until the focused element's text or label is `name`, as a keyboard user would; fails after 40. */
export async function tabTo(page: Page, name: string): Promise<void> {
  for (let presses = 0; presses < 40; presses++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement;
      return [element?.textContent.trim(), element?.getAttribute('aria-label')];
    });
    if (focused.includes(name)) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}
