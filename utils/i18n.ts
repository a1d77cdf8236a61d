// Every sentence the user reads comes from public/_locales through the browser, so it costs the bundle nothing.
import type messages from '@/public/_locales/en/messages.json';
import { browser } from 'wxt/browser';

/** The English file decides which messages exist; every other language must have the same keys. */
export type MessageKey = keyof typeof messages;

export function t(key: MessageKey, ...substitutions: (string | number)[]): string {
  return browser.i18n.getMessage(key, substitutions.map(String));
}
