// API v3 webhooks against a real receiver on 127.0.0.1: VERIFY, subscriptions by the Management API,
// VEHICLE_STATE (FIRST_DELIVERY, trigger changes), VEHICLE_ERROR, signatures and retries.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEV_CLIENT, type Emulator } from '../../emulator/index';
import { startForSdk } from './helpers';
import { connectDriver, v3, type Driver } from './v3-helpers';

const AMT = DEV_CLIENT.managementToken ?? '';
const hmac = (text: string) => createHmac('sha256', AMT).update(text).digest('hex');

interface Received {
  body: { eventId: string; eventType: string; data: Record<string, unknown>; triggers?: unknown[] };
  valid: boolean;
}

/** Answers VERIFY correctly unless told otherwise; `statuses` are played one per request, then 200. */
let received: Received[] = [];
let statuses: number[] = [];
let answerChallenges = true;
let receiver: Server;
let url: string;
let emulator: Emulator;

beforeAll(async () => {
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString();
      const body = JSON.parse(raw) as Received['body'];
      received.push({ body, valid: request.headers['sc-signature'] === hmac(raw) });
      const challenge = (body.data as { challenge?: string }).challenge;
      response.writeHead(statuses.shift() ?? 200, { 'content-type': 'application/json' });
      response.end(challenge && answerChallenges ? JSON.stringify({ challenge: hmac(challenge) }) : '{}');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhook`;
  emulator = await startForSdk({
    latencyScale: 0.0005,
    limits: { appBucketSize: null, vehicleRequestsPerWindow: null },
  });
});
afterAll(async () => {
  await emulator.close();
  await new Promise((resolve) => receiver.close(resolve));
});
beforeEach(() => {
  received = [];
  statuses = [];
  answerChallenges = true;
});

async function until<T>(probe: () => T | undefined): Promise<T> {
  for (let tries = 0; tries < 200; tries += 1) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error('Timed out waiting for a webhook delivery.');
}

const eventsOf = (type: string) => received.filter(({ body }) => body.eventType === type);
const nth = (type: string, count: number) =>
  until(() => (eventsOf(type).length >= count ? eventsOf(type) : undefined));

async function verifiedWebhook(id: string, extra: { autoEnroll?: boolean } = {}) {
  emulator.setWebhook({ id, url, triggers: ['closure-islocked'], ...extra });
  await until(() => emulator.webhookDeliveries().find((d) => d.webhookId === id && d.status === 'delivered'));
}

function subscribe(driver: Driver, webhookId: string, token = AMT) {
  return v3(emulator, '/subscriptions', token, {
    method: 'POST',
    body: { data: { attributes: { webhookId, vehicleId: driver.vehicleId } } },
  });
}

describe('webhook verification (VERIFY)', () => {
  it('posts a signed VERIFY when a URL is set and counts the hashed challenge as verified', async () => {
    await verifiedWebhook('wh-verify');
    const [verify] = await nth('VERIFY', 1);
    expect(verify?.valid).toBe(true);
    expect(verify?.body).toMatchObject({
      eventType: 'VERIFY',
      meta: { version: '4.0', webhookId: 'wh-verify' },
    });
  });

  it('sends no vehicle data to a webhook whose receiver got the challenge wrong', async () => {
    answerChallenges = false;
    emulator.setWebhook({ id: 'wh-unverified', url });
    await until(() =>
      emulator.webhookDeliveries().find((d) => d.webhookId === 'wh-unverified' && d.status === 'dropped'),
    );
    const driver = await connectDriver(emulator, 'v3.wh.unverified@example.com');
    expect((await subscribe(driver, 'wh-unverified')).status).toBe(202);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(eventsOf('VEHICLE_STATE')).toEqual([]);
  });
});

describe('POST /v3/subscriptions and VEHICLE_STATE', () => {
  it('answers 202 and delivers FIRST_DELIVERY with the user, the vehicle and the signals', async () => {
    await verifiedWebhook('wh-first');
    const driver = await connectDriver(emulator, 'v3.wh.first@example.com');
    const response = await subscribe(driver, 'wh-first');
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({ meta: { message: 'subscription creation in progress' } });
    const [first] = await nth('VEHICLE_STATE', 1);
    expect(first?.valid).toBe(true);
    expect(first?.body).toMatchObject({
      vehicleId: driver.vehicleId,
      data: { user: { id: driver.userId }, vehicle: { id: driver.vehicleId, make: 'TESLA' } },
      triggers: [{ code: 'FIRST_DELIVERY' }],
    });
    const signals = first?.body.data.signals as { code: string; status?: { value: string } }[];
    expect(signals.find((s) => s.code === 'closure-islocked')).toMatchObject({ body: { value: true } });
    expect(signals.find((s) => s.code.startsWith('internalcombustionengine'))?.status?.value).toBe('ERROR');
    expect((await subscribe(driver, 'wh-first')).status).toBe(409);
  });

  it('refuses the application token, an unknown webhook or vehicle', async () => {
    await verifiedWebhook('wh-refuse');
    const driver = await connectDriver(emulator, 'v3.wh.refuse@example.com');
    expect((await subscribe(driver, 'wh-refuse', driver.token)).status).toBe(401);
    expect((await subscribe(driver, 'nope')).status).toBe(404);
    expect((await subscribe({ ...driver, vehicleId: 'nope' }, 'wh-refuse')).status).toBe(404);
  });

  it('delivers a trigger change from a v3 command, a v2 lock and the control API, in that order', async () => {
    await verifiedWebhook('wh-change');
    const driver = await connectDriver(emulator, 'v3.wh.change@example.com');
    await subscribe(driver, 'wh-change');
    await nth('VEHICLE_STATE', 1);
    const headers = { 'sc-user-id': driver.userId };
    await v3(emulator, `/vehicles/${driver.vehicleId}/commands/security/unlock`, driver.token, {
      method: 'POST',
      headers,
    });
    await nth('VEHICLE_STATE', 2);
    await fetch(`${emulator.origin}/v2.0/vehicles/${driver.vehicleId}/security`, {
      method: 'POST',
      headers: { authorization: `Bearer ${driver.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'LOCK' }),
    });
    await nth('VEHICLE_STATE', 3);
    emulator.setVehicleState(driver.vehicleId, { isLocked: false });
    const events = await nth('VEHICLE_STATE', 4);
    const locked = events.map(
      ({ body }) =>
        (body.data.signals as { code: string; body?: { value: boolean } }[]).find(
          (s) => s.code === 'closure-islocked',
        )?.body?.value,
    );
    expect(locked).toEqual([true, false, true, false]);
    expect(events[1]?.body.triggers).toEqual([
      { code: 'closure-islocked', name: 'IsLocked', group: 'Closure' },
    ]);
    emulator.setVehicleState(driver.vehicleId, { isLocked: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(eventsOf('VEHICLE_STATE')).toHaveLength(4);
  });

  it('stops delivering once the subscription is deleted', async () => {
    await verifiedWebhook('wh-delete');
    const driver = await connectDriver(emulator, 'v3.wh.delete@example.com');
    await subscribe(driver, 'wh-delete');
    const [first] = await nth('VEHICLE_STATE', 1);
    expect(first).toBeDefined();
    // The 202 carries no id: the list gives it.
    const id = await subscriptionId(driver);
    expect((await v3(emulator, `/subscriptions/${id}`, AMT, { method: 'DELETE' })).status).toBe(204);
    emulator.setVehicleState(driver.vehicleId, { isLocked: false });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(eventsOf('VEHICLE_STATE')).toHaveLength(1);
  });

  it('auto-enrolls every new connection with a FIRST_DELIVERY', async () => {
    await verifiedWebhook('wh-auto', { autoEnroll: true });
    const driver = await connectDriver(emulator, 'v3.wh.auto@example.com');
    const events = await until(() =>
      eventsOf('VEHICLE_STATE').find(
        ({ body }) => (body as { vehicleId?: string }).vehicleId === driver.vehicleId,
      ),
    );
    expect(events.body.triggers).toEqual([{ code: 'FIRST_DELIVERY' }]);
    emulator.setWebhook({ id: 'wh-auto', url, autoEnroll: false });
  });
});

