// What each vehicle API endpoint reads or commands, and which of them a batch may hold.
import { SmartcarErrorReply } from './smartcar-errors';
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
  type EmulatedVehicle,
  type SmartcarUnitSystem,
} from './fleet';
import type { Permission } from './permission-labels';

interface Reading {
  vehicle: EmulatedVehicle;
  /** The permissions the token has for this vehicle. */
  granted: Set<Permission>;
  now: number;
  units: SmartcarUnitSystem;
  /** The request's query string (empty inside a batch). */
  query: Query;
}

export type Query = Partial<Record<string, string>>;

/** A GET data endpoint; usable on its own route and inside a batch. Names match the SDK's methods. */
export interface ReadEndpoint {
  name: string;
  path: string;
  /** The permission it needs; null for one any token for the vehicle may read. */
  permission: Permission | null;
  read: (reading: Reading) => object;
}

export const READ_ENDPOINTS: readonly ReadEndpoint[] = [
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
  if (Number.isNaN(date.valueOf())) throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
  return date;
}

interface Command {
  /** The SDK method it stands for, used as the endpoint name. */
  name: string;
  apply: (vehicle: EmulatedVehicle) => void;
}

/** A POST that commands the vehicle. `parse` returns undefined for a malformed body. */
export interface ActionEndpoint {
  path: string;
  /** Endpoint name for calls whose body is malformed. */
  name: string;
  permission: Permission;
  parse: (body: Record<string, unknown>) => Command | undefined;
}

export const ACTION_ENDPOINTS: readonly ActionEndpoint[] = [
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

export const ACTION_SUCCESS = { status: 'success', message: 'Successfully sent request to vehicle' };

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
export const BATCH_ENDPOINTS = new Map(
  READ_ENDPOINTS.filter(({ path }) => BATCH_PATHS.has(path)).map((endpoint) => [endpoint.path, endpoint]),
);

/** Canonical batch path: leading slash, no trailing slash (`tires/pressure` -> `/tires/pressure`). */
export function canonicalPath(path: string): string {
  return `/${path.replace(/^\/+|\/+$/g, '')}`;
}

/** The command a POST's body asks for; undefined when the body is malformed. */
export function commandFor(endpoint: ActionEndpoint, body: unknown): Command | undefined {
  return typeof body === 'object' && body !== null
    ? endpoint.parse(body as Record<string, unknown>)
    : undefined;
}
