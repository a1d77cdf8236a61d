// @vitest-environment node
// The manifest each browser gets; Firefox's parts cannot be tried in a browser here, so they are pinned down.
import { GECKO_ID, firefoxRedirectUrl } from '@/protocol/extension-identity';
import { SERVER_HOST_PATTERNS, hostPermissionFor, parseServerUrl } from '@/utils/server-url';
import { extensionManifest } from '@/wxt.config';
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

  it('are the minimum: sign-in window, storage, and the build’s server', () => {
    expect(manifest.permissions).toEqual(['identity', 'storage']);
    expect(manifest.host_permissions).toEqual(['https://cars.example.org/*']);
    expect(manifest.optional_host_permissions).toEqual(SERVER_HOST_PATTERNS);
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
