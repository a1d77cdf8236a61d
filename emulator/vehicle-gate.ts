// What a vehicle API request passes before its handler acts: it is counted, any armed fault plays,
// its Bearer token is authenticated (the `enter` hooks), the grant must reach the vehicle and hold
// the permission, then the platform's limits and latency apply (`admit`).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context';
import { pause, playFault, type Fault } from './faults';
import { reportedAt, type EmulatedVehicle, type SmartcarUnitSystem } from './fleet';
import type { RateLimits } from './limits';
import type { Permission } from './permission-labels';
import { SmartcarErrorReply, errorForStatus, sendSmartcarErrorReply } from './smartcar-errors';
import type { Grant } from './store';
import type { Query, ReadEndpoint } from './vehicle-endpoints';

type Headers = Record<string, string>;

export interface Outcome {
  status: number;
  headers: Headers;
  body: object;
}

/** A route hook; it answers the request itself (an armed fault) or throws to stop the handler. */
type EnterHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/** `retry-after` of an injected RATE_LIMIT:VEHICLE that names none (assumed). */
const DEFAULT_RETRY_AFTER_SECONDS = 60;

export function unitSystem(request: FastifyRequest): SmartcarUnitSystem {
  return request.headers['sc-unit-system'] === 'imperial' ? 'imperial' : 'metric';
}

export function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** The error an armed fault answers with. */
export function faultError(fault: Fault): SmartcarErrorReply {
  const [type, code] =
    fault.type !== undefined ? [fault.type, fault.code ?? null] : errorForStatus(fault.status ?? 429);
  return new SmartcarErrorReply(type, code, fault.status);
}

export type VehicleGate = ReturnType<typeof createVehicleGate>;

/** What a request under /vehicles/:id may touch: its grant, the vehicle, the permissions granted for it. */
interface VehicleAccess {
  grant: Grant;
  vehicle: EmulatedVehicle;
  granted: Set<Permission>;
}

/** A call's endpoint name, or how to read it from the request (a command's body names it). */
type EndpointName = string | ((request: FastifyRequest) => string);

export function createVehicleGate(ctx: EmulatorContext) {
  return { ...entryHooks(ctx), admit: admission(ctx), reachVehicle, read: vehicleReader(ctx) };
}

/** The `enter` hooks: who is calling and, under /vehicles/:id, what they may touch; then what they found. */
function entryHooks(ctx: EmulatorContext) {
  const { store } = ctx;
  const grants = new WeakMap<FastifyRequest, Grant>();
  const accesses = new WeakMap<FastifyRequest, VehicleAccess>();

  const arrive = arrival(ctx);

  const authenticate: EnterHook = (request) => {
    const token = bearer(request);
    const grant = token === undefined ? undefined : store.authenticate(token);
    if (!grant) return Promise.reject(new SmartcarErrorReply('AUTHENTICATION'));
    grants.set(request, grant);
    return Promise.resolve();
  };

  /** A vehicle API call: counted, faults played, then its access token authenticated. */
  const enter = (endpoint: EndpointName): EnterHook[] => [arrive(endpoint), authenticate];

  /** The vehicle the path names, if the grant reaches it; a disconnected or foreign one is a PERMISSION error. */
  const reach: EnterHook = (request) => {
    const grant = grantOf(request);
    const vehicleId = (request.params as { id: string }).id;
    const granted = grant.vehicles.get(vehicleId);
    const vehicle = store.vehicles.get(vehicleId);
    if (!granted || !vehicle) return Promise.reject(new SmartcarErrorReply('PERMISSION'));
    accesses.set(request, { grant, vehicle, granted });
    return Promise.resolve();
  };

  /** A call about one vehicle (under /vehicles/:id): `enter`, then the grant must reach the vehicle. */
  const enterVehicle = (endpoint: EndpointName): EnterHook[] => [...enter(endpoint), reach];

  /** What `enterVehicle` found this request may touch. */
  const accessOf = (request: FastifyRequest): VehicleAccess => {
    const access = accesses.get(request);
    if (!access) throw new Error(`${request.url} has no enterVehicle hook.`);
    return access;
  };

  /** The grant `enter` authenticated for this request. */
  const grantOf = (request: FastifyRequest): Grant => {
    const grant = grants.get(request);
    if (!grant) throw new Error(`${request.url} has no enter hook.`);
    return grant;
  };

  return { arrive, enter, enterVehicle, grantOf, accessOf };
}

