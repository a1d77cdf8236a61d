import de from '@/public/_locales/de/messages.json';
import en from '@/public/_locales/en/messages.json';
import { describe, expect, it } from 'vitest';
import { formatMessage, type MessageFile } from './messages';

const languages: [string, MessageFile][] = [['de', de]];

const placeholdersOf = (text: string) =>
  [...text.matchAll(/\$([A-Z_]+)\$/g)].map((match) => match[1] ?? '').sort();

describe.each(languages)('the %s translation', (_language, messages) => {
  it('has every English message and no other', () => {
    expect(Object.keys(messages).sort()).toEqual(Object.keys(en).sort());
  });

  it.each(Object.entries(en as MessageFile))('keeps the placeholders of %s', (key, english) => {
    const translated = messages[key];
    expect(translated?.message.trim()).not.toBe('');
    expect(placeholdersOf(translated?.message ?? '')).toEqual(placeholdersOf(english.message));
    expect(translated?.placeholders).toEqual(english.placeholders);
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
