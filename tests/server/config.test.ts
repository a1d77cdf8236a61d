import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEV_EXTENSION_ID } from '../../protocol/extension-identity';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../server/config';
import { systemClock } from '../../server/lib/clock';
import { SmartcarGateway } from '../../server/smartcar/gateway';

const credentials = { SMARTCAR_CLIENT_ID: 'id', SMARTCAR_CLIENT_SECRET: 'secret' };
const REDIRECT = `https://${DEV_EXTENSION_ID}.chromiumapp.org/`;

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig(credentials);
    expect(config.port).toBe(8787);
    expect(config.host).toBe('127.0.0.1');
    expect(config.smartcar.mode).toBe('test');
    expect(config.smartcar.scope.join(' ')).toBe(
      'read_vehicle_info read_odometer read_battery read_fuel read_location read_security control_security',
    );
    expect([...config.allowedRedirectUris]).toEqual([
      `https://${DEV_EXTENSION_ID}.chromiumapp.org/`,
      // SHA-1 of the add-on ID `car-connect@smartcar-extension.dev`, as Firefox computes it.
      'https://718b27bad8685b3ba9c16c26bd830ba3903e34c6.extensions.allizom.org/',
    ]);
  });

  it('reads a space-separated scope with required: prefixes and a list of extension IDs', () => {
    const config = loadConfig({
      ...credentials,
      SMARTCAR_SCOPE: 'required:read_odometer  read_location',
      EXTENSION_IDS: 'abcdefghijklmnopabcdefghijklmnop, ponmlkjihgfedcbaponmlkjihgfedcba',
    });
    expect(config.smartcar.scope).toEqual(['required:read_odometer', 'read_location']);
    expect(config.allowedRedirectUris.has('https://ponmlkjihgfedcbaponmlkjihgfedcba.chromiumapp.org/')).toBe(
      true,
    );
  });

  it("talks to Smartcar's own services unless told otherwise", () => {
    expect(loadConfig(credentials).smartcar.origins).toEqual({
      connect: 'https://connect.smartcar.com',
      auth: 'https://auth.smartcar.com',
      iam: 'https://iam.smartcar.com',
      api: 'https://api.smartcar.com',
      apiV3: 'https://vehicle.api.smartcar.com',
    });
  });

  it('points every Smartcar service at SMARTCAR_ORIGIN, and each at its own variable first', () => {
    const emulator = 'http://127.0.0.1:4010';
    const everything = loadConfig({ ...credentials, SMARTCAR_ORIGIN: emulator }).smartcar.origins;
    expect(new Set(Object.values(everything))).toEqual(new Set([emulator]));
    const own = loadConfig({
      ...credentials,
      SMARTCAR_ORIGIN: emulator,
      SMARTCAR_CONNECT_ORIGIN: 'http://connect.test',
      SMARTCAR_AUTH_ORIGIN: 'http://auth.test',
      SMARTCAR_IAM_ORIGIN: 'http://iam.test',
      SMARTCAR_API_ORIGIN: 'http://api.test',
      SMARTCAR_API_V3_ORIGIN: 'http://vehicle.test',
    }).smartcar.origins;
    expect(own).toEqual({
      connect: 'http://connect.test',
      auth: 'http://auth.test',
      iam: 'http://iam.test',
      api: 'http://api.test',
      apiV3: 'http://vehicle.test',
    });
  });

  it('asks for the user profile with API v3, which proves whose grant a connection is', () => {
    expect(loadConfig(credentials).smartcar.scope).not.toContain('read_user_profile');
    expect(loadConfig({ ...credentials, SMARTCAR_API_VERSION: '3' }).smartcar.scope).toContain(
      'read_user_profile',
    );
  });

  it("builds Connect's address on SMARTCAR_CONNECT_ORIGIN, whatever the API's origin", () => {
    const { smartcar } = loadConfig({
      ...credentials,
      SMARTCAR_API_ORIGIN: 'http://api.test',
      SMARTCAR_CONNECT_ORIGIN: 'http://connect.test:8080',
    });
    const url = new URL(
      new SmartcarGateway(smartcar, pino({ level: 'silent' }), systemClock).connectUrl(REDIRECT, 'state'),
    );
    expect(url.origin + url.pathname).toBe('http://connect.test:8080/oauth/authorize');
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT);
  });

  it.each([
    [
      'a proxy range wide enough to take in clients',
      { TRUST_PROXY: '0.0.0.0/1,128.0.0.0/1' },
      /TRUST_PROXY: 0\.0\.0\.0\/1, 128\.0\.0\.0\/1 would trust clients/,
    ],
    [
      'every address as a proxy',
      { TRUST_PROXY: '0.0.0.0/0' },
      /TRUST_PROXY: 0\.0\.0\.0\/0 would trust clients/,
    ],
    ['an IPv6 range wider than /32', { TRUST_PROXY: '2001:db8::/31' }, /would trust clients/],
    ['every IPv4 address, written as IPv6', { TRUST_PROXY: '::ffff:0.0.0.0/96' }, /would trust clients/],
    [
      'a Chrome extension ID in capitals, which no browser sends',
      { EXTENSION_IDS: 'ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP' },
      /not an extension ID: ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP/,
    ],
    ['NODE_ENV spelt another way', { NODE_ENV: 'Production' }, /NODE_ENV/],
    [
      'an all-zero encryption key',
      { TOKEN_ENCRYPTION_KEY: Buffer.alloc(32).toString('base64') },
      /TOKEN_ENCRYPTION_KEY is not random/,
    ],
    [
      'a short encryption key',
      { TOKEN_ENCRYPTION_KEY: randomBytes(16).toString('base64') },
      /TOKEN_ENCRYPTION_KEY must be 32 bytes/,
    ],
    [
      'an old key that is not a key',
      { TOKEN_ENCRYPTION_OLD_KEYS: 'not-a-key' },
      /TOKEN_ENCRYPTION_OLD_KEYS: a key must be 32 bytes/,
    ],
    ['a list of extension IDs with no ID', { EXTENSION_IDS: ',' }, /EXTENSION_IDS: no ID given/],
    [
      'an extension ID that is none',
      { EXTENSION_IDS: 'abcdefghijklmnopabcdefghijklmnop,https://evil.example' },
      /not an extension ID: https:\/\/evil\.example/,
    ],
    [
      'sessions idle for less than an hour',
      { SESSION_IDLE_DAYS: '0.04' },
      /SESSION_IDLE_DAYS: must be at least an hour/,
    ],
    [
      'sessions that end before they can idle',
      { SESSION_IDLE_DAYS: '30', SESSION_MAX_DAYS: '7' },
      /SESSION_MAX_DAYS must be at least SESSION_IDLE_DAYS/,
    ],
  ])('refuses %s with a message saying what to fix', (_case, env, message) => {
    expect(() => loadConfig({ ...credentials, ...env })).toThrow(message);
    expect(() => loadConfig({ ...credentials, ...env })).toThrow(ConfigError);
  });

  it('takes the widest proxy ranges a load balancer needs, an hour of idleness, and a random key', () => {
    const config = loadConfig({
      ...credentials,
      TRUST_PROXY: '10.0.0.0/8,2001:db8::/32',
      SESSION_IDLE_DAYS: String(1 / 24),
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    expect(config.trustProxy).toEqual(['10.0.0.0/8', '2001:db8::/32']);
    expect(config.session.idleMs).toBe(60 * 60 * 1000);
  });

  it('names every invalid setting', () => {
    expect(() => loadConfig({ SMARTCAR_MODE: 'production', PORT: 'eighty' })).toThrow(
      /SMARTCAR_CLIENT_ID[\s\S]*SMARTCAR_MODE[\s\S]*PORT|PORT[\s\S]*SMARTCAR_MODE/,
    );
  });

  it('refuses to run in production without an encryption key', () => {
    expect(() => loadConfig({ ...credentials, NODE_ENV: 'production' })).toThrow(/TOKEN_ENCRYPTION_KEY/);
  });

  it('refuses to run in production without an explicit list of extension IDs', () => {
    const production = {
      ...credentials,
      NODE_ENV: 'production',
      TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    };
    expect(() => loadConfig(production)).toThrow(/EXTENSION_IDS/);
    expect(loadConfig({ ...production, EXTENSION_IDS: 'abcdefghijklmnopabcdefghijklmnop' }).production).toBe(
      true,
    );
  });

  it.each([
    [undefined, false],
    ['false', false],
    ['1', 1],
    ['10.0.0.0/8, 192.168.1.5,::1', ['10.0.0.0/8', '192.168.1.5', '::1']],
  ] as const)('reads TRUST_PROXY=%s as %j', (value, expected) => {
    expect(
      loadConfig({ ...credentials, ...(value === undefined ? {} : { TRUST_PROXY: value }) }).trustProxy,
    ).toEqual(expected);
  });

  it.each(['true', '10.0.0.0/33', 'proxy.example'])('refuses TRUST_PROXY=%s', (value) => {
    expect(() => loadConfig({ ...credentials, TRUST_PROXY: value })).toThrow(/TRUST_PROXY/);
  });

  it('reads session lifetimes in days', () => {
    const config = loadConfig({ ...credentials, SESSION_IDLE_DAYS: '2', SESSION_MAX_DAYS: '10' });
    expect(config.session).toEqual({ idleMs: 2 * 86_400_000, maxMs: 10 * 86_400_000 });
    expect(loadConfig(credentials).session).toEqual({ idleMs: 30 * 86_400_000, maxMs: 180 * 86_400_000 });
  });
});
