// Drives the emulator's Connect pages in the window launchWebAuthFlow opened in Firefox. It is an
// ordinary web page, so Puppeteer's locators, which wait on page events, work there.
import type { Page } from 'puppeteer-core';
import { STEP_TIMEOUT } from '../extension';

export interface ConnectChoices {
  brand?: string;
  /** The login; it decides the account, and with it the vehicle ids. */
  email: string;
  /** Leaves only the first offered vehicles checked; every compatible one by default. */
  keepVehicles?: number;
}

/** Goes through the preamble, brand and login pages. */
async function signIn(window: Page, { brand = 'TESLA', email }: ConnectChoices): Promise<void> {
  await window.locator('button#continue-button').click();
  await window.locator(`button#${brand}.brand-list-item`).click();
  await window.locator('input#username').fill(email);
  await window.locator('input#password').fill('any password');
  await window.locator('#sign-in-button').click();
}

/** Signs in up to the approval page and returns the VINs of the vehicles left checked. */
export async function signInAndPickVehicles(window: Page, choices: ConnectChoices): Promise<string[]> {
  await signIn(window, choices);
  await window.locator('input[name="vehicle"]').wait();
  const checked = await window.$$eval('input[name="vehicle"]:checked', (boxes) =>
    boxes.map((box) => ({ id: box.id, vin: box.getAttribute('data-vin') ?? '' })),
  );
  const keep = checked.slice(0, choices.keepVehicles ?? checked.length);
  for (const { id } of checked.slice(keep.length)) await window.locator(`input#${id}`).click();
  return keep.map(({ vin }) => vin);
}

/** Resolves when Firefox closes the window, as it does once Connect redirects to the add-on. */
function closed(window: Page): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`The Connect window at ${window.url()} did not close.`));
    }, STEP_TIMEOUT);
    window.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function approve(window: Page): Promise<void> {
  await Promise.all([closed(window), window.locator('button#approval-button').click()]);
}

export async function deny(window: Page): Promise<void> {
  await Promise.all([closed(window), window.locator('button#deny-button').click()]);
}
