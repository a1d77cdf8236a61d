// The extension's API over real HTTP, against the emulator, on both databases.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, VehiclesResponse } from '../../protocol/server-api';
import { REDIRECT_URI, apiClient } from '../support/api-client';
import { startStack, type Stack } from '../support/stack';
import { expectEvery } from '../support/expect-every';

describe.each(['embedded', 'postgresql'] as const)('API on the %s database', (database) => {
  let stack: Stack;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    stack = await startStack({ database });
    api = apiClient(stack.serverUrl);
  });

  afterAll(async () => {
    await stack.close();
  });

  describe('POST /api/connect', () => {
    it('answers a Connect URL carrying a fresh single-use state and the requested scope', async () => {
      const first = await api.call<{ url: string; state: string }>('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI },
      });
      const second = await api.call<{ url: string; state: string }>('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI },
      });
      expect(first.status).toBe(200);
      const url = new URL(first.json.url);
      expect(url.origin).toBe(stack.emulator.origin);
      expect(url.pathname).toBe('/oauth/authorize');
      expect(url.searchParams.get('state')).toBe(first.json.state);
      expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
      expect(url.searchParams.get('mode')).toBe('test');
      expect(url.searchParams.get('approval_prompt')).toBe('force');
      expect(url.searchParams.get('scope')).toContain('read_odometer');
      expect(first.json.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(second.json.state).not.toBe(first.json.state);
    });

    it.each([
      [
        'a redirect URI not in the allow-list',
        { redirectUri: 'https://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.chromiumapp.org/' },
        'redirect_uri_not_allowed',
      ],
      ['a plain-HTTP redirect URI', { redirectUri: 'http://evil.example/' }, 'bad_request'],
      ['a missing redirect URI', {}, 'bad_request'],
      ['an unknown field', { redirectUri: REDIRECT_URI, extra: 1 }, 'bad_request'],
      ['a body that is not an object', [REDIRECT_URI], 'bad_request'],
    ])('refuses %s with a 400', async (_case, body, code) => {
      const answer = await api.call<ErrorBody>('POST', '/api/connect', { body });
      expect(answer.status).toBe(400);
      expect(answer.json.error.code).toBe(code);
      expect(answer.json.error.message.length).toBeGreaterThan(10);
    });

    it('refuses malformed JSON, another content type and an oversized body with a 4xx', async () => {
      const send = (body: string, contentType: string) =>
        fetch(`${stack.serverUrl}/api/connect`, {
          method: 'POST',
          headers: { 'content-type': contentType },
          body,
        });
      const malformed = await send('{"redirectUri":', 'application/json');
      const form = await send('redirectUri=x', 'application/x-www-form-urlencoded');
      const huge = await send(JSON.stringify({ redirectUri: 'x'.repeat(100_000) }), 'application/json');
      expect([malformed.status, form.status, huge.status]).toEqual([400, 415, 413]);
      for (const answer of [malformed, form, huge]) {
        expect(((await answer.json()) as ErrorBody).error.code).toBe('bad_request');
      }
    });

    it('refuses calls from web pages and grants CORS to the extension only', async () => {
      const fromPage = await api.call<ErrorBody>('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI },
        headers: { origin: 'https://evil.example' },
      });
      expect(fromPage.status).toBe(403);
      expect(fromPage.headers.get('access-control-allow-origin')).toBeNull();
      const fromExtension = await api.call('OPTIONS', '/api/connect');
      expect(fromExtension.status).toBe(204);
      expect(fromExtension.headers.get('access-control-allow-origin')).toMatch(/^chrome-extension:\/\//);
    });

    it('refuses an unknown session instead of starting a new user', async () => {
      const answer = await api.call<ErrorBody>('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI },
        session: 'not-a-session',
      });
      expect(answer.status).toBe(401);
      expect(answer.json.error.code).toBe('unauthorized');
    });
  });

  describe('POST /api/exchange', () => {
    it('exchanges the code and answers a session and the picked vehicles with their data', async () => {
      const result = await api.connectVehicles({ choices: { brand: 'TESLA' } });
      expect(result.session).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(result.vehicles.length).toBeGreaterThanOrEqual(2);
      for (const vehicle of result.vehicles) {
        expect(vehicle).toMatchObject({ make: 'TESLA', status: 'connected', units: 'metric' });
        expect(vehicle.year).toBeGreaterThan(2000);
        expect(vehicle.permissions).toContain('read_odometer');
        expect(vehicle.permissions).not.toContain('read_fuel');
        expect(vehicle.data.odometer?.distance).toBeGreaterThan(0);
        expect(vehicle.data.battery?.percentRemaining).toBeGreaterThan(0);
        expect(vehicle.data.fuel).toBeUndefined();
        expect(typeof vehicle.data.security?.isLocked).toBe('boolean');
        expect(vehicle.fetchedAt).not.toBeNull();
      }
    });

    it('shows only the vehicles the user picked', async () => {
      const result = await api.connectVehicles({ choices: { brand: 'FORD', vins: ['1FA6P8CF4M5100257'] } });
      expect(result.vehicles.map((vehicle) => `${vehicle.make} ${vehicle.model}`)).toEqual(['FORD Mustang']);
    });

    it('reads fuel for a fuel car and battery for an electric one', async () => {
      const { vehicles } = await api.connectVehicles({
        choices: { brand: 'FORD', vins: ['1FA6P8CF4M5100257', '1FTVW1EL5PWG00418'] },
      });
      const mustang = vehicles.find((vehicle) => vehicle.model === 'Mustang');
      const lightning = vehicles.find((vehicle) => vehicle.model === 'F-150 Lightning');
      expect(mustang?.data.fuel?.percentRemaining).toBeGreaterThan(0);
      expect(mustang?.data.battery).toBeUndefined();
      expect(lightning?.data.battery?.range).toBeGreaterThan(0);
      expect(lightning?.data.fuel).toBeUndefined();
    });

    it('adds vehicles connected later with the same session to the same list', async () => {
      const first = await api.connectVehicles({ choices: { brand: 'TESLA' } });
      const second = await api.connectVehicles({ session: first.session, choices: { brand: 'FORD' } });
      expect(second.session).toBe(first.session);
      const makes = second.vehicles.map((vehicle) => vehicle.make);
      expect(makes).toContain('TESLA');
      expect(makes).toContain('FORD');
      expect(second.vehicles.length).toBe(
        first.vehicles.length + second.vehicles.filter((v) => v.make === 'FORD').length,
      );
    });

    it('refuses a replayed state', async () => {
      const { code, state } = await api.authorize();
      expect((await api.call('POST', '/api/exchange', { body: { code, state } })).status).toBe(200);
      const replay = await api.call<ErrorBody>('POST', '/api/exchange', { body: { code, state } });
      expect(replay.status).toBe(400);
      expect(replay.json.error.code).toBe('invalid_state');
    });

    it('refuses a replayed code even with a fresh state', async () => {
      const used = await api.authorize();
      expect(
        (await api.call('POST', '/api/exchange', { body: { code: used.code, state: used.state } })).status,
      ).toBe(200);
      const fresh = await api.authorize();
      const replay = await api.call<ErrorBody>('POST', '/api/exchange', {
        body: { code: used.code, state: fresh.state },
      });
      expect(replay.status).toBe(400);
      expect(replay.json.error.code).toBe('invalid_code');
    });

    it('refuses a state older than ten minutes', async () => {
      const { code, state } = await api.authorize();
      try {
        stack.clock.hold(Date.now() + 10 * 60 * 1000 + 1000);
        const late = await api.call<ErrorBody>('POST', '/api/exchange', { body: { code, state } });
        expect(late.status).toBe(400);
        expect(late.json.error.code).toBe('invalid_state');
      } finally {
        stack.clock.release();
      }
    });

    it("refuses a state made for another user's session", async () => {
      const alice = await api.connectVehicles();
      const { code, state } = await api.authorize({ session: alice.session });
      const bob = await api.call<ErrorBody>('POST', '/api/exchange', { body: { code, state } });
      expect(bob.status).toBe(400);
      expect(bob.json.error.code).toBe('invalid_state');
    });

    it.each([
      ['no code', (state: string) => ({ state })],
      ['an empty code', (state: string) => ({ code: '', state })],
      ['a numeric state', () => ({ code: 'x', state: 1 })],
      ['an oversized code', (state: string) => ({ code: 'x'.repeat(600), state })],
    ])('refuses %s with a 400 and uses up no state', async (_case, badBody) => {
      const { code, state } = await api.authorize();
      const answer = await api.call<ErrorBody>('POST', '/api/exchange', { body: badBody(state) });
      expect(answer.status).toBe(400);
      expect(answer.json.error.code).toBe('bad_request');
      // The state the bad request named still works with its own code.
      const good = await api.call('POST', '/api/exchange', { body: { code, state } });
      expect(good.status, good.text).toBe(200);
    });
  });

  describe('GET /api/vehicles', () => {
    it('answers the vehicles of the session and nobody else', async () => {
      const alice = await api.connectVehicles({ choices: { brand: 'TESLA' } });
      const bob = await api.connectVehicles({ choices: { brand: 'FORD' } });
      const aliceList = await api.call<VehiclesResponse>('GET', '/api/vehicles', { session: alice.session });
      const bobList = await api.call<VehiclesResponse>('GET', '/api/vehicles', { session: bob.session });
      expect(aliceList.status).toBe(200);
      expect(aliceList.json.vehicles.map((v) => v.id).sort()).toEqual(alice.vehicles.map((v) => v.id).sort());
      expectEvery(bobList.json.vehicles, (v) => v.make === 'FORD');
    });

    it('answers from storage without calling Smartcar, and starts a due read once for many requests', async () => {
      const { session, vehicles } = await api.connectVehicles({ choices: { email: 'stale@example.com' } });
      stack.emulator.resetCalls();
      await Promise.all(Array.from({ length: 20 }, () => api.call('GET', '/api/vehicles', { session })));
      expect(stack.emulator.calls().requests).toEqual({});

      const due = Math.max(...vehicles.map((vehicle) => Date.parse(vehicle.nextReadAt ?? '')));
      try {
        stack.clock.hold(due + 1_000);
        const answers = await Promise.all(
          Array.from({ length: 20 }, () => api.call<VehiclesResponse>('GET', '/api/vehicles', { session })),
        );
        expectEvery(answers, (answer) => answer.status === 200);
        // The first answer already says a read is under way; none waited for it.
        expectEvery(answers[0]?.json.vehicles, (vehicle) => vehicle.reading);
        await api.settled(session);
      } finally {
        stack.clock.release();
      }
      // One batch per vehicle (and a token refresh: hours passed).
      expect(stack.emulator.calls().requests.batch).toBe(vehicles.length);
    });

    it.each([
      ['no session', {}],
      ['an unknown session', { session: 'A'.repeat(43) }],
      ['a malformed header', { headers: { authorization: 'Basic abc' } }],
    ])('answers 401 for %s', async (_case, options) => {
      const answer = await api.call<ErrorBody>('GET', '/api/vehicles', options);
      expect(answer.status).toBe(401);
      expect(answer.json.error.code).toBe('unauthorized');
    });
  });

  describe('POST /api/connect options', () => {
    it('passes a preferred make and single-vehicle choice on to Connect', async () => {
      const answer = await api.call<{ url: string }>('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI, make: 'FORD', singleVehicle: true },
      });
      const url = new URL(answer.json.url);
      expect(url.searchParams.get('make')).toBe('FORD');
      expect(url.searchParams.get('single_select')).toBe('true');
    });

    it('accepts the Firefox redirect URL of the configured add-on', async () => {
      const answer = await api.call('POST', '/api/connect', {
        body: { redirectUri: 'https://718b27bad8685b3ba9c16c26bd830ba3903e34c6.extensions.allizom.org/' },
      });
      expect(answer.status).toBe(200);
    });

    it('refuses a make that is not a make name', async () => {
      const answer = await api.call<ErrorBody>('POST', '/api/connect', {
        body: { redirectUri: REDIRECT_URI, make: 'tesla&scope=x' },
      });
      expect(answer.status).toBe(400);
      expect(answer.json.error.message).toMatch(/make/);
    });
  });

  describe('units', () => {
    it('reads vehicles in imperial units when asked, and again in metric', async () => {
      const metric = await api.connectVehicles({ choices: { brand: 'FORD', vins: ['1FA6P8CF4M5100257'] } });
      const km = metric.vehicles[0]?.data.odometer?.distance ?? 0;
      const imperial = await api.call<VehiclesResponse>('GET', '/api/vehicles?units=imperial', {
        session: metric.session,
      });
      const [vehicle] = imperial.json.vehicles;
      expect(vehicle?.units).toBe('imperial');
      expect(vehicle?.data.odometer?.distance).toBeCloseTo(km / 1.609344, -1);
      const back = await api.call<VehiclesResponse>('GET', '/api/vehicles?units=metric', {
        session: metric.session,
      });
      expect(back.json.vehicles[0]?.units).toBe('metric');
    });

    it('refuses an unknown unit system', async () => {
      const { session } = await api.connectVehicles();
      const answer = await api.call<ErrorBody>('GET', '/api/vehicles?units=furlongs', { session });
      expect(answer.status).toBe(400);
    });
  });

  describe('POST /api/vehicles/:id/security', () => {
    it('locks and unlocks the vehicle and reports the new status', async () => {
      const { session, vehicles } = await api.connectVehicles({ choices: { email: 'locks@example.com' } });
      const id = vehicles[0]?.id ?? '';
      await api.call('GET', '/api/vehicles', { session });
      const unlocked = await api.call<{ vehicle: { data: { security?: { isLocked: boolean } } } }>(
        'POST',
        `/api/vehicles/${id}/security`,
        { session, body: { action: 'UNLOCK' } },
      );
      expect(unlocked.status).toBe(200);
      expect(unlocked.json.vehicle.data.security?.isLocked).toBe(false);
      // The list shows it at once, though it was answered from memory a moment ago.
      const listed = await api.call<VehiclesResponse>('GET', '/api/vehicles', { session });
      expect(listed.json.vehicles.find((vehicle) => vehicle.id === id)?.data.security?.isLocked).toBe(false);
      const locked = await api.call<{ vehicle: { data: { security?: { isLocked: boolean } } } }>(
        'POST',
        `/api/vehicles/${id}/security`,
        { session, body: { action: 'LOCK' } },
      );
      expect(locked.json.vehicle.data.security?.isLocked).toBe(true);
    });

    it('refuses an unknown action', async () => {
      const { session, vehicles } = await api.connectVehicles();
      const answer = await api.call<ErrorBody>('POST', `/api/vehicles/${vehicles[0]?.id ?? ''}/security`, {
        session,
        body: { action: 'OPEN_SUNROOF' },
      });
      expect(answer.status).toBe(400);
    });
  });

  describe('DELETE /api/vehicles/:id', () => {
    it('disconnects the vehicle at Smartcar and forgets it, keeping the others', async () => {
      const { session, vehicles } = await api.connectVehicles({
        choices: { brand: 'TESLA', email: 'disconnects@example.com' },
      });
      const [gone, kept] = vehicles;
      if (!gone || !kept) throw new Error('expected two Tesla vehicles');
      stack.emulator.resetCalls();
      const answer = await api.call('DELETE', `/api/vehicles/${gone.id}`, { session });
      expect(answer.status).toBe(204);
      expect(stack.emulator.calls().byEndpoint.disconnect).toBe(1);
      const list = await api.call<VehiclesResponse>('GET', '/api/vehicles', { session });
      expect(list.json.vehicles.map((vehicle) => vehicle.id)).toEqual([kept.id]);
      const again = await api.call<ErrorBody>('DELETE', `/api/vehicles/${gone.id}`, { session });
      expect(again.status).toBe(404);
    });

    it('keeps the vehicle when Smartcar does not take the disconnect, so it can be tried again', async () => {
      const { session, vehicles } = await api.connectVehicles({
        choices: { brand: 'TESLA', email: 'disconnect-fails@example.com' },
      });
      const car = vehicles[0]?.id ?? '';
      stack.emulator.injectFault({
        endpoint: 'disconnect',
        type: 'RATE_LIMIT',
        code: 'VEHICLE',
        retryAfter: 30,
        times: 1,
      });
      const failed = await api.call<ErrorBody>('DELETE', `/api/vehicles/${car}`, { session });
      expect([failed.status, failed.json.error.code]).toEqual([429, 'rate_limited']);
      const list = await api.call<VehiclesResponse>('GET', '/api/vehicles', { session });
      expect(list.json.vehicles.map((vehicle) => vehicle.id)).toContain(car);
      expect((await api.call('DELETE', `/api/vehicles/${car}`, { session })).status).toBe(204);
    });

    // Smartcar's disconnect ends the application's access to the car, for every grant.
    it('leaves the car connected at Smartcar while the same account is connected in another browser', async () => {
      const choices = { brand: 'TESLA', email: 'two-browsers@example.com' };
      const home = await api.connectVehicles({ choices });
      const work = await api.connectVehicles({ choices });
      const car = home.vehicles[0]?.id ?? '';
      stack.emulator.resetCalls();
      expect((await api.call('DELETE', `/api/vehicles/${car}`, { session: home.session })).status).toBe(204);
      expect(stack.emulator.calls().byEndpoint.disconnect ?? 0).toBe(0);
      const stillThere = await api.readNow(work.session);
      expect(stillThere.vehicles.find((vehicle) => vehicle.id === car)?.lastFailure).toBeNull();

      expect((await api.call('DELETE', `/api/vehicles/${car}`, { session: work.session })).status).toBe(204);
      expect(stack.emulator.calls().byEndpoint.disconnect).toBe(1);
    });

    it("cannot touch another user's vehicle", async () => {
      const alice = await api.connectVehicles({ choices: { email: 'alice@example.com' } });
      const bob = await api.connectVehicles({ choices: { email: 'bob@example.com' } });
      const target = alice.vehicles[0]?.id ?? '';
      const answer = await api.call<ErrorBody>('DELETE', `/api/vehicles/${target}`, { session: bob.session });
      expect(answer.status).toBe(404);
      const list = await api.call<VehiclesResponse>('GET', '/api/vehicles', { session: alice.session });
      expect(list.json.vehicles.map((vehicle) => vehicle.id)).toContain(target);
    });
  });

  describe('DELETE /api/session', () => {
    it('signs out: the session stops working', async () => {
      const { session } = await api.connectVehicles();
      expect((await api.call('DELETE', '/api/session', { session })).status).toBe(204);
      expect((await api.call('GET', '/api/vehicles', { session })).status).toBe(401);
      expect((await api.call('DELETE', '/api/session', { session })).status).toBe(401);
    });
  });

  it('answers unknown paths with a JSON 404', async () => {
    const answer = await api.call<ErrorBody>('GET', '/api/nothing-here');
    expect(answer.status).toBe(404);
    expect(answer.json.error.code).toBe('not_found');
  });

  it('answers /healthz', async () => {
    expect((await api.call('GET', '/healthz')).status).toBe(200);
  });
});
