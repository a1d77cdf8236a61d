// Smartcar Vehicle API v2.0 under /v2.0: Bearer-token auth scoped to the token's grant,
// per-endpoint permissions, Smartcar's v2 error bodies and sc-* response headers.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context';
import { ApiError, errorForStatus, sendApiError, smartcarError } from './errors';
import { answersInstead, pause, playFault, type Fault } from './faults';
import {
  readBattery,
  readBatteryCapacity,
  readCharge,
  readChargeLimit,
  readDiagnosticSystemStatus,
  readDiagnosticTroubleCodes,
  readEngineOil,
  readFuel,
  readLocation,
  readNominalCapacity,
  readOdometer,
  readSecurity,
  readServiceHistory,
  readTirePressure,
  stableUuid,
  type UnitSystem,
  type Vehicle,
} from './fleet';
import type { Permission } from './permissions';
import type { Grant } from './store';

interface Reading {
  vehicle: Vehicle;
  /** The permissions the token has for this vehicle. */
  granted: Set<Permission>;
  now: number;
  units: UnitSystem;
  /** The request's query string (empty inside a batch). */
  query: Query;
}

type Query = Partial<Record<string, string>>;

/** A GET data endpoint; usable on its own route and inside a batch. Names match the SDK's methods. */
interface ReadEndpoint {
  name: string;
  path: string;
  /** The permission it needs; null for one any token for the vehicle may read. */
  permission: Permission | null;
  read: (reading: Reading) => object;
}

const READ_ENDPOINTS: readonly ReadEndpoint[] = [
  {
    name: 'attributes',
    path: '/',
    permission: 'read_vehicle_info',
    read: ({ vehicle: { id, model } }) => ({ id, make: model.make, model: model.model, year: model.year }),
  },
  { name: 'vin', path: '/vin', permission: 'read_vin', read: ({ vehicle }) => ({ vin: vehicle.model.vin }) },
  {
    name: 'odometer',
    path: '/odometer',
    permission: 'read_odometer',
    read: ({ vehicle, now, units }) => readOdometer(vehicle, now, units),
  },
  {
    name: 'location',
    path: '/location',
    permission: 'read_location',
    read: ({ vehicle, now }) => readLocation(vehicle, now),
  },
  {
    name: 'battery',
    path: '/battery',
    permission: 'read_battery',
    read: ({ vehicle, now, units }) => readBattery(vehicle, now, units),
  },
  {
    name: 'batteryCapacity',
    path: '/battery/capacity',
    permission: 'read_battery',
    read: ({ vehicle }) => readBatteryCapacity(vehicle),
  },
  {
    name: 'fuel',
    path: '/fuel',
    permission: 'read_fuel',
    read: ({ vehicle, now, units }) => readFuel(vehicle, now, units),
  },
  {
    name: 'tirePressure',
    path: '/tires/pressure',
    permission: 'read_tires',
    read: ({ vehicle, units }) => readTirePressure(vehicle, units),
  },
  {
    name: 'engineOil',
    path: '/engine/oil',
    permission: 'read_engine_oil',
    read: ({ vehicle, now }) => readEngineOil(vehicle, now),
  },
  {
    name: 'charge',
    path: '/charge',
    permission: 'read_charge',
    read: ({ vehicle, now }) => readCharge(vehicle, now),
  },
  {
    name: 'chargeLimit',
    path: '/charge/limit',
    permission: 'read_charge',
    read: ({ vehicle }) => readChargeLimit(vehicle),
  },
  {
    name: 'nominalCapacity',
    path: '/battery/nominal_capacity',
    permission: 'read_battery',
    read: ({ vehicle }) => readNominalCapacity(vehicle),
  },
  {
    name: 'lockStatus',
    path: '/security',
    permission: 'read_security',
    read: ({ vehicle }) => readSecurity(vehicle),
  },
  {
    name: 'diagnosticSystemStatus',
    path: '/diagnostics/system_status',
    permission: 'read_diagnostics',
    read: ({ vehicle }) => readDiagnosticSystemStatus(vehicle),
  },
  {
    name: 'diagnosticTroubleCodes',
    path: '/diagnostics/dtcs',
    permission: 'read_diagnostics',
    read: ({ vehicle }) => readDiagnosticTroubleCodes(vehicle),
  },
  {
    name: 'serviceHistory',
    path: '/service/history',
    permission: 'read_service_history',
    read: ({ vehicle, units, query }) =>
      readServiceHistory(vehicle, units, dateParameter(query.start_date), dateParameter(query.end_date)),
  },
];

