// The sealed format of a token at rest, byte by byte: a 12-byte IV, the 16-byte GCM tag, then the
// ciphertext; any changed byte, key or context makes it unreadable.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { TokenCipher, loadOrCreateDevelopmentKey } from '../../server/vault/cipher';

const key = randomBytes(32);
const CONTEXT = 'connections/1/access_token';

describe('a sealed token', () => {
  it('is the IV, the tag and a ciphertext as long as the UTF-8 token', () => {
    const token = 'jeton-d’accès-🚗';
    const sealed = new TokenCipher(key).encrypt(token, CONTEXT);
    expect(sealed.length).toBe(12 + 16 + Buffer.byteLength(token, 'utf8'));
  });

  it('opens to the same text, whatever its characters', () => {
    const cipher = new TokenCipher(key);
    const token = 'jeton-d’accès-🚗';
    expect(cipher.decrypt(cipher.encrypt(token, CONTEXT), cipher.currentKeyId, CONTEXT)).toBe(token);
  });

  it.each([
    ['the first IV byte', 0],
    ['the last IV byte', 11],
    ['the first tag byte', 12],
    ['the last tag byte', 27],
    ['the first ciphertext byte', 28],
  ])('no longer opens with %s changed', (_name, index) => {
    const cipher = new TokenCipher(key);
    const sealed = cipher.encrypt('token', CONTEXT);
    sealed.writeUInt8(sealed.readUInt8(index) ^ 1, index);
    expect(() => cipher.decrypt(sealed, cipher.currentKeyId, CONTEXT)).toThrow();
  });

  it('no longer opens when cut short', () => {
    const cipher = new TokenCipher(key);
    const sealed = cipher.encrypt('token', CONTEXT);
    expect(() =>
      cipher.decrypt(sealed.subarray(0, sealed.length - 1), cipher.currentKeyId, CONTEXT),
    ).toThrow();
  });

  it('does not open with another configured key', () => {
    const other = randomBytes(32);
    const sealed = new TokenCipher(other).encrypt('token', CONTEXT);
    const cipher = new TokenCipher(key, [other]);
    expect(() => cipher.decrypt(sealed, cipher.currentKeyId, CONTEXT)).toThrow();
  });

  it('does not open with an empty context when sealed with one', () => {
    const cipher = new TokenCipher(key);
    expect(() => cipher.decrypt(cipher.encrypt('token', CONTEXT), cipher.currentKeyId, '')).toThrow();
  });
});

describe('key ids', () => {
  it('are the first 16 hex digits of the key’s SHA-256, as stored beside each token', () => {
    const expected = createHash('sha256').update(key).digest('hex').slice(0, 16);
    expect(new TokenCipher(key).currentKeyId).toBe(expected);
  });

  it('name the current and the old keys, and no other', () => {
    const old = randomBytes(32);
    const cipher = new TokenCipher(key, [old]);
    expect(cipher.hasKey(new TokenCipher(key).currentKeyId)).toBe(true);
    expect(cipher.hasKey(new TokenCipher(old).currentKeyId)).toBe(true);
    expect(cipher.hasKey(new TokenCipher(randomBytes(32)).currentKeyId)).toBe(false);
  });

  it('name the missing key when a token needs it', () => {
    const sealedWith = new TokenCipher(randomBytes(32));
    const sealed = sealedWith.encrypt('token', CONTEXT);
    expect(() => new TokenCipher(key).decrypt(sealed, sealedWith.currentKeyId, CONTEXT)).toThrow(
      `No encryption key with id ${sealedWith.currentKeyId} is configured.`,
    );
  });
});

describe('the development key file', () => {
  it('is read with the newline a shell leaves after it', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cipher-key-'));
    try {
      await writeFile(path.join(dir, 'token-encryption.key'), `${key.toString('base64')}\n`);
      expect(loadOrCreateDevelopmentKey(dir).equals(key)).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is refused when it does not hold a 32-byte key', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'cipher-key-'));
    try {
      await writeFile(path.join(dir, 'token-encryption.key'), randomBytes(31).toString('base64'));
      expect(() => loadOrCreateDevelopmentKey(dir)).toThrow(
        'An encryption key must be 32 bytes, base64-encoded.',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
