// Node-only: the build, the server and the start script derive the extension's identity from here.
import { createHash } from 'node:crypto';

/** Public half of the development key (SubjectPublicKeyInfo, DER, base64). The private half is not kept. */
export const EXTENSION_PUBLIC_KEY =
  'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAjiiGS0Qwao0Lx5kLiBwa8tKc0HXOdHKDGM0290NhAXcSI4RB0TsUSnJ9V2skiDKP5VKhNV/mZ2xA6JbV5OYwYLAtTyCIoeTRSDn9umsesJJ2jCp5GzvkkVs82H5EInBeGbkSN7Y2kZy3e1i5v0nTfFL11T7yoFR7JQ3DvnA1n1VoLDsaD/NZk33Eywfx9btek/CF/zSr4j0V2uA4aCy858p5nCtJcp8eT/e4f6tGG2M+7mQySLBsrg2U9t6AQ7C3zf0k6u62q+ZXN0wNFVFhd7fxyI8EZ05UfzklkAiUH8Muh4hzHKay55QRAu56LZCAZcnN3uMAmzbLEGOz/oY4ywIDAQAB';

/** Chrome's rule: the first 128 bits of SHA-256(public key), each hex digit mapped 0-f to a-p. */
export function chromeExtensionId(publicKeyBase64: string): string {
  const hex = createHash('sha256').update(Buffer.from(publicKeyBase64, 'base64')).digest('hex');
  return Array.from(hex.slice(0, 32), (digit) => String.fromCharCode(97 + parseInt(digit, 16))).join('');
}

export const DEV_EXTENSION_ID = chromeExtensionId(EXTENSION_PUBLIC_KEY);

/** What `identity.getRedirectURL()` returns in Chrome for this extension ID. */
export function chromeRedirectUrl(extensionId: string): string {
  return `https://${extensionId}.chromiumapp.org/`;
}

/** The Firefox add-on ID (`browser_specific_settings.gecko.id`); it fixes the Firefox redirect URL. */
export const GECKO_ID = 'car-connect@smartcar-extension.dev';

/** What `identity.getRedirectURL()` returns in Firefox: the add-on ID's SHA-1, in hex. */
export function firefoxRedirectUrl(addonId: string): string {
  return `https://${createHash('sha1').update(addonId).digest('hex')}.extensions.allizom.org/`;
}

const CHROME_ID = /^[a-p]{32}$/;

/** The redirect URL of a Chrome extension ID or a Firefox add-on ID. */
export function redirectUrlFor(extensionId: string): string {
  return CHROME_ID.test(extensionId) ? chromeRedirectUrl(extensionId) : firefoxRedirectUrl(extensionId);
}

/** Extension IDs a server accepts when EXTENSION_IDS is not set: the development builds. */
export const DEFAULT_EXTENSION_IDS = [DEV_EXTENSION_ID, GECKO_ID];
