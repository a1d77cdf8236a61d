// Launches Chromium with the built extension and gives tests the popup, the auth window and storage.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright-core';
import type { browser as ExtensionApi } from 'wxt/browser';
import { CHROMIUM_FLAGS, extensionDir, findChromium } from './paths';

/** Every wait in the e2e tests: an interactive auth flow has no timeout of its own. */
export const STEP_TIMEOUT = 15_000;

/** What the extension keeps in `storage.local` and `storage.session`, in either browser. */
export interface StorageContents {
  local: Record<string, unknown>;
  session: Record<string, unknown>;
}

export interface ExtensionBrowser {
  context: BrowserContext;
  extensionId: string;
  /** The popup, opened as a tab (the real action popup is not a Playwright page). */
  openPopup(): Promise<Page>;
  openOptions(): Promise<Page>;
  /** The toolbar badge's text and tooltip, as the service worker set them. */
  readBadge(): Promise<{ text: string; title: string }>;
  /** The next page the browser opens, e.g. the launchWebAuthFlow window. */
  nextPage(): Promise<Page>;
  /** Replaces everything in chrome.storage, written by the service worker. */
  writeStorage(contents: Partial<StorageContents>): Promise<void>;
  /** Everything in chrome.storage, read by the service worker. */
  readStorage(): Promise<StorageContents>;
  /** Stops the extension's service worker, as Chrome does when it has been idle (through `page`'s DevTools session). */
  stopServiceWorker(page: Page): Promise<void>;
  close(): Promise<void>;
}

export async function launchExtension(): Promise<ExtensionBrowser> {
  const profileDir = await mkdtemp(path.join(tmpdir(), 'car-connect-e2e-'));
  const extension = extensionDir();
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: findChromium(),
    headless: true,
    timeout: STEP_TIMEOUT,
    viewport: { width: 380, height: 240 },
    args: [`--disable-extensions-except=${extension}`, `--load-extension=${extension}`, ...CHROMIUM_FLAGS],
  });
  context.setDefaultTimeout(STEP_TIMEOUT);

  const serviceWorker = async (): Promise<Worker> =>
    context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: STEP_TIMEOUT }));
  const extensionId = new URL((await serviceWorker()).url()).host;
  const openPage = async (file: string): Promise<Page> => {
    const page = await context.newPage();
    await page.goto(`chrome-extension://${extensionId}/${file}`);
    return page;
  };

  return {
    context,
    extensionId,
    openPopup: () => openPage('popup.html'),
    openOptions: () => openPage('options.html'),
    async readBadge() {
      const worker = await serviceWorker();
      return worker.evaluate(async () => {
        const { action } = (globalThis as unknown as { chrome: typeof ExtensionApi }).chrome;
        return { text: await action.getBadgeText({}), title: await action.getTitle({}) };
      });
    },
    nextPage: () => context.waitForEvent('page', { timeout: STEP_TIMEOUT }),
    async writeStorage(contents) {
      const worker = await serviceWorker();
      await worker.evaluate(async ({ local = {}, session = {} }) => {
        const { storage } = (globalThis as unknown as { chrome: typeof ExtensionApi }).chrome;
        await Promise.all([storage.local.clear(), storage.session.clear()]);
        await Promise.all([storage.local.set(local), storage.session.set(session)]);
      }, contents);
    },
    async readStorage() {
      const worker = await serviceWorker();
      return worker.evaluate(async () => {
        // Runs in the service worker, where `chrome` is the extension API.
        const { storage } = (globalThis as unknown as { chrome: typeof ExtensionApi }).chrome;
        return { local: await storage.local.get(null), session: await storage.session.get(null) };
      });
    },
    async stopServiceWorker(page) {
      // Playwright's Worker sees no 'close' for it: tests tell the restarted worker by its fresh globals.
      const cdp = await context.newCDPSession(page);
      await cdp.send('ServiceWorker.enable');
      await cdp.send('ServiceWorker.stopAllWorkers');
      await cdp.detach();
    },
    async close() {
      await context.close();
      await rm(profileDir, { recursive: true, force: true });
    },
  };
}
