// The popup in a driver's words, through its test ids (and the visible text of the lock controls)
// only: the one place to change when the popup's markup does.
import type { Page } from 'puppeteer-core';
import { expect } from 'vitest';
import { STEP_TIMEOUT } from '../extension';

const byTestId = (testId: string) => `[data-testid="${testId}"]`;
const vehicleRow = (vehicleId: string) => `${byTestId('vehicle')}[data-vehicle-id="${vehicleId}"]`;

/**
 * Firefox sends no events from extension pages, so nothing here can wait on one: every wait polls
 * the page. Reads `selector`'s text, or null while it is not there.
 */
function textOf(page: Page, selector: string): Promise<string | null> {
  return page.evaluate(
    (query) => document.querySelector<HTMLElement>(query)?.innerText.trim() ?? null,
    selector,
  );
}

const poll = <T>(read: () => Promise<T>) => expect.poll(read, { timeout: STEP_TIMEOUT, interval: 100 });

export class Popup {
  constructor(readonly page: Page) {}

  /** Clicks an element once it is there and enabled. */
  private async click(selector: string): Promise<void> {
    await poll(() =>
      this.page.evaluate((query) => {
        const element = document.querySelector(query);
        return element !== null && !(element as HTMLButtonElement).disabled;
      }, selector),
    ).toBe(true);
    await this.page.click(selector);
  }

  /** Connect (a vehicle, another vehicle). */
  async connect(): Promise<void> {
    await this.click(byTestId('connect'));
  }

  async expectConnectOffered(): Promise<void> {
    await poll(() => textOf(this.page, byTestId('connect'))).not.toBeNull();
  }

  /** The ids of the vehicles shown, in order. */
  vehicleIds(): Promise<string[]> {
    return this.page.$$eval(byTestId('vehicle'), (rows) =>
      rows.map((row) => row.getAttribute('data-vehicle-id') ?? ''),
    );
  }

  async expectVehicles(ids: string[]): Promise<void> {
    await poll(async () => (await this.vehicleIds()).sort()).toEqual([...ids].sort());
  }

  /** "Locked" or "Unlocked", once the vehicle shows it. */
  async expectLockState(vehicleId: string, state: 'Locked' | 'Unlocked'): Promise<void> {
    await poll(() => textOf(this.page, `${vehicleRow(vehicleId)} ${byTestId('lock-state')}`)).toBe(state);
  }

  /** Presses the vehicle's one lock control, after checking it offers `action`. */
  async toggleLock(vehicleId: string, action: 'Lock' | 'Unlock'): Promise<void> {
    const toggle = `${vehicleRow(vehicleId)} ${byTestId('lock-toggle')}`;
    await poll(() => textOf(this.page, toggle)).toBe(action);
    await this.click(toggle);
  }

  /** Once the popup has no work running (its header is no longer busy). */
  async expectSettled(): Promise<void> {
    await poll(() =>
      this.page.evaluate(() => document.querySelector('header')?.getAttribute('aria-busy') ?? null),
    ).toBe('false');
  }

  /** The notice's text, once one shows. */
  async noticeText(): Promise<string> {
    await poll(() => textOf(this.page, byTestId('notice'))).not.toBeNull();
    return (await textOf(this.page, byTestId('notice'))) ?? '';
  }

  /** Signs out, answering the confirmation the popup asks first. */
  async signOut(): Promise<void> {
    const opener = byTestId('sign-out');
    await poll(() => textOf(this.page, opener)).not.toBeNull();
    const label = await textOf(this.page, opener);
    await this.click(opener);
    // The question takes the button's place and confirms with a button of the same label.
    await poll(async () => {
      for (const button of await this.page.$$('[role="group"] button')) {
        if ((await button.evaluate((element) => element.innerText.trim())) !== label) continue;
        await button.click();
        return true;
      }
      return false;
    }).toBe(true);
  }
}