/**
 * Counts the call under its endpoint name (the SDK method; for a command, the one its body asks
 * for) and plays any armed fault, which may answer in the endpoint's place.
 */
function arrival({ calls, faults }: EmulatorContext) {
  return (endpoint: EndpointName): EnterHook =>
    async (request, reply) => {
      const name = typeof endpoint === 'string' ? endpoint : endpoint(request);
      calls.record(name, bearer(request), (request.params as { id?: string }).id);
      const fault = faults.take([name]);
      if (!fault) return;
      await playFault(fault, request, reply, (played) => answerFault(played, request, reply));
    };
}

/** What an armed fault answers in the endpoint's place. */
function answerFault(fault: Fault, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const error = faultError(fault);
  // Smartcar always sends retry-after with RATE_LIMIT:VEHICLE; a fault that names none gets a minute.
  if (error.type === 'RATE_LIMIT' && error.code === 'VEHICLE' && fault.retryAfter === undefined) {
    void reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
  }
  return sendSmartcarErrorReply(request, reply, error);
}

/**
 * The platform's limits for the caller's application (a grant, or API v3's client), then its latency. `vehicleId` marks a request that reaches the vehicle (a
 * billed one); `items` is how many requests it stands for (a batch); `wait` replaces the drawn latency (a v3
 * command draws its own to choose between 200 and 202). False when the client hung up.
 */
function admission({ limits, latency }: EmulatorContext) {
  return async (
    caller: { clientId: string },
    request: FastifyRequest,
    reply: FastifyReply,
    { vehicleId, items = 1, wait }: { vehicleId?: string; items?: number; wait?: number } = {},
  ): Promise<boolean> => {
    if (!limits.takeFromApplication(caller.clientId, items)) {
      throw new SmartcarErrorReply('RATE_LIMIT', 'SMARTCAR_API');
    }
    if (vehicleId !== undefined) enforceVehicleLimits(limits, vehicleId, reply);
    const ms = wait ?? (vehicleId === undefined ? latency.platformMs() : latency.vehicleMs(items));
    if (ms > 0) await pause(ms, request);
    return stillConnected(request, reply);
  };
}

/** A request that reaches the vehicle: within its rate limit (else `retry-after`) and its monthly allowance. */
function enforceVehicleLimits(limits: RateLimits, vehicleId: string, reply: FastifyReply): void {
  const retryAfter = limits.takeFromVehicle(vehicleId);
  if (retryAfter !== undefined) {
    void reply.header('retry-after', String(retryAfter));
    throw new SmartcarErrorReply('RATE_LIMIT', 'VEHICLE');
  }
  if (limits.allowanceLeft(vehicleId) < 1) throw new SmartcarErrorReply('BILLING', 'VEHICLE_REQUEST_LIMIT');
}

/** What a vehicle that always fails (a `TYPE.CODE@smartcar.com` login) answers once reached. */
function reachVehicle(vehicle: EmulatedVehicle): void {
  if (vehicle.failure) throw new SmartcarErrorReply(vehicle.failure.type, vehicle.failure.code);
}

function dataHeaders(vehicle: EmulatedVehicle, now: number, units: SmartcarUnitSystem): Headers {
  return {
    'sc-data-age': new Date(reportedAt(vehicle, now)).toISOString(),
    'sc-fetched-at': new Date(now).toISOString(),
    'sc-unit-system': units,
  };
}

/** A successful read, billed to the vehicle. */
function vehicleReader({ store, limits }: EmulatorContext) {
  return (
    endpoint: ReadEndpoint,
    vehicle: EmulatedVehicle,
    granted: Set<Permission>,
    units: SmartcarUnitSystem,
    query: Query = {},
  ): Outcome => {
    reachVehicle(vehicle);
    const now = store.now();
    const outcome = {
      status: 200,
      headers: dataHeaders(vehicle, now, units),
      body: endpoint.read({ vehicle, granted, now, units, query }),
    };
    limits.bill(vehicle.id);
    return outcome;
  };
}

export function requirePermission(granted: Set<Permission>, permission: Permission | null): void {
  if (permission !== null && !granted.has(permission)) throw new SmartcarErrorReply('PERMISSION');
}

/** False (and the reply given up) when the client hung up while the platform was busy. */
export function stillConnected(request: FastifyRequest, reply: FastifyReply): boolean {
  if (!request.raw.socket.destroyed) return true;
  reply.hijack();
  return false;
}
