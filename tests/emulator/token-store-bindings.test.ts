// The emulator's store on its own, on a clock the test moves: each code and token works only for
// the client, redirect URI, kind and lifetime it was issued with.
import { beforeEach, describe, expect, it } from 'vitest';
import type { EmulatedVehicle } from '../../emulator/fleet';
import type { Permission } from '../../emulator/permission-labels';
import { Store, type EmulatorClient, type TokenPair } from '../../emulator/store';

const CLIENT_A: EmulatorClient = {
  clientId: 'client-a',
  clientSecret: 'secret-a',
  redirectUris: ['https://a/'],
};
const CLIENT_B: EmulatorClient = {
  clientId: 'client-b',
  clientSecret: 'secret-b',
  redirectUris: ['https://b/'],
};
const LIFETIMES = { accessTokenTtlSeconds: 3600, refreshTokenTtlSeconds: 7200, refreshGraceSeconds: 60 };
const CODE_TTL_MS = 10 * 60 * 1000;

let now: number;
let store: Store;

beforeEach(() => {
  now = 1_000_000;
  store = new Store([CLIENT_A, CLIENT_B], { ...LIFETIMES }, () => now);
});

function grantFor(clientId: string, account = 'driver@example.com') {
  const vehicles = new Map([['vehicle-1', new Set<Permission>(['read_odometer'])]]);
  return store.createGrant(clientId, account, vehicles, ['read_odometer']);
}

function tokensFor(clientId: string): TokenPair {
  const code = store.issueCode(grantFor(clientId), `https://${clientId.at(-1) ?? ''}/`);
  const pair = store.redeemCode(code, clientId, `https://${clientId.at(-1) ?? ''}/`);
  if (typeof pair === 'string') throw new Error(`redeeming failed: ${pair}`);
  return pair;
}

describe('authorization codes', () => {
  it('redeem once, for the client and redirect URI they were issued to, into a token pair', () => {
    const grant = grantFor('client-a');
    const code = store.issueCode(grant, 'https://a/');
    const pair = store.redeemCode(code, 'client-a', 'https://a/');
    expect(pair).toMatchObject({ expiresIn: LIFETIMES.accessTokenTtlSeconds });
    if (typeof pair === 'string') throw new Error(pair);
    expect(store.authenticate(pair.accessToken)).toBe(grant);
    expect(store.redeemCode(code, 'client-a', 'https://a/')).toBe('used');
  });

  it("refuse another client's code without using it up", () => {
    const code = store.issueCode(grantFor('client-a'), 'https://a/');
    expect(store.redeemCode(code, 'client-b', 'https://a/')).toBe('client');
    expect(typeof store.redeemCode(code, 'client-a', 'https://a/')).toBe('object');
  });

  it('refuse another redirect URI, or none, without using the code up', () => {
    const code = store.issueCode(grantFor('client-a'), 'https://a/');
    expect(store.redeemCode(code, 'client-a', 'https://a/other')).toBe('redirect_uri');
    expect(store.redeemCode(code, 'client-a', undefined)).toBe('redirect_uri');
    expect(typeof store.redeemCode(code, 'client-a', 'https://a/')).toBe('object');
  });

  it('refuse an unknown code', () => {
    expect(store.redeemCode('no-such-code', 'client-a', 'https://a/')).toBe('unknown');
  });

  it('expire ten minutes after they were issued, to the millisecond', () => {
    const code = store.issueCode(grantFor('client-a'), 'https://a/');
    const late = store.issueCode(grantFor('client-a'), 'https://a/');
    now += CODE_TTL_MS - 1;
    expect(typeof store.redeemCode(code, 'client-a', 'https://a/')).toBe('object');
    now += 1;
    expect(store.redeemCode(late, 'client-a', 'https://a/')).toBe('expired');
  });
});

