// Reading vehicles the way Smartcar allows it: nobody waits on a read, reads ask only for what the
// popup shows, Smartcar's limits are held instead of retried, and the monthly budget paces the
// automatic reads. Real HTTP, the emulator over real sockets, both databases.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ErrorBody, SecurityResponse, Vehicle, VehiclesResponse } from '../../protocol/server-api';
import { apiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';

const MUSTANG = '1FA6P8CF4M5100257'; // fuel
const LIGHTNING = '1FTVW1EL5PWG00418'; // electric
/** Billed requests per vehicle per month in these tests: small, so pacing and spending show quickly. */
const BUDGET = 20;
/** How long a request the person waits on waits for Smartcar here. */
const WAIT_MS = 1_000;
/** The SDK's timeout here: longer than the delays that stand for a slow car, shorter than the hanging ones. */
const TIMEOUT_MS = 4_000;

describe.each(['embedded', 'postgresql'] as const)('vehicle reads on the %s database', (database) => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;
  let accounts = 0;

  beforeAll(async () => {
    const env: Record<string, string> = {
      SMARTCAR_REQUEST_BUDGET: String(BUDGET),
      SMARTCAR_WAIT_SECONDS: String(WAIT_MS / 1000),
      SMARTCAR_TIMEOUT_MS: String(TIMEOUT_MS),
    };
    stack = await startStack({ database, env });
    api = apiClient(stack.serverUrl);
  });

  afterEach(() => {
    stack.emulator.clearFaults();
    stack.clock.release();
  });

  afterAll(async () => {
    await stack.close();
  });

  /** A fresh account's vehicles, read once; Smartcar's call counts start from zero after it. */
  async function connect(vins: string[] = [MUSTANG]) {
    const result = await api.connectVehicles({
      choices: { brand: 'FORD', email: `reader${++accounts}@example.com`, vins },
    });
    stack.emulator.resetCalls();
    return result;
  }

  const list = (session: string, query = '') =>
    api.call<VehiclesResponse>('GET', `/api/vehicles${query}`, { session });
  const refresh = (session: string) =>
    api.call<VehiclesResponse & ErrorBody>('POST', '/api/vehicles/refresh', { session });
  const only = (answer: { vehicles: Vehicle[] }) => {
    const [vehicle] = answer.vehicles;
    if (!vehicle || answer.vehicles.length !== 1) throw new Error('expected one vehicle');
    return vehicle;
  };
  const requests = (endpoint: string) => stack.emulator.calls().requests[endpoint] ?? 0;

  describe('connect', () => {
    it('reads permissions from GET /permissions and never inside a batch', async () => {
      stack.emulator.resetCalls();
      const { vehicles } = await api.connectVehicles({
        choices: { brand: 'FORD', email: `reader${++accounts}@example.com` },
      });
      const calls = stack.emulator.calls();
      expect(vehicles.length).toBe(3);
      expect(calls.requests).toEqual({
        'token.authorization_code': 1,
        vehicles: 1,
        permissions: 3,
        batch: 3,
      });
      // Every permissions call was a request of its own: none was a batch item.
      expect(calls.byEndpoint.permissions).toBe(3);
      for (const vehicle of vehicles) expect(vehicle.permissions).toContain('read_odometer');
    });

    it('answers before slow reads finish; the vehicles fill in later', async () => {
      const { code, state } = await api.authorize({
        choices: { brand: 'FORD', email: `reader${++accounts}@example.com` },
      });
      stack.emulator.resetCalls();
      // Each vehicle call takes far longer than the server waits before answering.
      stack.emulator.injectFault({ endpoint: 'permissions', delayMs: WAIT_MS * 2 });
      stack.emulator.injectFault({ endpoint: 'batch', delayMs: WAIT_MS * 2 });
      const exchange = await api.call<VehiclesResponse & { session: string }>('POST', '/api/exchange', {
        body: { code, state },
      });
      expect(exchange.status).toBe(200);
      expect(exchange.json.vehicles.length).toBe(3);
      for (const vehicle of exchange.json.vehicles) {
        expect(vehicle).toMatchObject({ reading: true, make: null, data: {}, fetchedAt: null });
      }
      const later = await api.settled(exchange.json.session);
      expect(later.vehicles.length).toBe(3);
      for (const vehicle of later.vehicles) {
        expect(vehicle.make).toBe('FORD');
        expect(vehicle.data.odometer?.distance).toBeGreaterThan(0);
        expect(vehicle.reading).toBe(false);
      }
    });

    it('keeps the connection when the vehicle list fails, and lists it later', async () => {
      const { code, state } = await api.authorize({
        choices: { brand: 'FORD', email: `reader${++accounts}@example.com`, vins: [MUSTANG] },
      });
      stack.emulator.injectFault({
        endpoint: 'vehicles',
        status: 502,
        type: 'SERVER',
        code: 'INTERNAL',
        times: 3,
      });
      const exchange = await api.call<VehiclesResponse & { session: string }>('POST', '/api/exchange', {
        body: { code, state },
      });
      expect(exchange.status).toBe(200);
      expect(exchange.json.vehicles).toEqual([]);
      expect(exchange.json.pendingConnections).toBe(1);
      const { session } = exchange.json;
      // Tried three times in the background (a 502 is transient), then left for later.
      const ours =
        stack.emulator
          .issuedTokens()
          .filter((t) => t.kind === 'access')
          .at(-1)?.token ?? '';
      const listings = () => stack.emulator.calls().byToken[ours]?.vehicles ?? 0;
      const failures = () =>
        stack
          .logs()
          .split('\n')
          .filter((line) => line.includes('"call":"vehicles"')).length;
      await vi.waitFor(
        () => {
          expect(listings()).toBe(3);
        },
        { timeout: 20_000, interval: 100 },
      );
      await vi.waitFor(
        () => {
          expect(failures()).toBeGreaterThanOrEqual(3);
        },
        { timeout: 5_000, interval: 50 },
      );
      await new Promise((resolve) => setTimeout(resolve, 200)); // the failure is stored after its log line
      stack.clock.hold(Date.now() + 5 * 60_000); // past the wait before listing again
      const later = await api.settled(session);
      stack.clock.release();
      expect(later.pendingConnections).toBe(0);
      expect(only(later).data.fuel?.percentRemaining).toBeGreaterThan(0);
      expect(listings()).toBe(4);
    });
  });

  describe('what a read asks for', () => {
    it('asks for attributes until known, and only the figures the grant and the vehicle have', async () => {
      const { session, vehicles } = await connect([MUSTANG]);
      const [mustang] = vehicles;
      if (!mustang) throw new Error('no vehicle');
      expect(mustang).toMatchObject({ make: 'FORD', model: 'Mustang', year: 2021 });
      expect((await refresh(session)).status).toBe(202);
      await api.settled(session);
      const items = stack.emulator.calls().byVehicle[mustang.id] ?? {};
      // Make, model and year do not change: the second read leaves them out. A fuel car has no battery.
      expect(items).toEqual({ batch: 1, odometer: 1, fuel: 1, location: 1, lockStatus: 1 });
    });

    it('stops asking for a figure the vehicle answered it cannot give', async () => {
      const { session, vehicles } = await connect([LIGHTNING]);
      const id = vehicles[0]?.id ?? '';
      stack.emulator.injectFault({
        endpoint: 'odometer',
        status: 501,
        type: 'COMPATIBILITY',
        code: 'VEHICLE_NOT_CAPABLE',
        times: 1,
      });
      await refresh(session);
      const first = only(await api.settled(session));
      expect(first.data.odometer).toBeUndefined();
      expect(first.data.battery?.range).toBeGreaterThan(0);
      await refresh(session);
      await api.settled(session);
      expect(stack.emulator.calls().byVehicle[id]?.odometer).toBe(1);
      expect(stack.emulator.calls().byVehicle[id]?.battery).toBe(2);
    });

    it('keeps a figure whose batch item failed, with its own age, and says what failed', async () => {
      const { session, vehicles } = await connect([MUSTANG]);
      const before = vehicles[0];
      if (!before) throw new Error('no vehicle');
      stack.emulator.injectFault({
        endpoint: 'location',
        status: 409,
        type: 'VEHICLE_STATE',
        code: 'ASLEEP',
        times: 1,
      });
      await refresh(session);
      const after = only(await api.settled(session));
      expect(after.data.location).toEqual(before.data.location);
      expect(after.readAt.location).toBe(before.readAt.location);
      expect(Date.parse(after.readAt.odometer ?? '')).toBeGreaterThan(
        Date.parse(before.readAt.odometer ?? ''),
      );
      expect(after.lastFailure).toMatchObject({ code: 'upstream_error' });
    });
  });

  describe('nobody waits on Smartcar', () => {
    it("a slow vehicle does not hold up another person's list or the health checks", async () => {
      const alice = await connect([MUSTANG]);
      const bob = await connect([LIGHTNING]);
      stack.emulator.injectFault({ endpoint: 'batch', delayMs: WAIT_MS * 2, times: 1 });
      expect((await refresh(alice.session)).status).toBe(202);
      await vi.waitFor(
        () => {
          expect(requests('batch')).toBe(1);
        },
        { timeout: 5_000, interval: 20 },
      );
      const bobList = await list(bob.session);
      const ready = await api.call('GET', '/readyz');
      const aliceList = await list(alice.session);
      expect(bobList.status).toBe(200);
      expect(ready.status).toBe(200);
      // Alice's read was still under way when both answered.
      expect(only(aliceList.json).reading).toBe(true);
      expect(only(await api.settled(alice.session)).reading).toBe(false);
    });

    it('shows upstream_unavailable for a read that timed out, keeps the data, and reads again later', async () => {
      const { session, vehicles } = await connect([MUSTANG]);
      const before = vehicles[0];
      stack.emulator.injectFault({ endpoint: 'batch', delayMs: TIMEOUT_MS * 3 });
      expect((await refresh(session)).status).toBe(202);
      const failed = only(await api.settled(session));
      expect(failed.lastFailure?.code).toBe('upstream_unavailable');
      expect(failed.data).toEqual(before?.data);
      expect(failed.fetchedAt).toBe(before?.fetchedAt);
      // A timeout is transient: tried again a few times in the background, no more.
      expect(requests('batch')).toBe(3);
      stack.emulator.clearFaults();
      await refresh(session);
      const recovered = only(await api.settled(session));
      expect(recovered.lastFailure).toBeNull();
      expect(Date.parse(recovered.fetchedAt ?? '')).toBeGreaterThan(Date.parse(before?.fetchedAt ?? ''));
    });

    it('logs a failed Smartcar answer once at warn with its status, type, code and request id', async () => {
      const { session } = await connect([MUSTANG]);
      stack.emulator.injectFault({
        endpoint: 'batch',
        status: 400,
        type: 'VALIDATION',
        code: 'PARAMETER',
        times: 1,
      });
      await refresh(session);
      expect(only(await api.settled(session)).lastFailure?.code).toBe('upstream_error');
      const lines = stack
        .logs()
        .split('\n')
        .filter((line) => line.includes('"VALIDATION"'))
        .map((line) => JSON.parse(line) as { level: number; smartcar: Record<string, unknown> });
      expect(lines.length).toBe(1);
      expect(lines[0]?.level).toBe(40);
      expect(lines[0]?.smartcar).toMatchObject({ call: 'batch', status: 400, type: 'VALIDATION' });
      expect(lines[0]?.smartcar.errorCode).toBe('PARAMETER');
      expect(lines[0]?.smartcar.requestId).toMatch(/^[0-9a-f-]{36}$/);
      const issued = stack.emulator.issuedTokens();
      expect(issued.length).toBeGreaterThan(0);
      for (const { token } of issued) expect(stack.logs()).not.toContain(token);
    });
  });

  describe("Smartcar's limits", () => {
    it.each([
      [
        'RATE_LIMIT:VEHICLE',
        { status: 429, type: 'RATE_LIMIT', code: 'VEHICLE', retryAfter: 120 },
        'rate_limited',
        120_000,
      ],
      [
        'UPSTREAM:RATE_LIMIT',
        { status: 429, type: 'UPSTREAM', code: 'RATE_LIMIT' },
        'rate_limited',
        30 * 60_000,
      ],
      [
        'BILLING:VEHICLE_REQUEST_LIMIT',
        { status: 430, type: 'BILLING', code: 'VEHICLE_REQUEST_LIMIT' },
        'request_budget_spent',
        null,
      ],
    ] as const)('does not retry %s and says when to try again', async (_name, fault, code, waitMs) => {
      const { session } = await connect([MUSTANG]);
      stack.emulator.injectFault({ endpoint: 'batch', ...fault, times: 1 });
      const before = Date.now();
      await refresh(session);
      const failed = only(await api.settled(session));
      expect(failed.lastFailure?.code).toBe(code);
      const retryAt = Date.parse(failed.lastFailure?.retryAt ?? '');
      const now = new Date();
      const expected = waitMs ?? Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1) - before;
      expect(retryAt).toBeGreaterThanOrEqual(before + expected - 1_000);
      expect(retryAt).toBeLessThanOrEqual(Date.now() + expected + 1_000);
      expect(Date.parse(failed.nextReadAt ?? '')).toBeGreaterThanOrEqual(retryAt);
      // Asking again now is refused here, without calling Smartcar.
      const again = await refresh(session);
      expect(again.status).toBe(429);
      expect(again.json.error.code).toBe(code);
      expect(again.json.error.retryAt).toBeDefined();
      expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(requests('batch')).toBe(1);
    });
  });

  describe('the monthly request budget', () => {
    it('paces automatic reads by what is left, stops them at the reserve, and leaves the rest to refreshes until spent', async () => {
      // The month's arithmetic needs room before the month ends: a fixed time mid-month, not today.
      stack.clock.hold(Date.parse('2026-06-15T12:00:00Z'));
      const { session, vehicles } = await connect([MUSTANG]);
      const first = vehicles[0];
      if (!first) throw new Error('no vehicle');
      // Attributes and four figures.
      expect(first.usage).toMatchObject({ billed: 5, budget: BUDGET });
      const nextReadAt = Date.parse(first.nextReadAt ?? '');
      expect(nextReadAt).toBeGreaterThan(stack.clock.now().getTime() + 60 * 60_000);
      // Looking often costs nothing until the next read is due.
      await Promise.all(Array.from({ length: 10 }, () => list(session)));
      expect(requests('batch')).toBe(0);
      const readWhenDue = async (at: number) => {
        stack.clock.hold(at + 1_000);
        const due = await list(session);
        expect(only(due.json).reading).toBe(true);
        return only(await api.settled(session));
      };
      const read = await readWhenDue(nextReadAt);
      expect(requests('batch')).toBe(1);
      expect(read.usage.billed).toBe(9);

      // Automatic reads may spend 80 % of the budget (16 here): one more read of four fits, and is due
      // well before the month ends; a third would pass the line, so none comes before the month is out.
      const monthEnd = startOfNextMonthUtc(stack.clock.now());
      const second = await readWhenDue(monthEnd - 10 * 60_000);
      expect(requests('batch')).toBe(2);
      expect(second.usage.billed).toBe(13);
      expect(Date.parse(second.nextReadAt ?? '')).toBe(monthEnd);
      stack.clock.hold(monthEnd - 60_000);
      expect(only((await list(session)).json).reading).toBe(false);
      expect(requests('batch')).toBe(2);

      // The reserve is the person's: a refresh still reads, until the budget is spent.
      expect((await refresh(session)).status).toBe(202);
      const spent = only(await api.settled(session));
      expect(spent.usage.billed).toBe(17);
      const refused = await refresh(session);
      expect(refused.status).toBe(429);
      expect(refused.json.error.code).toBe('request_budget_spent');
      const retryAt = Date.parse(refused.json.error.retryAt ?? '');
      expect(retryAt).toBeGreaterThanOrEqual(monthEnd);
      expect(retryAt).toBeLessThan(monthEnd + 2_000);
      expect(requests('batch')).toBe(3);
    });
  });

  describe('lock and unlock', () => {
    it('answers 202 for a lock Smartcar has not confirmed yet, then shows it confirmed', async () => {
      const { session, vehicles } = await connect([MUSTANG]);
      const id = vehicles[0]?.id ?? '';
      stack.emulator.injectFault({ endpoint: 'lock', delayMs: WAIT_MS * 2, times: 1 });
      const sent = await api.call<SecurityResponse>('POST', `/api/vehicles/${id}/security`, {
        session,
        body: { action: 'LOCK' },
      });
      expect(sent.status).toBe(202);
      expect(sent.json.vehicle.pendingCommand).toMatchObject({ action: 'LOCK' });
      await vi.waitFor(
        async () => {
          const vehicle = only((await list(session)).json);
          expect(vehicle.pendingCommand).toBeNull();
          expect(vehicle.data.security?.isLocked).toBe(true);
        },
        { timeout: 10_000, interval: 100 },
      );
      expect(requests('lock')).toBe(1);
    });

    it('answers 202 for a lock that met a transient Smartcar failure, then settles it from a lock-status read', async () => {
      const { session, vehicles } = await connect([MUSTANG]);
      const id = vehicles[0]?.id ?? '';
      // Smartcar answered 500: the command may have reached the car. The lock-status read that
      // settles it is slowed, so the answer is seen while the command is still pending.
      stack.emulator.injectFault({
        endpoint: 'lock',
        status: 500,
        type: 'SERVER',
        code: 'INTERNAL',
        times: 1,
      });
      stack.emulator.injectFault({ endpoint: 'batch', delayMs: WAIT_MS * 2, times: 1 });
      const sent = await api.call<SecurityResponse>('POST', `/api/vehicles/${id}/security`, {
        session,
        body: { action: 'LOCK' },
      });
      expect(sent.status).toBe(202);
      expect(sent.json.vehicle.pendingCommand).toMatchObject({ action: 'LOCK' });
      const settled = only(await api.settled(session));
      expect(settled.pendingCommand).toBeNull();
      expect(settled.lastFailure).toBeNull();
      expect(typeof settled.data.security?.isLocked).toBe('boolean');
      // Not sent again: a command that may have reached the car is never retried.
      expect(stack.emulator.calls().byEndpoint).toMatchObject({ lock: 1, lockStatus: 1 });
    });

    it('settles a lock whose call timed out from the next lock-status read, never as failed', async () => {
      const { session, vehicles } = await connect([MUSTANG]);
      const id = vehicles[0]?.id ?? '';
      stack.emulator.injectFault({ endpoint: 'lock', delayMs: TIMEOUT_MS * 3, times: 1 });
      const sent = await api.call<SecurityResponse>('POST', `/api/vehicles/${id}/security`, {
        session,
        body: { action: 'LOCK' },
      });
      expect(sent.status).toBe(202);
      await vi.waitFor(
        () => {
          expect(requests('batch')).toBe(1);
        },
        { timeout: 10_000, interval: 100 },
      );
      const settled = only(await api.settled(session));
      expect(settled.pendingCommand).toBeNull();
      expect(settled.lastFailure).toBeNull();
      // The command never reached the car: the lock-status read says so.
      expect(typeof settled.data.security?.isLocked).toBe('boolean');
      expect(stack.emulator.calls().byEndpoint).toMatchObject({ lock: 1, lockStatus: 1 });
      expect(stack.emulator.calls().byEndpoint.odometer).toBeUndefined();
    });

    it('answers the error of a command Smartcar refused, and leaves nothing pending', async () => {
      const { session, vehicles } = await connect([MUSTANG]);
      const id = vehicles[0]?.id ?? '';
      stack.emulator.injectFault({
        endpoint: 'unlock',
        status: 409,
        type: 'VEHICLE_STATE',
        code: 'DOOR_OPEN',
        times: 1,
      });
      const refused = await api.call<ErrorBody>('POST', `/api/vehicles/${id}/security`, {
        session,
        body: { action: 'UNLOCK' },
      });
      expect(refused.status).toBe(502);
      expect(refused.json.error.code).toBe('upstream_error');
      expect(only((await list(session)).json).pendingCommand).toBeNull();
      expect(requests('unlock')).toBe(1);
    });
  });

  describe('units', () => {
    it('answers every distance, range and fuel amount in imperial units, without reading again', async () => {
      const { session } = await connect([MUSTANG, LIGHTNING]);
      const metric = (await list(session, '?units=metric')).json.vehicles;
      const imperial = (await list(session, '?units=imperial')).json.vehicles;
      expect(requests('batch')).toBe(0);
      const pick = (vehicles: Vehicle[], model: string) => vehicles.find((v) => v.model === model);
      const [mustangKm, mustangMi] = [pick(metric, 'Mustang'), pick(imperial, 'Mustang')];
      const [lightningKm, lightningMi] = [pick(metric, 'F-150 Lightning'), pick(imperial, 'F-150 Lightning')];
      expect(mustangMi?.units).toBe('imperial');
      expect(mustangMi?.data.odometer?.distance).toBeCloseTo(
        (mustangKm?.data.odometer?.distance ?? 0) / 1.609344,
        0,
      );
      expect(mustangMi?.data.fuel?.range).toBeCloseTo((mustangKm?.data.fuel?.range ?? 0) / 1.609344, 0);
      expect(mustangMi?.data.fuel?.amountRemaining).toBeCloseTo(
        (mustangKm?.data.fuel?.amountRemaining ?? 0) / 3.785411784,
        0,
      );
      expect(mustangMi?.data.fuel?.percentRemaining).toBe(mustangKm?.data.fuel?.percentRemaining);
      expect(lightningMi?.data.battery?.range).toBeCloseTo(
        (lightningKm?.data.battery?.range ?? 0) / 1.609344,
        0,
      );
      expect(lightningMi?.data.location).toEqual(lightningKm?.data.location);
    });
  });

  // Last: the application-wide hold it leaves would refuse every later read in this file.
  describe("Smartcar's application limit", () => {
    it('does not retry RATE_LIMIT:SMARTCAR_API and holds every vehicle of the application', async () => {
      const alice = await connect([MUSTANG]);
      const bob = await connect([LIGHTNING]);
      stack.emulator.injectFault({
        endpoint: 'batch',
        status: 429,
        type: 'RATE_LIMIT',
        code: 'SMARTCAR_API',
        times: 1,
      });
      await refresh(alice.session);
      const failed = only(await api.settled(alice.session));
      expect(failed.lastFailure?.code).toBe('rate_limited');
      expect(Date.parse(failed.lastFailure?.retryAt ?? '')).toBeGreaterThan(Date.now() + 30_000);
      const bobRefused = await refresh(bob.session);
      expect(bobRefused.status).toBe(429);
      expect(bobRefused.json.error.code).toBe('rate_limited');
      expect(requests('batch')).toBe(1);
    });
  });
});

/** The first moment of the next calendar month (UTC), in ms: when this month's budget starts afresh. */
function startOfNextMonthUtc(now: Date): number {
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
}
