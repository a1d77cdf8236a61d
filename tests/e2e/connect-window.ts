// Drives the emulator's Connect pages inside the launchWebAuthFlow window, as a driver would.
import type { Page } from 'playwright-core';
import { randomUUID } from 'node:crypto';
import { makeName } from '../../utils/makes';

export interface ConnectChoices {
  brand?: string;
  email?: string;
  /** Leaves only the first offered vehicles checked; every compatible one by default. */
  keepVehicles?: number;
  /** Connect was opened at a make (Reconnect, a preferred make), so it shows no brand list. */
  makeChosen?: boolean;
}

/** Goes through the preamble, brand and login pages; a fresh account unless an email is given. */
export async function signIn(
  window: Page,
  { brand = 'TESLA', email, makeChosen = false }: ConnectChoices = {},
): Promise<void> {
  await window.click('button#continue-button');
  if (!makeChosen) await window.click(`button#${brand}.brand-list-item`);
  await window.fill('input#username', email ?? `driver-${randomUUID()}@example.com`);
  await window.fill('input#password', 'any password');
  await window.click('#sign-in-button');
}

/** Signs in up to the approval page and returns the names of the vehicles left checked. */
export async function signInAndPickVehicles(window: Page, choices: ConnectChoices = {}): Promise<string[]> {
  await signIn(window, choices);
  const checked = window.locator('input[name="vehicle"]:checked');
  await checked.first().waitFor();
  // Ids, not the live `:checked` list, which shrinks as boxes are unchecked.
  const ids = await checked.evaluateAll((boxes) => boxes.map((box) => box.id));
  const keep = ids.slice(0, choices.keepVehicles ?? ids.length);
  for (const id of ids.slice(keep.length)) await window.locator(`input#${id}`).uncheck();

  const names: string[] = [];
  for (const id of keep) {
    // The label reads "<year> <MAKE> <model> VIN …"; the popup's row is named "<Make> <model>".
    const label = await window.locator(`label[for="${id}"]`).innerText();
    const [, make = '', model = ''] = /^\d{4} (\S+) (.*?)\s*VIN/s.exec(label) ?? [];
    names.push(`${makeName(make)} ${model}`);
  }
  return names;
}

export async function approve(window: Page): Promise<void> {
  await Promise.all([window.waitForEvent('close'), window.click('button#approval-button')]);
}

export async function deny(window: Page): Promise<void> {
  await Promise.all([window.waitForEvent('close'), window.click('button#deny-button')]);
}
