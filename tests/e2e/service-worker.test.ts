// Chrome stops an idle extension service worker at any time; the extension must pick up where it was.
import { describe, expect, it } from 'vitest';
import { approve, signInAndPickVehicles } from './connect-window';
import { useExtensionAndBackend } from './fixture';
import { connectButton, connectVehicles, expectCards, noticeText, openAuthWindow } from './popup';

const e2e = useExtensionAndBackend();

describe('a service worker stopped mid-flow', () => {
  it('lets go of a Connect whose sign-in window it lost, and connects on the next try', async () => {
    const popup = await e2e.browser.openPopup();
    const window = await openAuthWindow(e2e.browser, connectButton(popup));
    await popup.getByText('Connecting…').waitFor();

    await e2e.browser.stopServiceWorker(popup);
    await window.close().catch(() => undefined);
    await popup.close();

    // Opening the popup wakes the worker, which finds the flow it no longer owns.
    const reopened = await e2e.browser.openPopup();
    expect(await noticeText(reopened)).toContain('The sign-in was interrupted.');
    const retry = await openAuthWindow(e2e.browser, connectButton(reopened));
    const picked = await signInAndPickVehicles(retry, { brand: 'TESLA', keepVehicles: 1 });
    await approve(retry);
    await expectCards(reopened, picked);
  });

  it('shows the finished read after the worker stopped while watching one', async () => {
    const popup = await e2e.browser.openPopup();
    const [name = ''] = await connectVehicles(e2e.browser, popup, { brand: 'FORD', keepVehicles: 1 });
    // As if a read were under way at the server when the worker stopped.
    const { local } = await e2e.browser.readStorage();
    const [vehicle] = local.vehicles as Record<string, unknown>[];
    await e2e.browser.writeStorage({
      local: { ...local, vehicles: [{ ...vehicle, reading: true, fetchedAt: null, data: {} }] },
      session: { watchUntil: Date.now() + 6 * 60_000 },
    });
    await popup.close();

    const watching = await e2e.browser.openPopup();
    await watching.getByText(/^Asking your Ford/).waitFor();
    await e2e.browser.stopServiceWorker(watching);
    await watching.close();

    const reopened = await e2e.browser.openPopup();
    await reopened.getByText(/^Asking your Ford/).waitFor({ state: 'detached' });
    await expectCards(reopened, [name]);
    await expect.poll(async () => (await e2e.browser.readStorage()).session.watchUntil).toBeUndefined();
  });
});