function dateParameter(value: string | undefined): Date | undefined {
  // The SDK sends the literal `undefined` for a date it was not given.
  if (value === undefined || value === 'undefined') return undefined;
  const date = new Date(value);
  if (Number.isNaN(date.valueOf())) throw new ApiError('VALIDATION', 'PARAMETER');
  return date;
}

interface Command {
  /** The SDK method it stands for, used as the endpoint name. */
  name: string;
  apply: (vehicle: Vehicle) => void;
}

/** A POST that commands the vehicle. `parse` returns undefined for a malformed body. */
interface ActionEndpoint {
  path: string;
  /** Endpoint name for calls whose body is malformed. */
  name: string;
  permission: Permission;
  parse: (body: Record<string, unknown>) => Command | undefined;
}

const ACTION_ENDPOINTS: readonly ActionEndpoint[] = [
  {
    path: '/security',
    name: 'securityControl',
    permission: 'control_security',
    parse: ({ action }) =>
      action === 'LOCK' || action === 'UNLOCK'
        ? {
            name: action === 'LOCK' ? 'lock' : 'unlock',
            apply: (vehicle) => {
              vehicle.isLocked = action === 'LOCK';
            },
          }
        : undefined,
  },
  {
    path: '/charge',
    name: 'chargeControl',
    permission: 'control_charge',
    parse: ({ action }) =>
      action === 'START' || action === 'STOP'
        ? {
            name: action === 'START' ? 'startCharge' : 'stopCharge',
            apply: (vehicle) => {
              vehicle.isCharging = action === 'START';
            },
          }
        : undefined,
  },
  {
    path: '/charge/limit',
    name: 'setChargeLimit',
    permission: 'control_charge',
    // The SDK sends the limit as a string ("0.9").
    parse: ({ limit }) => {
      const value = Number(limit);
      if ((typeof limit !== 'string' && typeof limit !== 'number') || !(value > 0 && value <= 1))
        return undefined;
      return {
        name: 'setChargeLimit',
        apply: (vehicle) => {
          vehicle.chargeLimit = value;
        },
      };
    },
  },
  {
    path: '/navigation/destination',
    name: 'sendDestination',
    permission: 'control_navigation',
    parse: ({ latitude, longitude }) =>
      typeof latitude === 'number' &&
      typeof longitude === 'number' &&
      Math.abs(latitude) <= 90 &&
      Math.abs(longitude) <= 180
        ? { name: 'sendDestination', apply: () => undefined }
        : undefined,
  },
];

const ACTION_SUCCESS = { status: 'success', message: 'Successfully sent request to vehicle' };

type Headers = Record<string, string>;

/** `retry-after` of an injected RATE_LIMIT:VEHICLE that names none (assumed). */
const DEFAULT_RETRY_AFTER_SECONDS = 60;

interface Outcome {
  status: number;
  headers: Headers;
  body: object;
}

function unitSystem(request: FastifyRequest): UnitSystem {
  return request.headers['sc-unit-system'] === 'imperial' ? 'imperial' : 'metric';
}

function bearer(request: FastifyRequest): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
}

