// Which redirect URLs the server lets Connect send a code to: exactly those of the configured
// Chrome extension IDs and Firefox add-on IDs, computed the way the browsers compute them.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EXTENSION_IDS,
  DEV_EXTENSION_ID,
  EXTENSION_PUBLIC_KEY,
  GECKO_ID,
  chromeExtensionId,
  redirectUrlFor,
} from '../../protocol/extension-identity';
import { loadConfig } from '../../server/config';

const credentials = { SMARTCAR_CLIENT_ID: 'id', SMARTCAR_CLIENT_SECRET: 'secret' };
const sha1Url = (hex: string) => `https://${hex}.extensions.allizom.org/`;

describe('the redirect allow-list', () => {
  it("derives the development extension ID from its public key by Chrome's rule", () => {
    expect(chromeExtensionId(EXTENSION_PUBLIC_KEY)).toBe('nndbmeanannkdoblbjpcejkfagdlibni');
    expect(DEV_EXTENSION_ID).toBe('nndbmeanannkdoblbjpcejkfagdlibni');
  });

  it('lets Connect redirect to the development builds of both browsers when EXTENSION_IDS is not set', () => {
    const config = loadConfig(credentials);
    expect(config.extensionIds).toEqual([
      'nndbmeanannkdoblbjpcejkfagdlibni',
      'car-connect@smartcar-extension.dev',
    ]);
    expect([...config.allowedRedirectUris]).toEqual([
      'https://nndbmeanannkdoblbjpcejkfagdlibni.chromiumapp.org/',
      sha1Url('718b27bad8685b3ba9c16c26bd830ba3903e34c6'),
    ]);
  });

  it("uses Chrome's redirect URL for an ID of exactly 32 letters a to p", () => {
    expect(redirectUrlFor('abcdefghijklmnopabcdefghijklmnop')).toBe(
      'https://abcdefghijklmnopabcdefghijklmnop.chromiumapp.org/',
    );
  });

  it.each([
    ['31 letters', 'abcdefghijklmnopabcdefghijklmno'],
    ['33 letters', 'abcdefghijklmnopabcdefghijklmnopa'],
    ['a letter after p', 'abcdefghijklmnopabcdefghijklmnoq'],
    ['capitals', 'ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP'],
    ['a Chrome ID with a prefix', 'xabcdefghijklmnopabcdefghijklmnop'],
  ])("uses Firefox's redirect URL for any other ID, such as %s", (_name, id) => {
    expect(redirectUrlFor(id)).toMatch(/^https:\/\/[0-9a-f]{40}\.extensions\.allizom\.org\/$/);
  });

  it("computes Firefox's redirect URL as the SHA-1 of the add-on ID", () => {
    expect(redirectUrlFor(GECKO_ID)).toBe(sha1Url('718b27bad8685b3ba9c16c26bd830ba3903e34c6'));
  });

  it('reads EXTENSION_IDS as a comma-separated list, ignoring spaces and empty entries', () => {
    const config = loadConfig({
      ...credentials,
      EXTENSION_IDS: ' abcdefghijklmnopabcdefghijklmnop , ,car-connect@smartcar-extension.dev,',
    });
    expect(config.extensionIds).toEqual([
      'abcdefghijklmnopabcdefghijklmnop',
      'car-connect@smartcar-extension.dev',
    ]);
    expect([...config.allowedRedirectUris]).toEqual([
      'https://abcdefghijklmnopabcdefghijklmnop.chromiumapp.org/',
      sha1Url('718b27bad8685b3ba9c16c26bd830ba3903e34c6'),
    ]);
  });

  it('allows only the configured IDs once EXTENSION_IDS is set, not the development ones', () => {
    const config = loadConfig({ ...credentials, EXTENSION_IDS: 'abcdefghijklmnopabcdefghijklmnop' });
    expect([...config.allowedRedirectUris]).toEqual([
      'https://abcdefghijklmnopabcdefghijklmnop.chromiumapp.org/',
    ]);
  });

  it('falls back to the development IDs when EXTENSION_IDS is empty', () => {
    expect(loadConfig({ ...credentials, EXTENSION_IDS: '' }).extensionIds).toEqual(DEFAULT_EXTENSION_IDS);
  });

  it('reads the other lists the same way: scope on spaces, old keys on commas', () => {
    const [first, second] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const config = loadConfig({
      ...credentials,
      SMARTCAR_SCOPE: ' read_odometer  read_location ',
      TOKEN_ENCRYPTION_OLD_KEYS: ` ${first}, ,${second} `,
    });
    expect(config.smartcar.scope).toEqual(['read_odometer', 'read_location']);
    expect(config.encryption.oldKeys).toEqual([first, second]);
  });
});