describe('refresh tokens', () => {
  it('rotate into a new pair for the same grant', () => {
    const first = tokensFor('client-a');
    const second = store.refresh(first.refreshToken, 'client-a');
    if (typeof second === 'string') throw new Error(second);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect(store.authenticate(second.accessToken)).toBe(store.authenticate(first.accessToken));
  });

  it("refuse another client's refresh token", () => {
    const { refreshToken } = tokensFor('client-a');
    expect(store.refresh(refreshToken, 'client-b')).toBe('client');
    expect(typeof store.refresh(refreshToken, 'client-a')).toBe('object');
  });

  it('refuse an access token or an unknown token in place of a refresh token', () => {
    const { accessToken } = tokensFor('client-a');
    expect(store.refresh(accessToken, 'client-a')).toBe('unknown');
    expect(store.refresh('no-such-token', 'client-a')).toBe('unknown');
  });

  it('refuse a revoked refresh token', () => {
    const { refreshToken } = tokensFor('client-a');
    expect(store.revokeToken(refreshToken)).toBe(true);
    expect(store.refresh(refreshToken, 'client-a')).toBe('revoked');
  });

  it('expire at the end of their lifetime, to the millisecond', () => {
    const { refreshToken } = tokensFor('client-a');
    const other = tokensFor('client-a').refreshToken;
    now += LIFETIMES.refreshTokenTtlSeconds * 1000 - 1;
    expect(typeof store.refresh(refreshToken, 'client-a')).toBe('object');
    now += 1;
    expect(store.refresh(other, 'client-a')).toBe('expired');
  });

  it('keep working for the grace period after first use, and not a millisecond longer', () => {
    const { refreshToken } = tokensFor('client-a');
    expect(typeof store.refresh(refreshToken, 'client-a')).toBe('object');
    now += LIFETIMES.refreshGraceSeconds * 1000 - 1;
    expect(typeof store.refresh(refreshToken, 'client-a')).toBe('object');
    now += 1;
    expect(store.refresh(refreshToken, 'client-a')).toBe('expired');
  });

  it('used near the end of their lifetime, do not gain a grace period beyond it', () => {
    const { refreshToken } = tokensFor('client-a');
    now += LIFETIMES.refreshTokenTtlSeconds * 1000 - 1000;
    expect(typeof store.refresh(refreshToken, 'client-a')).toBe('object');
    now += 1000;
    expect(store.refresh(refreshToken, 'client-a')).toBe('expired');
  });
});

describe('access tokens', () => {
  it('authenticate until the end of their lifetime, to the millisecond', () => {
    const { accessToken } = tokensFor('client-a');
    now += LIFETIMES.accessTokenTtlSeconds * 1000 - 1;
    expect(store.authenticate(accessToken)).toBeDefined();
    now += 1;
    expect(store.authenticate(accessToken)).toBeUndefined();
  });

  it('authenticate nobody once revoked or expired by hand, and a refresh token never does', () => {
    const revoked = tokensFor('client-a');
    const expired = tokensFor('client-a');
    expect(store.authenticate(revoked.refreshToken)).toBeUndefined();
    expect(store.revokeToken(revoked.accessToken)).toBe(true);
    expect(store.authenticate(revoked.accessToken)).toBeUndefined();
    expect(store.expireToken(expired.accessToken)).toBe(true);
    expect(store.authenticate(expired.accessToken)).toBeUndefined();
  });

  it('authenticate nobody when the emulator never issued them', () => {
    expect(store.authenticate('no-such-token')).toBeUndefined();
  });

  it('cannot be revoked or expired by hand when the emulator never issued them', () => {
    expect(store.revokeToken('no-such-token')).toBe(false);
    expect(store.expireToken('no-such-token')).toBe(false);
  });

  it('expired by hand, keep an earlier expiry', () => {
    const { accessToken } = tokensFor('client-a');
    store.expireToken(accessToken);
    now += 5000;
    store.expireToken(accessToken);
    const [issued] = store.issuedTokens().filter((token) => token.token === accessToken);
    expect(issued?.expiresAt.getTime()).toBe(1_000_000);
  });
});

describe('the list of issued tokens', () => {
  it('shows kind, client, issue time, expiry and status of each', () => {
    const { accessToken, refreshToken } = tokensFor('client-b');
    store.revokeToken(refreshToken);
    now += LIFETIMES.accessTokenTtlSeconds * 1000;
    expect(store.issuedTokens()).toEqual([
      {
        token: accessToken,
        kind: 'access',
        clientId: 'client-b',
        issuedAt: new Date(1_000_000),
        expiresAt: new Date(1_000_000 + LIFETIMES.accessTokenTtlSeconds * 1000),
        status: 'expired',
      },
      {
        token: refreshToken,
        kind: 'refresh',
        clientId: 'client-b',
        issuedAt: new Date(1_000_000),
        expiresAt: new Date(1_000_000 + LIFETIMES.refreshTokenTtlSeconds * 1000),
        status: 'revoked',
      },
    ]);
  });

  it('shows a token as active until the millisecond it expires', () => {
    tokensFor('client-a');
    now += LIFETIMES.accessTokenTtlSeconds * 1000 - 1;
    expect(store.issuedTokens().map((token) => token.status)).toEqual(['active', 'active']);
    now += 1;
    expect(store.issuedTokens().map((token) => token.status)).toEqual(['expired', 'active']);
  });
});

