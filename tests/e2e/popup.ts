// What the e2e tests do in the popup, in a driver's words.
import type { Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import { approve, signInAndPickVehicles, type ConnectChoices } from './connect-window';
import type { ExtensionBrowser } from './extension';

export const connectButton = (popup: Page) =>
  popup.getByRole('button', { name: /^Connect (a|another) vehicle$/ });

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
  return picked;
}

export async function alertText(popup: Page): Promise<string> {
  const alert = popup.getByRole('alert');
  await alert.waitFor();
  return alert.innerText();
}

export async function expectCards(popup: Page, names: string[]): Promise<void> {
  for (const name of names) await popup.getByRole('article', { name }).waitFor();
  expect(await popup.getByTestId('vehicle').count()).toBe(names.length);
}

export const card = (popup: Page, name: string) => popup.getByRole('article', { name });

/** A card's figure, e.g. "Doors" → "Locked". */
export function figure(cardLocator: Locator, label: string): Locator {
  return cardLocator
    .locator('dl > div', { has: cardLocator.page().locator('dt', { hasText: label }) })
    .locator('dd');
}

/** Presses Tab until the focused element's text is `name`, as a keyboard user would; fails after 40. */
export async function tabTo(page: Page, name: string): Promise<void> {
  for (let presses = 0; presses < 40; presses++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => document.activeElement?.textContent.trim());
    if (focused === name) return;
  }
  throw new Error(`Tab never reached "${name}"`);
}