/**
 * The paths a batch may hold: those the official SDKs' end-to-end and integration tests batch
 * against the live platform (smartcar/java-sdk src/integration/.../VehicleTest.java `testBatch`,
 * smartcar/node-sdk test/end-to-end/vehicle.js, smartcar/python-sdk tests/e2e/test_vehicle.py).
 * Any other path fails the whole batch with 400 VALIDATION, as python-sdk's
 * `test_batch_misspelled_permission` expects; no source shows `/permissions` in a batch.
 */
const BATCH_PATHS = new Set([
  '/',
  '/vin',
  '/odometer',
  '/location',
  '/engine/oil',
  '/tires/pressure',
  '/fuel',
  '/battery',
  '/battery/capacity',
  '/charge',
  '/charge/limit',
  '/security',
  '/diagnostics/dtcs',
  '/diagnostics/system_status',
]);
const BATCH_ENDPOINTS = new Map(
  READ_ENDPOINTS.filter(({ path }) => BATCH_PATHS.has(path)).map((endpoint) => [endpoint.path, endpoint]),
);

/** Canonical batch path: leading slash, no trailing slash (`tires/pressure` -> `/tires/pressure`). */
function canonicalPath(path: string): string {
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
}

/** Paging query (`limit`, `offset`); malformed values are a VALIDATION error as on Smartcar. */
function paging(request: FastifyRequest, defaultLimit: number): { limit: number; offset: number } {
  const query = request.query as Partial<Record<string, string>>;
  const parse = (value: string | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!Number.isInteger(number) || number < min) throw new ApiError('VALIDATION', 'PARAMETER');
    return number;
  };
  return { limit: parse(query.limit, defaultLimit, 1), offset: parse(query.offset, 0, 0) };
}

