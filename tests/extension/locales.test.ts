import de from '@/public/_locales/de/messages.json';
import en from '@/public/_locales/en/messages.json';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { formatMessage, type MessageFile } from './messages';

const languages: [string, MessageFile][] = [['de', de]];

const placeholdersOf = (text: string) =>
  [...text.matchAll(/\$([A-Z_]+)\$/g)].map((match) => match[1] ?? '').sort();

describe.each(languages)('the %s translation', (_language, messages) => {
  it('has every English message and no other', () => {
    expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
  });

  it('keeps the placeholders of every message, and leaves none empty', () => {
    const problems: string[] = [];
    for (const [key, english] of Object.entries(en as MessageFile)) {
      const translated = messages[key];
      if (!translated?.message.trim()) problems.push(`${key}: empty`);
      const [used, expected] = [placeholdersOf(translated?.message ?? ''), placeholdersOf(english.message)];
      if (used.join() !== expected.join())
        problems.push(`${key}: uses ${used.join()}, not ${expected.join()}`);
      if (!isDeepStrictEqual(translated?.placeholders, english.placeholders)) {
        problems.push(`${key}: its placeholders differ from the English ones`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('English messages', () => {
  it('declare every placeholder they use', () => {
    for (const [key, { message, placeholders }] of Object.entries(en as MessageFile)) {
      for (const name of placeholdersOf(message)) {
        expect(placeholders?.[name.toLowerCase()], `${key} uses $${name}$`).toBeDefined();
      }
    }
  });

  it('fill placeholders the way the browser does', () => {
    expect(formatMessage(en, 'levelAndRange', ['80%', '320 km'])).toBe('80% · 320 km range');
  });
});
