import preact from '@preact/preset-vite';
import { execFileSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Plugin } from 'vite';
import { defineConfig, type UserManifest } from 'wxt';
import { EXTENSION_PUBLIC_KEY, GECKO_ID } from './protocol/extension-identity';
import { SERVER_HOST_PATTERNS, hostPermissionFor } from './utils/server-url';

// The server the extension talks to; baked in at build time, changeable on the options page.
const serverUrl = new URL(process.env.WXT_SERVER_URL ?? 'http://127.0.0.1:8787');

function isLocalServer({ hostname }: URL): boolean {
  return hostname === '127.0.0.1' || hostname === 'localhost';
}

/** The manifest for one browser; exported so the Firefox-only parts are unit tested. */
export function extensionManifest(browser: string, server: URL): UserManifest {
  const manifest: UserManifest = {
    name: '__MSG_extName__',
    description: '__MSG_extDescription__',
    default_locale: 'en',
    permissions: ['alarms', 'identity', 'storage'],
    host_permissions: [hostPermissionFor(server.origin)],
  };
  // A development build (server on this computer) may be pointed at any server from the options page,
  // asking for that one host at run time. A store build talks to its production server only, so it
  // asks for no host beyond it.
  if (isLocalServer(server)) manifest.optional_host_permissions = SERVER_HOST_PATTERNS;
  if (browser === 'firefox') {
    manifest.browser_specific_settings = {
      gecko: {
        // Fixes the https://<sha1>.extensions.allizom.org/ redirect URL the server allows.
        id: GECKO_ID,
        // data_collection_permissions needs 140; Firefox has launchWebAuthFlow in MV3 since 109.
        strict_min_version: '140.0',
        // Required for new add-ons: the popup reads the vehicle's location, and the server keeps
        // the Smartcar sign-in (tokens) the extension hands it.
        data_collection_permissions: { required: ['locationInfo', 'authenticationInfo'] },
      },
    };
  } else {
    // Fixes the extension ID, and so the https://<id>.chromiumapp.org/ redirect URL, on every machine.
    manifest.key = EXTENSION_PUBLIC_KEY;
  }
  return manifest;
}

/** Folders the Firefox reviewers do not need to rebuild the add-on: the server, emulator, tests and docs. */
const NOT_EXTENSION_SOURCES = ['server/', 'emulator/', 'tests/', 'bench/', 'docs/'];

/**
 * The sources zip as an allow-list: files git tracks, so nothing untracked in the work tree (local
 * data, keys, notes) can ever ship, less the parts that are not the extension and hidden files.
 */
export function extensionSources(trackedFiles: string[]): string[] {
  return trackedFiles.filter(
    (file) =>
      !NOT_EXTENSION_SOURCES.some((folder) => file.startsWith(folder)) &&
      !file.split('/').some((part) => part.startsWith('.')),
  );
}

/**
 * Puts each page's style sheets into the page itself: a page paints nothing until its linked
 * sheets have loaded, and even a file in the extension takes a round trip through the browser.
 */
function inlineStyleSheets(): Plugin {
  const inlined = new Set<string>();
  return {
    name: 'inline-style-sheets',
    enforce: 'post',
    transformIndexHtml: {
      order: 'post',
      handler: (html, { bundle }) =>
        html.replace(/<link rel="stylesheet"[^>]*? href="\/([^"]+)">/g, (link, file: string) => {
          const sheet = bundle?.[file];
          if (sheet?.type !== 'asset') return link;
          inlined.add(file);
          return `<style>${String(sheet.source)}</style>`;
        }),
    },
    generateBundle(_options, bundle) {
      // Rollup's way to drop an output file: delete its key from the bundle.
      // eslint-disable-next-line @typescript-eslint/no-dynamic-delete
      for (const file of inlined) delete bundle[file];
    },
  };
}

/** The built manifest, with its key, while the zip is made without it. */
let unpackedManifest: string | undefined;

export default defineConfig({
  // MV3 in Firefox too: one background, one `action` API, and identity works the same in both.
  manifestVersion: 3,
  // Every file imports what it uses, so a name always leads to its module and no export (such as
  // the background's signOut) becomes a global that local names shadow.
  imports: false,
  // `browser` from webextension-polyfill: promise-based in every browser, so a message listener can
  // answer with a promise in Chromium too.
  modules: ['@wxt-dev/webextension-polyfill'],
  // Tests build into their own folder so they never overwrite the copy a developer loaded unpacked.
  outDir: process.env.WXT_OUT_DIR ?? '.output',
  vite: () => ({
    plugins: [preact(), inlineStyleSheets()],
    // Extension pages load modules from the package itself; Vite's modulepreload polyfill is dead weight.
    build: { modulePreload: { polyfill: false } },
    define: { 'import.meta.env.WXT_SERVER_URL': JSON.stringify(serverUrl.origin) },
  }),
  manifest: ({ browser }) => extensionManifest(browser, serverUrl),
  hooks: {
    // The Chrome Web Store refuses a manifest with `key` (it signs with the store's own key), so
    // the store zip leaves out the development key; the unpacked build gets it back afterwards.
    'zip:extension:start': async (wxt) => {
      const file = path.join(wxt.config.outDir, 'manifest.json');
      unpackedManifest = await readFile(file, 'utf8');
      const manifest = JSON.parse(unpackedManifest) as Record<string, unknown>;
      delete manifest.key;
      await writeFile(file, JSON.stringify(manifest));
    },
    'zip:extension:done': async (wxt) => {
      if (unpackedManifest) await writeFile(path.join(wxt.config.outDir, 'manifest.json'), unpackedManifest);
    },
    // Asked of git only when a sources zip is made; WXT reads the list after this hook.
    'zip:sources:start': (wxt) => {
      const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: wxt.config.root, encoding: 'utf8' });
      wxt.config.zip.includeSources = extensionSources(tracked.split('\0').filter(Boolean));
    },
  },
  zip: {
    // The sources zip is for Firefox's reviewers to rebuild the add-on (`npm ci && npm run zip`).
    // Everything is left out except what the hook above lists (includeSources wins over this).
    excludeSources: ['**'],
  },
});