export function vehicleApiRoutes(app: FastifyInstance, ctx: EmulatorContext, done: () => void): void {
  const { store, calls, faults, limits, latency } = ctx;

  app.addHook('onRequest', async (request, reply) => {
    void reply.header('sc-unit-system', unitSystem(request));
  });

  const faultError = (fault: Fault): ApiError => {
    const [type, code] =
      fault.type !== undefined ? [fault.type, fault.code ?? null] : errorForStatus(fault.status ?? 429);
    return new ApiError(type, code, fault.status);
  };

  /** Counts the call and plays any armed fault; true when the fault has answered. */
  const arrive = async (
    name: string,
    request: FastifyRequest,
    reply: FastifyReply,
    vehicleId?: string,
  ): Promise<boolean> => {
    calls.record(name, bearer(request), vehicleId);
    const fault = faults.take([name]);
    return (
      fault !== undefined &&
      (await playFault(fault, request, reply, (played) => {
        const error = faultError(played);
        // Smartcar always sends retry-after with RATE_LIMIT:VEHICLE; a fault that names none gets a minute.
        if (error.type === 'RATE_LIMIT' && error.code === 'VEHICLE' && played.retryAfter === undefined) {
          void reply.header('retry-after', String(DEFAULT_RETRY_AFTER_SECONDS));
        }
        return sendApiError(request, reply, error);
      }))
    );
  };

  /** Counts the call, plays any armed fault, then authenticates. Undefined when already answered. */
  const enter = async (
    name: string,
    request: FastifyRequest,
    reply: FastifyReply,
    vehicleId?: string,
  ): Promise<Grant | undefined> => {
    if (await arrive(name, request, reply, vehicleId)) return undefined;
    const token = bearer(request);
    const grant = token === undefined ? undefined : store.authenticate(token);
    if (!grant) throw new ApiError('AUTHENTICATION');
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
    if (!request.raw.socket.destroyed) return true;
    reply.hijack();
    return false;
  };

  /** The vehicle if the grant reaches it; a disconnected or foreign vehicle is a PERMISSION error. */
  const reachable = (grant: Grant, vehicleId: string): { vehicle: Vehicle; granted: Set<Permission> } => {
    const granted = grant.vehicles.get(vehicleId);
    const vehicle = store.vehicles.get(vehicleId);
    if (!granted || !vehicle) throw new ApiError('PERMISSION');
    return { vehicle, granted };
  };

  const requirePermission = (granted: Set<Permission>, permission: Permission | null): void => {
    if (permission !== null && !granted.has(permission)) throw new ApiError('PERMISSION');
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

  app.get('/vehicles', async (request, reply) => {
    const grant = await enter('vehicles', request, reply);
    if (!grant || !(await admit(grant, request, reply))) return reply;
    const { limit, offset } = paging(request, 10);
    const ids = [...grant.vehicles.keys()];
    return { vehicles: ids.slice(offset, offset + limit), paging: { count: ids.length, offset } };
  });

  app.get('/user', async (request, reply) => {
    const grant = await enter('user', request, reply);
    if (!grant) return reply;
    if (!grant.scope.has('read_user_profile')) throw new ApiError('PERMISSION');
    if (!(await admit(grant, request, reply))) return reply;
    return { id: stableUuid(`user|${grant.account}`) };
  });

  for (const endpoint of READ_ENDPOINTS) {
    const route = endpoint.path === '/' ? '/vehicles/:id' : `/vehicles/:id${endpoint.path}`;
    app.get<{ Params: { id: string } }>(route, async (request, reply) => {
      const grant = await enter(endpoint.name, request, reply, request.params.id);
      if (!grant) return reply;
      const { vehicle, granted } = reachable(grant, request.params.id);
      requirePermission(granted, endpoint.permission);
      if (!(await admit(grant, request, reply, { vehicleId: vehicle.id }))) return reply;
      const outcome = read(endpoint, vehicle, granted, unitSystem(request), request.query as Query);
      return reply.headers(outcome.headers).send(outcome.body);
    });
  }

  app.get<{ Params: { id: string } }>('/vehicles/:id/permissions', async (request, reply) => {
    const grant = await enter('permissions', request, reply, request.params.id);
    if (!grant) return reply;
    const { granted } = reachable(grant, request.params.id);
    const { limit, offset } = paging(request, 25);
    if (!(await admit(grant, request, reply))) return reply;
    const all = [...granted];
    return { permissions: all.slice(offset, offset + limit), paging: { count: all.length, offset } };
  });

  for (const endpoint of ACTION_ENDPOINTS) {
    app.post<{ Params: { id: string } }>(`/vehicles/:id${endpoint.path}`, async (request, reply) => {
      const body = request.body;
      const command =
        typeof body === 'object' && body !== null
          ? endpoint.parse(body as Record<string, unknown>)
          : undefined;
      const grant = await enter(command?.name ?? endpoint.name, request, reply, request.params.id);
      if (!grant) return reply;
      const { vehicle, granted } = reachable(grant, request.params.id);
      if (!command) throw new ApiError('VALIDATION', 'PARAMETER');
      requirePermission(granted, endpoint.permission);
      if (!(await admit(grant, request, reply, { vehicleId: vehicle.id }))) return reply;
      reachVehicle(vehicle);
      command.apply(vehicle);
      // A command acts on the vehicle, so it is billed like a read.
      limits.bill(vehicle.id);
      return ACTION_SUCCESS;
    });
  }

  app.delete<{ Params: { id: string } }>('/vehicles/:id/application', async (request, reply) => {
    const grant = await enter('disconnect', request, reply, request.params.id);
    if (!grant) return reply;
    reachable(grant, request.params.id);
    if (!(await admit(grant, request, reply))) return reply;
    store.disconnect(grant.clientId, request.params.id);
    return { status: 'success' };
  });

  // Webhook subscriptions (smartcar/node-sdk lib/vehicle.js `subscribe`, `unsubscribe`): subscribing takes
  // the vehicle's access token, unsubscribing the application management token. Neither is billed.
  app.post<{ Params: { id: string; webhookId: string } }>(
    '/vehicles/:id/webhooks/:webhookId',
    async (request, reply) => {
      const grant = await enter('subscribe', request, reply, request.params.id);
      if (!grant) return reply;
      const { vehicle } = reachable(grant, request.params.id);
      const { webhookId } = request.params;
      if (!store.client(grant.clientId)?.webhookIds?.includes(webhookId)) throw new ApiError('VALIDATION');
      if (!(await admit(grant, request, reply))) return reply;
      return { webhookId, vehicleId: vehicle.id };
    },
  );

  app.delete<{ Params: { id: string; webhookId: string } }>(
    '/vehicles/:id/webhooks/:webhookId',
    async (request, reply) => {
      if (await arrive('unsubscribe', request, reply, request.params.id)) return reply;
      const token = bearer(request);
      const client = token === undefined ? undefined : store.clientByManagementToken(token);
      if (!client) throw new ApiError('AUTHENTICATION');
      if (!client.webhookIds?.includes(request.params.webhookId)) throw new ApiError('VALIDATION');
      if (!limits.takeFromApplication(client.clientId, 1)) throw new ApiError('RATE_LIMIT', 'SMARTCAR_API');
      const ms = latency.platformMs();
      if (ms > 0) await pause(ms, request);
      return { status: 'success' };
    },
  );

  app.post<{ Params: { id: string } }>('/vehicles/:id/batch', async (request, reply) => {
    const grant = await enter('batch', request, reply, request.params.id);
    if (!grant) return reply;
    const { vehicle, granted } = reachable(grant, request.params.id);
    const requests = (request.body as { requests?: unknown } | undefined)?.requests;
    if (!Array.isArray(requests) || requests.length === 0) throw new ApiError('VALIDATION', 'PARAMETER');
    const endpoints = requests.map((item: unknown) => {
      const path = (item as { path?: unknown } | null)?.path;
      if (typeof path !== 'string') throw new ApiError('VALIDATION', 'PARAMETER');
      return BATCH_ENDPOINTS.get(canonicalPath(path));
    });
    if (!endpoints.every((endpoint) => endpoint !== undefined)) throw new ApiError('VALIDATION');
    const units = unitSystem(request);
    const token = bearer(request);
    // Each item is a call to its endpoint: counted, and subject to that endpoint's faults. A batch is one
    // HTTP request, so `*` faults act on it as a whole (above) and drops stay armed for a direct call.
    const items = endpoints.map((endpoint) => {
      calls.record(endpoint.name, token, vehicle.id, { batchItem: true });
      const fault = faults.take([endpoint.name], { wildcard: false, accept: ({ drop }) => drop !== true });
      return { endpoint, fault };
    });
    // "Each endpoint in a batch counts against your request limit" (docs /api-reference/batch).
    if (!(await admit(grant, request, reply, { vehicleId: vehicle.id, items: items.length }))) return reply;
    // Smartcar answers a batch once every item is done, so the slowest item delays the whole answer.
    const delayMs = Math.max(0, ...items.map(({ fault }) => fault?.delayMs ?? 0));
    if (delayMs > 0) {
      await pause(delayMs, request);
      if (request.raw.socket.destroyed) {
        reply.hijack();
        return reply;
      }
    }
    const responses = items.map(({ endpoint, fault }) => {
      let outcome: Outcome;
      try {
        if (fault && answersInstead(fault)) throw faultError(fault);
        requirePermission(granted, endpoint.permission);
        // Each successful item is billed; one past the vehicle's allowance fails on its own.
        if (limits.allowanceLeft(vehicle.id) < 1) throw new ApiError('BILLING', 'VEHICLE_REQUEST_LIMIT');
        outcome = read(endpoint, vehicle, granted, units);
      } catch (error) {
        if (!(error instanceof ApiError)) throw error;
        const body = smartcarError(error.type, error.code, request.id, error.status);
        outcome = {
          status: body.statusCode,
          headers: { 'content-type': 'application/json', 'sc-unit-system': units },
          body,
        };
      }
      return { path: endpoint.path, body: outcome.body, code: outcome.status, headers: outcome.headers };
    });
    return { responses };
  });
  done();
}
