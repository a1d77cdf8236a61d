// AES-256-GCM for Smartcar tokens at rest. Each ciphertext is stored with the id of its key, so
// keys can rotate: new writes use the current key, old keys stay usable for reading until
// `npm run reencrypt` has moved every row to the current one.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function parseKey(base64: string): Buffer {
  const key = Buffer.from(base64, 'base64');
  if (key.length !== 32) throw new Error('An encryption key must be 32 bytes, base64-encoded.');
  return key;
}

/** A key's id is a short hash of it: stable, and it reveals nothing about the key. */
function keyIdOf(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

export class TokenCipher {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(currentKey: Buffer, oldKeys: Buffer[] = []) {
    this.currentKeyId = keyIdOf(currentKey);
    for (const key of [currentKey, ...oldKeys]) this.keys.set(keyIdOf(key), key);
  }

  /** `context` is bound as additional authenticated data: the ciphertext only opens for the same row and field. */
  encrypt(plaintext: string, context: string): Buffer {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key(this.currentKeyId), iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  }

  decrypt(sealed: Buffer, keyId: string, context: string): string {
    const decipher = createDecipheriv('aes-256-gcm', this.key(keyId), sealed.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  }

  hasKey(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  private key(keyId: string): Buffer {
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`No encryption key with id ${keyId} is configured.`);
    return key;
  }
}

/**
 * The configured key, or in development one generated on first start and kept in the data
 * folder, readable by its owner only.
 */
export function loadOrCreateDevelopmentKey(dataDir: string): Buffer {
  const file = path.join(dataDir, 'token-encryption.key');
  if (existsSync(file)) return parseKey(readFileSync(file, 'utf8').trim());
  const key = randomBytes(32);
  // With DATABASE_URL nothing else creates the data folder; the key alone still needs one.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, key.toString('base64'), { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}