describe('delivery', () => {
  it('retries a failed delivery with the same eventId, then counts it delivered', async () => {
    await verifiedWebhook('wh-retry');
    const driver = await connectDriver(emulator, 'v3.wh.retry@example.com');
    statuses = [500, 503];
    await subscribe(driver, 'wh-retry');
    const events = await nth('VEHICLE_STATE', 3);
    expect(new Set(events.map(({ body }) => body.eventId)).size).toBe(1);
    const delivery = await until(() =>
      emulator
        .webhookDeliveries()
        .find((d) => d.eventId === events[0]?.body.eventId && d.status !== 'pending'),
    );
    expect(delivery).toMatchObject({
      url,
      eventType: 'VEHICLE_STATE',
      attempts: 3,
      statuses: [500, 503, 200],
      status: 'delivered',
    });
  });

  it('drops a delivery after four failed attempts', async () => {
    await verifiedWebhook('wh-drop');
    const driver = await connectDriver(emulator, 'v3.wh.drop@example.com');
    statuses = [500, 500, 500, 500];
    await subscribe(driver, 'wh-drop');
    const delivery = await until(() =>
      emulator.webhookDeliveries().find((d) => d.webhookId === 'wh-drop' && d.status === 'dropped'),
    );
    expect(delivery.attempts).toBe(4);
  });

  it('sends VEHICLE_ERROR when the car fails and RESOLVED when it recovers', async () => {
    await verifiedWebhook('wh-error');
    const driver = await connectDriver(emulator, 'v3.wh.error@example.com');
    await subscribe(driver, 'wh-error');
    await nth('VEHICLE_STATE', 1);
    emulator.setVehicleState(driver.vehicleId, { failure: { type: 'VEHICLE_STATE', code: 'ASLEEP' } });
    emulator.setVehicleState(driver.vehicleId, { failure: null });
    const errors = await nth('VEHICLE_ERROR', 2);
    expect(errors.map(({ body }) => (body.data.errors as { state: string }[])[0])).toMatchObject([
      { type: 'VEHICLE_STATE', code: 'ASLEEP', state: 'ERROR' },
      { type: 'VEHICLE_STATE', code: 'ASLEEP', state: 'RESOLVED' },
    ]);
    expect(errors.every(({ valid }) => valid)).toBe(true);
  });
});

async function subscriptionId(driver: Driver): Promise<string> {
  const response = await v3(emulator, `/subscriptions?filter[vehicleId]=${driver.vehicleId}`, AMT);
  const { data } = (await response.json()) as { data: { id: string }[] };
  return data[0]?.id ?? '';
}
