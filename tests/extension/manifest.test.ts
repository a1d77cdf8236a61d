// @vitest-environment node
// The manifest each browser gets; Firefox's parts cannot be tried in a browser here, so they are pinned down.
import { GECKO_ID, firefoxRedirectUrl } from '@/protocol/extension-identity';
import { SERVER_HOST_PATTERNS, hostPermissionFor, parseServerUrl } from '@/utils/server-url';
import { extensionManifest, extensionSources } from '@/wxt.config';
import { describe, expect, it } from 'vitest';

const server = new URL('https://cars.example.org');

describe('Firefox manifest', () => {
  const manifest = extensionManifest('firefox', server);

  it('fixes the add-on ID, and with it the redirect URL the server allows', () => {
    expect(manifest.browser_specific_settings?.gecko?.id).toBe(GECKO_ID);
    expect(firefoxRedirectUrl(GECKO_ID)).toBe(
      'https://718b27bad8685b3ba9c16c26bd830ba3903e34c6.extensions.allizom.org/',
    );
  });

  it('declares the data it handles, as new Firefox add-ons must, from the first version that reads it', () => {
    expect(manifest.browser_specific_settings?.gecko).toMatchObject({
      strict_min_version: '140.0',
      data_collection_permissions: { required: ['locationInfo', 'authenticationInfo'] },
    });
  });

  it('carries no Chrome key, which Firefox does not know', () => {
    expect(manifest.key).toBeUndefined();
  });
});

describe('Chrome manifest', () => {
  const manifest = extensionManifest('chrome', server);

  it('keeps the development key that fixes the extension ID, and no Firefox settings', () => {
    expect(manifest.key).toMatch(/^MIIB/);
    expect(manifest.browser_specific_settings).toBeUndefined();
  });
});

describe.each(['chrome', 'firefox'])('%s permissions', (browser) => {
  const manifest = extensionManifest(browser, server);

  it('are the minimum for a store build: alarms, sign-in window, storage, and its production server only', () => {
    expect(manifest.permissions).toEqual(['alarms', 'identity', 'storage']);
    expect(manifest.host_permissions).toEqual(['https://cars.example.org/*']);
    expect(manifest.optional_host_permissions).toBeUndefined();
  });

  it('let a development build ask for any server the options page accepts', () => {
    const development = extensionManifest(browser, new URL('http://127.0.0.1:8787'));

    expect(development.host_permissions).toEqual(['http://127.0.0.1/*']);
    expect(development.optional_host_permissions).toEqual(SERVER_HOST_PATTERNS);
  });

  it('are localized', () => {
    expect(manifest).toMatchObject({ name: '__MSG_extName__', default_locale: 'en' });
  });
});

describe('server addresses', () => {
  it.each([
    ['https://cars.example.org/path?q=1', 'https://cars.example.org'],
    ['  https://cars.example.org:8443 ', 'https://cars.example.org:8443'],
    ['http://127.0.0.1:8787', 'http://127.0.0.1:8787'],
    ['http://localhost:8787/', 'http://localhost:8787'],
    ['http://cars.example.org', null],
    ['ftp://cars.example.org', null],
    ['cars.example.org', null],
  ])('reads %j as %j', (input, origin) => {
    expect(parseServerUrl(input)).toBe(origin);
  });

  it('asks for every port of the host, since match patterns cannot name one', () => {
    expect(hostPermissionFor('http://127.0.0.1:8787')).toBe('http://127.0.0.1/*');
  });
});

describe('the Firefox sources zip', () => {
  it('lists only tracked extension sources: no server, emulator, tests, docs or hidden files', () => {
    expect(
      extensionSources([
        'package.json',
        'wxt.config.ts',
        'entrypoints/popup/App.tsx',
        'protocol/server-api.ts',
        'server/main.ts',
        'emulator/main.ts',
        'tests/e2e/fixture.ts',
        'bench/run.ts',
        'docs/store-listing.md',
        '.ci/run',
        'public/.hidden',
      ]),
    ).toEqual(['package.json', 'wxt.config.ts', 'entrypoints/popup/App.tsx', 'protocol/server-api.ts']);
  });
});