describe('grants', () => {
  it("lose a disconnected vehicle for that client only, not another client's grant", () => {
    const mine = grantFor('client-a');
    const theirs = grantFor('client-b');
    store.disconnect('client-a', 'vehicle-1');
    expect([...mine.vehicles.keys()]).toEqual([]);
    expect([...theirs.vehicles.keys()]).toEqual(['vehicle-1']);
  });

  it('remember the last approval per client and account', () => {
    const grant = grantFor('client-a', 'one@example.com');
    store.rememberApproval(grant, ['read_odometer']);
    expect(store.priorApproval('client-a', 'one@example.com')).toEqual({
      vehicleIds: new Set(['vehicle-1']),
      permissions: new Set(['read_odometer']),
    });
    expect(store.priorApproval('client-b', 'one@example.com')).toBeUndefined();
    expect(store.priorApproval('client-a', 'two@example.com')).toBeUndefined();
  });
});

describe('clients and vehicles', () => {
  it("keeps one record per vehicle, so a car's state lasts from one login to the next", () => {
    const first = { id: 'vehicle-9' } as EmulatedVehicle;
    expect(store.vehicle(first)).toBe(first);
    expect(store.vehicle({ id: 'vehicle-9' } as EmulatedVehicle)).toBe(first);
  });

  it('finds a registered client by its ID, and no other', () => {
    expect(store.client('client-b')).toBe(CLIENT_B);
    expect(store.client('client-c')).toBeUndefined();
  });
});

describe('snapshots', () => {
  /** A store restored from a JSON round trip of this one's snapshot, as after a restart. */
  function restarted(): Store {
    const next = new Store([CLIENT_A, CLIENT_B], { ...LIFETIMES }, () => now);
    next.restore(JSON.parse(JSON.stringify(store.snapshot())) as ReturnType<Store['snapshot']>);
    return next;
  }

  it('carry live tokens, unspent codes, grants, approvals and vehicles over, without any secret', () => {
    const pair = tokensFor('client-a');
    const grant = grantFor('client-b', 'two@example.com');
    store.rememberApproval(grant, ['read_odometer']);
    const code = store.issueCode(grant, 'https://b/');
    const vehicle = { id: 'vehicle-9', capabilities: new Set<Permission>(['read_vin']) } as EmulatedVehicle;
    store.vehicle(vehicle);
    const saved = JSON.stringify(store.snapshot());
    for (const secret of [pair.accessToken, pair.refreshToken, code]) expect(saved).not.toContain(secret);

    const next = restarted();
    // Their values are not known after a restart, so the control API lists only new tokens.
    expect(next.issuedTokens()).toEqual([]);
    expect(next.authenticate(pair.accessToken)).toEqual(store.authenticate(pair.accessToken));
    expect(typeof next.refresh(pair.refreshToken, 'client-a')).toBe('object');
    expect(next.refresh(pair.refreshToken, 'client-b')).toBe('client');
    expect(next.redeemCode(code, 'client-b', 'https://b/')).toMatchObject({ expiresIn: 3600 });
    expect(next.priorApproval('client-b', 'two@example.com')).toEqual(
      store.priorApproval('client-b', 'two@example.com'),
    );
    expect(next.vehicles.get('vehicle-9')).toEqual(vehicle);
    expect(next.expireToken(pair.accessToken)).toBe(true);
    expect(next.authenticate(pair.accessToken)).toBeUndefined();
  });

  it('leave out expired tokens and spent or expired codes, which can do nothing more', () => {
    const pair = tokensFor('client-a');
    // Redeeming it issues a second pair.
    const spent = store.issueCode(grantFor('client-a'), 'https://a/');
    store.redeemCode(spent, 'client-a', 'https://a/');
    const late = store.issueCode(grantFor('client-a'), 'https://a/');
    store.revokeToken(pair.refreshToken);
    now += LIFETIMES.accessTokenTtlSeconds * 1000;
    const { tokens, codes } = store.snapshot();
    expect(tokens.map(([, record]) => [record.kind, record.revoked])).toEqual([
      ['refresh', true],
      ['refresh', false],
    ]);
    expect(codes).toEqual([]);
    expect(restarted().redeemCode(late, 'client-a', 'https://a/')).toBe('unknown');
    expect(restarted().refresh(pair.refreshToken, 'client-a')).toBe('revoked');
  });
});

describe('application management tokens', () => {
  it('name the client they belong to, and no client for any other token', () => {
    const managed = new Store(
      [CLIENT_A, { ...CLIENT_B, managementToken: 'management-b' }],
      { ...LIFETIMES },
      () => now,
    );
    expect(managed.clientByManagementToken('management-b')?.clientId).toBe('client-b');
    expect(managed.clientByManagementToken('management-a')).toBeUndefined();
  });
});
