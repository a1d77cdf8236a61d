// Serves public/_locales/<lang>/messages.json through fakeBrowser.i18n, the way browsers do.
import en from '@/public/_locales/en/messages.json';
import { vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';

export interface MessageFile {
  [key: string]: { message: string; placeholders?: Record<string, { content: string }> };
}

/** Chrome's rules: $NAME$ is a named placeholder whose content is $1..$9, a substitution. */
export function formatMessage(
  file: MessageFile,
  key: string,
  substitutions: string | string[] | undefined,
): string {
  const entry = file[key];
  if (!entry) return '';
  const values = substitutions === undefined ? [] : [substitutions].flat();
  const substitute = (text: string) =>
    text.replace(/\$(\d)/g, (_, index: string) => values[Number(index) - 1] ?? '');
  return entry.message.replace(/\$([A-Za-z0-9_@]+)\$/g, (_, name: string) =>
    substitute(entry.placeholders?.[name.toLowerCase()]?.content ?? ''),
  );
}

/** Call after fakeBrowser.reset(): its i18n has no messages of its own. */
export function useMessages(file: MessageFile = en): void {
  vi.spyOn(fakeBrowser.i18n, 'getMessage').mockImplementation((key, substitutions) =>
    formatMessage(file, key, substitutions),
  );
  vi.spyOn(fakeBrowser.i18n, 'getUILanguage').mockReturnValue('en');
}
