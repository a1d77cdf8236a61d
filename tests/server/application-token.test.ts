// API v3's application token against the emulator's IAM endpoint on a real socket: asked for once
// per process however many calls need it, again five minutes before its hour ends, and once more
// when Smartcar refuses it. Smartcar's refusal of a call is read from the emulator's own record of
// the token (expired or revoked), as its v3 routes answer 401 for it.
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator';
import { ApplicationToken, ApplicationTokenRejected } from '../../server/smartcar/application-token';
import { apiErrorOf } from '../support/api-error-of';
import { NO_LIMITS, TEST_CLIENT } from '../support/stack';
import { TestClock } from '../support/test-clock';

const MINUTE = 60_000;

const clock = new TestClock();
let emulator: Emulator;
let logText = '';
const log = pino(
  { level: 'debug' },
  new PassThrough().on('data', (chunk: Buffer) => (logText += chunk.toString())),
);

beforeAll(async () => {
  emulator = await startEmulator({
    clients: [TEST_CLIENT],
    limits: NO_LIMITS,
    now: () => clock.now().getTime(),
  });
});

beforeEach(() => {
  emulator.resetCalls();
  logText = '';
});

afterEach(() => {
  clock.release();
  emulator.clearFaults();
});

afterAll(async () => {
  await emulator.close();
});

const tokenWith = (
  credentials: { clientId: string; clientSecret: string } = TEST_CLIENT,
  iamOrigin = emulator.origin,
) => new ApplicationToken({ iamOrigin, timeoutMs: 2_000, ...credentials }, clock, log);

const tokenRequests = () => emulator.calls().byEndpoint['token.client_credentials'] ?? 0;

/** A v3 call as Smartcar answers it: refused (401) unless the emulator holds the token as valid. */
const v3Call = (token: string) => {
  const issued = emulator.issuedTokens().find((entry) => entry.token === token);
  return issued?.status === 'active'
    ? Promise.resolve(token)
    : Promise.reject(new ApplicationTokenRejected());
};

describe('the application token (API v3)', () => {
  it('is asked for once however many calls need it at the same time', async () => {
    const application = tokenWith();
    const tokens = await Promise.all(Array.from({ length: 20 }, () => application.withToken(v3Call)));
    expect(new Set(tokens).size).toBe(1);
    expect(await application.withToken(v3Call)).toBe(tokens[0]);
    expect(tokenRequests()).toBe(1);
  });

  it('is asked for again five minutes before its hour ends, and not before', async () => {
    const start = clock.hold();
    const application = tokenWith();
    const first = await application.withToken(v3Call);
    clock.hold(start + 55 * MINUTE - 1);
    expect(await application.withToken(v3Call)).toBe(first);
    clock.hold(start + 55 * MINUTE);
    expect(await application.withToken(v3Call)).not.toBe(first);
    expect(tokenRequests()).toBe(2);
  });

  it('is asked for once more when Smartcar refuses it, by one of many refused calls', async () => {
    const application = tokenWith();
    const first = await application.withToken(v3Call);
    emulator.revokeToken(first);
    const again = await Promise.all(Array.from({ length: 10 }, () => application.withToken(v3Call)));
    expect(new Set(again).size).toBe(1);
    expect(again[0]).not.toBe(first);
    expect(tokenRequests()).toBe(2);
  });

  it('tells the operator, not the person, when Smartcar refuses a new token too', async () => {
    const application = tokenWith();
    const error = await apiErrorOf(
      application.withToken(() => Promise.reject(new ApplicationTokenRejected())),
    );
    expect([error.statusCode, error.code]).toEqual([502, 'upstream_error']);
    expect(tokenRequests()).toBe(2);
    expect(logText).toContain('Smartcar refused a new application token');
  });

  it('answers 502 and logs the cause without the secret when IAM refuses the credentials', async () => {
    const secret = 'not-the-secret-of-this-client';
    const application = tokenWith({ clientId: TEST_CLIENT.clientId, clientSecret: secret });
    const error = await apiErrorOf(application.withToken(v3Call));
    expect([error.statusCode, error.code]).toEqual([502, 'upstream_error']);
    expect(logText).toContain('"status":401');
    expect(logText).toContain('"type":"invalid_client"');
    expect(logText).not.toContain(secret);
  });

  it('answers 503 when IAM cannot be reached', async () => {
    const closed = await startEmulator({ clients: [TEST_CLIENT], limits: NO_LIMITS });
    const unreachable = closed.origin;
    await closed.close();
    const application = tokenWith(TEST_CLIENT, unreachable);
    const error = await apiErrorOf(application.withToken(v3Call));
    expect([error.statusCode, error.code]).toEqual([503, 'upstream_unavailable']);
    expect(logText).toContain('Smartcar could not be reached');
  });
});
