// Launches a stock Firefox over WebDriver BiDi with the built add-on installed, and gives tests its
// pages, the auth window and storage.
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import type { browser as ExtensionApi } from 'wxt/browser';
import { GECKO_ID } from '../../../protocol/extension-identity';
import { STEP_TIMEOUT, type StorageContents } from '../extension';
import { extensionDir } from '../paths';
import { findFirefox } from './paths';

export interface FirefoxExtension {
  browser: Browser;
  /** The popup, opened as a tab (the real action popup is not a page BiDi can reach). */
  openPopup(): Promise<Page>;
  /** The window identity.launchWebAuthFlow opens at Connect; call before the click that opens it. */
  nextConnectWindow(connectOrigin: string): Promise<Page>;
  /** What identity.getRedirectURL() returns in this Firefox. */
  redirectUrl(): Promise<string>;
  /** Replaces everything in browser.storage with `contents`. */
  writeStorage(contents: Partial<StorageContents>): Promise<void>;
  /** Everything in browser.storage. */
  readStorage(): Promise<StorageContents>;
  close(): Promise<void>;
}

/** The part of Puppeteer's BiDi frame that sends the navigate command; not in its public types. */
interface BidiFrame {
  browsingContext: { navigate(url: string, wait: 'complete'): Promise<void> };
}

function isBidiFrame(frame: unknown): frame is BidiFrame {
  return typeof (frame as Partial<BidiFrame>).browsingContext?.navigate === 'function';
}

/** A port free right now: Firefox needs a fixed one, as Puppeteer cannot read back a port it picks. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** `browser` in the add-on's pages, for functions that run there (they cannot close over Node's scope). */
type InPage = { browser: typeof ExtensionApi };

export interface FirefoxOptions {
  /** The colour scheme pages see; the system's when not given. */
  colorScheme?: 'light' | 'dark';
}

export async function launchFirefoxExtension({
  colorScheme,
}: FirefoxOptions = {}): Promise<FirefoxExtension> {
  // Pinned so the add-on's pages have a known address; Firefox picks a random one per profile otherwise.
  const uuid = randomUUID();
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: findFirefox(),
    headless: true,
    // A first start in a fresh profile takes seconds on an idle machine, and several times that on a busy one.
    timeout: 60_000,
    protocolTimeout: STEP_TIMEOUT * 2,
    debuggingPort: await freePort(),
    // Without it, BiDi refuses to navigate to moz-extension:// pages.
    args: ['--remote-allow-system-access'],
    extraPrefsFirefox: {
      'extensions.webextensions.uuids': JSON.stringify({ [GECKO_ID]: uuid }),
      // BiDi cannot emulate media features in extension pages; Firefox's own override can (0 dark, 1 light).
      ...(colorScheme && {
        'layout.css.prefers-color-scheme.content-override': colorScheme === 'dark' ? 0 : 1,
      }),
    },
  });
  try {
    // A temporary add-on: no signing needed, and Firefox grants the manifest's permissions.
    await browser.installExtension(extensionDir('firefox-mv3'));
  } catch (error) {
    await browser.close();
    throw error;
  }

  /**
   * Firefox's BiDi reports no events from extension pages (https://bugzil.la/1755014), so
   * `page.goto` never sees the load; the navigate command itself waits for it.
   */
  const openPage = async (file: string): Promise<Page> => {
    const page = await browser.newPage();
    const frame = page.mainFrame();
    if (!isBidiFrame(frame)) throw new Error('Puppeteer no longer exposes the BiDi browsing context.');
    await frame.browsingContext.navigate(`moz-extension://${uuid}/${file}`, 'complete');
    return page;
  };
  /** Runs `use` with the options page, which sends no request when it opens (the popup does). */
  const inExtensionPage = async <T>(use: (page: Page) => Promise<T>): Promise<T> => {
    const page = await openPage('options.html');
    try {
      return await use(page);
    } finally {
      await page.close();
    }
  };

  return {
    browser,
    openPopup: () => openPage('popup.html'),
    async nextConnectWindow(connectOrigin) {
      // By its address: the popup's own tab is also a new page, at about:blank, for a moment.
      const target = await browser.waitForTarget((candidate) => candidate.url().startsWith(connectOrigin), {
        timeout: STEP_TIMEOUT,
      });
      const page = await target.page();
      if (!page) throw new Error(`The window at ${target.url()} is not a page.`);
      page.setDefaultTimeout(STEP_TIMEOUT);
      return page;
    },
    redirectUrl: () =>
      inExtensionPage((page) =>
        page.evaluate(() => (globalThis as unknown as InPage).browser.identity.getRedirectURL()),
      ),
    writeStorage: (contents) =>
      inExtensionPage((page) =>
        page.evaluate(async ({ local = {}, session = {} }) => {
          const { storage } = (globalThis as unknown as InPage).browser;
          await Promise.all([storage.local.clear(), storage.session.clear()]);
          await Promise.all([storage.local.set(local), storage.session.set(session)]);
        }, contents),
      ),
    readStorage: () =>
      inExtensionPage((page) =>
        page.evaluate(async () => {
          const { storage } = (globalThis as unknown as InPage).browser;
          return { local: await storage.local.get(null), session: await storage.session.get(null) };
        }),
      ),
    close: () => browser.close(),
  };
}
