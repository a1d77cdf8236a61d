// Figure 7: what a month of one person's use costs in billed Smartcar requests, per vehicle,
// against the request budget; side by side with the seed tutorial's shape, which reads the car on
// every view. The clock is simulated (the back end's; timers stay real), so a month runs in seconds.
import smartcar from 'smartcar';
import { DEFAULT_LIMITS } from '../emulator';
import type { Vehicle, VehiclesResponse } from '../protocol/server-api';
import { apiClient } from '../tests/support/api-client';
import { startStack, TEST_CLIENT, type Stack } from '../tests/support/stack';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Figure, Row } from './lib/report';

/** FORD's test account has three vehicles, electric and fuel, so "per vehicle" means something. */
const BRAND = 'FORD';
const DAYS = Number(process.env.BENCH_DAYS ?? 30);
/** Popup opens a day, every 30 minutes from 07:00 to 21:30. */
const OPENS_PER_DAY = 30;
const FIRST_OPEN_HOUR = 7;
/** A lock of the first vehicle that allows it, twice a week: Mondays and Thursdays at 22:00, after the day's opens. */
const LOCK_DAYS = new Set([1, 4]);
const BUDGET = 500;
/** The month simulated: a 30-day run inside one calendar month. */
const MONTH_START = Date.UTC(2027, 0, 1);
const HOUR = 3_600_000;

/** What the seed tutorial's server asks Smartcar for each time the page shows a vehicle. */
const BASELINE_PATHS = ['/', '/odometer', '/battery', '/fuel', '/location', '/security'];

interface Usage {
  billedPerVehicle: number[];
  httpRequests: number;
  /** Locks sent (ours) or reads asked for (the baseline), and how many of them Smartcar or the server refused. */
  attempts: number;
  refused: number;
  /** The day (from 1) of the first refusal, if any. */
  firstRefusedOnDay?: number;
}

const opensOf = (day: number) =>
  Array.from(
    { length: OPENS_PER_DAY },
    (_, i) => MONTH_START + day * 24 * HOUR + (FIRST_OPEN_HOUR + i / 2) * HOUR,
  );

/** Counts attempts (locks, reads) and those refused, with the day of the first refusal. */
class Tally {
  attempts = 0;
  refused = 0;
  firstRefusedOnDay: number | undefined;

  record(succeeded: boolean, day: number): void {
    this.attempts += 1;
    if (succeeded) return;
    this.refused += 1;
    this.firstRefusedOnDay ??= day + 1;
  }
}

/**
 * Runs one month against a fresh back end with Smartcar's documented limits, on the stack's clock
 * (the server's and the emulator's), held at the month's start and moved by `run`. `run` answers
 * the vehicle ids it used.
 */
async function simulate(
  env: Record<string, string>,
  run: (stack: Stack, tally: Tally) => Promise<string[]>,
): Promise<Usage> {
  const stack = await startStack({ env: { LOG_LEVEL: 'warn', ...env } });
  stack.clock.hold(MONTH_START);
  stack.emulator.setLimits(DEFAULT_LIMITS);
  try {
    const tally = new Tally();
    const ids = await run(stack, tally);
    const billed = stack.emulator.billing().byVehicle;
    return {
      billedPerVehicle: ids.map((id) => billed[id] ?? 0),
      httpRequests: Object.values(stack.emulator.calls().requests).reduce((a, b) => a + b, 0),
      attempts: tally.attempts,
      refused: tally.refused,
      ...(tally.firstRefusedOnDay ? { firstRefusedOnDay: tally.firstRefusedOnDay } : {}),
    };
  } finally {
    await stack.close();
  }
}

/** Our server: the popup asks for the vehicles; it waits while the server reads (as the background polls). */
const ourServer = () =>
  simulate({ SMARTCAR_REQUEST_BUDGET: String(BUDGET) }, async (stack, tally) => {
    const api = apiClient(stack.serverUrl);
    const connected = await api.connectVehicles({ choices: { brand: BRAND } });
    const session = connected.session;
    const open = async (): Promise<Vehicle[]> => {
      // The clock stands still while the reads it started finish, as they would within seconds.
      for (let polls = 0; polls < 2_000; polls++) {
        const answer = await api.call<VehiclesResponse>('GET', '/api/vehicles', { session });
        if (answer.status !== 200)
          throw new Error(`GET /api/vehicles answered ${answer.status}: ${answer.text}`);
        const { vehicles, pendingConnections } = answer.json;
        if (pendingConnections === 0 && !vehicles.some((v) => v.reading || v.pendingCommand)) return vehicles;
        await sleep(20);
      }
      throw new Error('the reads an open started never finished');
    };
    const lock = async (vehicleId: string): Promise<number> => {
      const answer = await api.call('POST', `/api/vehicles/${vehicleId}/security`, {
        session,
        body: { action: 'LOCK' },
      });
      return answer.status;
    };
    let vehicles = await open();
    for (let day = 0; day < DAYS; day++) {
      for (const time of opensOf(day)) {
        stack.clock.hold(time);
        vehicles = await open();
      }
      if (LOCK_DAYS.has(new Date(MONTH_START + day * 24 * HOUR).getUTCDay())) {
        stack.clock.hold(MONTH_START + day * 24 * HOUR + 22 * HOUR);
        const lockable = vehicles.find((v) => v.permissions.includes('control_security'));
        if (lockable) tally.record((await lock(lockable.id)) < 400, day);
      }
    }
    return vehicles.map((v) => v.id);
  });

