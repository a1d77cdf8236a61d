// What a vehicle API request passes before its handler acts: it is counted, any armed fault plays,
// its Bearer token is authenticated (the `enter` hooks), the grant must reach the vehicle and hold
// the permission, then the platform's limits and latency apply (`admit`).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context';
import { pause, playFault, type Fault } from './faults';
import type { UnitSystem, Vehicle } from './fleet';
import type { Permission } from './permission-labels';
import { ApiError, errorForStatus, sendApiError } from './smartcar-errors';
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

export function unitSystem(request: FastifyRequest): UnitSystem {
  return request.headers['sc-unit-system'] === 'imperial' ? 'imperial' : 'metric';
}

export function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/** The error an armed fault answers with. */
export function faultError(fault: Fault): ApiError {
  const [type, code] =
    fault.type !== undefined ? [fault.type, fault.code ?? null] : errorForStatus(fault.status ?? 429);
  return new ApiError(type, code, fault.status);
}

export type VehicleGate = ReturnType<typeof createVehicleGate>;

/** What a request under /vehicles/:id may touch: its grant, the vehicle, the permissions granted for it. */
export interface VehicleAccess {
  grant: Grant;
  vehicle: Vehicle;
  granted: Set<Permission>;
}

export function createVehicleGate({ store, calls, faults, limits, latency }: EmulatorContext) {
  const grants = new WeakMap<FastifyRequest, Grant>();
  const accesses = new WeakMap<FastifyRequest, VehicleAccess>();

  /**
   * Counts the call under its endpoint name (the SDK method; for a command, the one its body asks
   * for) and plays any armed fault, which may answer in the endpoint's place.
   */
  const arrive =
    (endpoint: string | ((request: FastifyRequest) => string)): EnterHook =>
    async (request, reply) => {
      const name = typeof endpoint === 'string' ? endpoint : endpoint(request);
      calls.record(name, bearer(request), (request.params as { id?: string }).id);
      const fault = faults.take([name]);
      if (!fault) return;
      await playFault(fault, request, reply, (played) => {
        const error = faultError(played);
        // Smartcar always sends retry-after with RATE_LIMIT:VEHICLE; a fault that names none gets a minute.
        if (error.type === 'RATE_LIMIT' && error.code === 'VEHICLE' && played.retryAfter === undefined) {
          void reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
        }
        return sendApiError(request, reply, error);
      });
    };

  const authenticate: EnterHook = (request) => {
    const token = bearer(request);
    const grant = token === undefined ? undefined : store.authenticate(token);
    if (!grant) return Promise.reject(new ApiError('AUTHENTICATION'));
    grants.set(request, grant);
    return Promise.resolve();
  };

  /** A vehicle API call: counted, faults played, then its access token authenticated. */
  const enter = (endpoint: string | ((request: FastifyRequest) => string)): EnterHook[] => [
    arrive(endpoint),
    authenticate,
  ];

  /** The vehicle the path names, if the grant reaches it; a disconnected or foreign one is a PERMISSION error. */
  const reach: EnterHook = (request) => {
    const grant = grantOf(request);
    const vehicleId = (request.params as { id: string }).id;
    const granted = grant.vehicles.get(vehicleId);
    const vehicle = store.vehicles.get(vehicleId);
    if (!granted || !vehicle) return Promise.reject(new ApiError('PERMISSION'));
    accesses.set(request, { grant, vehicle, granted });
    return Promise.resolve();
  };

  /** A call about one vehicle (under /vehicles/:id): `enter`, then the grant must reach the vehicle. */
  const enterVehicle = (endpoint: string | ((request: FastifyRequest) => string)): EnterHook[] => [
    ...enter(endpoint),
    reach,
  ];

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

  /**
   * The platform's limits, then its latency. `vehicleId` marks a request that reaches the vehicle (a
   * billed one); `items` is how many requests it stands for (a batch). False when the client hung up.
   */
  const admit = async (
    grant: Grant,
    request: FastifyRequest,
    reply: FastifyReply,
    { vehicleId, items = 1 }: { vehicleId?: string; items?: number } = {},
  ): Promise<boolean> => {
    if (!limits.takeFromApplication(grant.clientId, items)) throw new ApiError('RATE_LIMIT', 'SMARTCAR_API');
    if (vehicleId !== undefined) {
      const retryAfter = limits.takeFromVehicle(vehicleId);
      if (retryAfter !== undefined) {
        void reply.header('retry-after', String(retryAfter));
        throw new ApiError('RATE_LIMIT', 'VEHICLE');
      }
      if (limits.allowanceLeft(vehicleId) < 1) throw new ApiError('BILLING', 'VEHICLE_REQUEST_LIMIT');
    }
    const ms = vehicleId === undefined ? latency.platformMs() : latency.vehicleMs(items);
    if (ms > 0) await pause(ms, request);
    return stillConnected(request, reply);
  };

  /** What a vehicle that always fails (a `TYPE.CODE@smartcar.com` login) answers once reached. */
  const reachVehicle = (vehicle: Vehicle): void => {
    if (vehicle.failure) throw new ApiError(vehicle.failure.type, vehicle.failure.code);
  };

  const dataHeaders = (vehicle: Vehicle, now: number, units: UnitSystem): Headers => ({
    // The car reported a little while ago; Smartcar fetched it just now.
    'sc-data-age': new Date(now - Math.round(30_000 + vehicle.jitter * 240_000)).toISOString(),
    'sc-fetched-at': new Date(now).toISOString(),
    'sc-unit-system': units,
  });

  /** A successful read, billed to the vehicle. */
  const read = (
    endpoint: ReadEndpoint,
    vehicle: Vehicle,
    granted: Set<Permission>,
    units: UnitSystem,
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

  return { arrive, enter, enterVehicle, grantOf, accessOf, admit, reachVehicle, read };
}

export function requirePermission(granted: Set<Permission>, permission: Permission | null): void {
  if (permission !== null && !granted.has(permission)) throw new ApiError('PERMISSION');
}

/** False (and the reply given up) when the client hung up while the platform was busy. */
export function stillConnected(request: FastifyRequest, reply: FastifyReply): boolean {
  if (!request.raw.socket.destroyed) return true;
  reply.hijack();
  return false;
}