/** The seed's shape: every view reads every figure of every vehicle, straight from Smartcar. */
const readOnEveryView = () =>
  simulate({}, async (stack, tally) => {
    const { code } = await apiClient(stack.serverUrl).authorize({ choices: { brand: BRAND } });
    // The tutorial's SDK finds Smartcar where the SDK looks: in the environment.
    process.env.SMARTCAR_API_ORIGIN = stack.emulator.origin;
    process.env.SMARTCAR_AUTH_ORIGIN = stack.emulator.origin;
    const client = new smartcar.AuthClient({
      clientId: TEST_CLIENT.clientId,
      clientSecret: TEST_CLIENT.clientSecret,
      redirectUri: TEST_CLIENT.redirectUris[0] ?? '',
      mode: 'test',
    });
    let access = await client.exchangeCode(code);
    // The SDK dates a token by the machine's clock; the month is on the back end's.
    const expiresAt = () => stack.clock.now().getTime() + access.expiration.getTime() - Date.now();
    let accessExpiresAt = expiresAt();
    const { vehicles: ids } = await smartcar.getVehicles(access.accessToken);
    for (let day = 0; day < DAYS; day++) {
      for (const time of opensOf(day)) {
        stack.clock.hold(time);
        if (accessExpiresAt <= time) {
          access = await client.exchangeRefreshToken(access.refreshToken);
          accessExpiresAt = expiresAt();
        }
        for (const id of ids) {
          const read = await new smartcar.Vehicle(id, access.accessToken).batch(BASELINE_PATHS).then(
            () => true,
            () => false,
          );
          tally.record(read, day);
        }
      }
    }
    return ids;
  });

const describeBilled = (billed: number[]) => `${Math.max(...billed)} max, ${billed.join(' / ')} per vehicle`;

export async function monthOfUse(): Promise<Figure> {
  const ours = await ourServer();
  const baseline = await readOnEveryView();
  const refusals = (usage: Usage) =>
    `${usage.refused} of ${usage.attempts}` +
    (usage.firstRefusedOnDay ? `, the first on day ${usage.firstRefusedOnDay}` : '');
  const rows: Row[] = [
    {
      measure: `this server: billed requests per vehicle in ${DAYS} days`,
      value: describeBilled(ours.billedPerVehicle),
      target: `<= budget ${BUDGET}`,
      met: Math.max(...ours.billedPerVehicle) <= BUDGET,
    },
    { measure: 'this server: Smartcar HTTP requests in all', value: String(ours.httpRequests) },
    { measure: 'this server: locks refused', value: refusals(ours), target: '0', met: ours.refused === 0 },
    {
      measure: 'read on every view (seed shape): billed requests per vehicle',
      value: describeBilled(baseline.billedPerVehicle),
      target: `<= plan cap ${BUDGET}`,
      met: Math.max(...baseline.billedPerVehicle) < BUDGET,
    },
    {
      measure: 'read on every view: vehicle reads Smartcar refused (430 over the monthly cap, 429)',
      value: refusals(baseline),
      target: '0',
      met: baseline.refused === 0,
    },
  ];
  return {
    title: '7. A month of use in billed requests',
    rows,
    notes: [
      `One connect of ${BRAND}'s test account, the popup opened ${OPENS_PER_DAY} times a day for ${DAYS} days, a lock twice a week; the clock is simulated (the server's and the emulator's, so timers and sockets stay real).`,
      'Billed requests as the emulator counts them: each successful batch item or command; the vehicle list, permissions, tokens and disconnect are free.',
      `The seed shape asks for ${BASELINE_PATHS.length} items per vehicle on every view, ${BASELINE_PATHS.length * OPENS_PER_DAY * DAYS} per vehicle in the month; the emulator's monthly allowance (${BUDGET}, as plans in the wild) refuses the rest with 430, so its popup would show errors from the day it runs out.`,
    ],
  };
}
