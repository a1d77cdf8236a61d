// API v3's signals for what the popup reads, from the same simulated vehicle the v2 endpoints read.
// Codes, names, groups and bodies: docs `/api-reference/signals/*`; the resource shape: smartcar/node-sdk
// lib/vehicle.js (`getSignal` jsdoc) and test/unit/lib/vehicle.js. Values are metric: no source says
// whether v3 honours `sc-unit-system`.
import {
  readBattery,
  readFuel,
  readLocation,
  readOdometer,
  readSecurity,
  reportedAt,
  type EmulatedVehicle,
} from './fleet';
import type { Permission } from './permission-labels';

export interface Signal {
  code: string;
  name: string;
  group: string;
  /** What the connection must hold to read it (assumed: the v2 permission of the same reading). */
  permission: Permission;
  read: (vehicle: EmulatedVehicle, now: number) => object;
}

const percent = (fraction: number) => Math.round(fraction * 1000) / 10;

export const SIGNALS: readonly Signal[] = [
  {
    code: 'odometer-traveleddistance',
    name: 'TraveledDistance',
    group: 'Odometer',
    permission: 'read_odometer',
    read: (vehicle, now) => ({ unit: 'kilometers', value: readOdometer(vehicle, now, 'metric').distance }),
  },
  {
    code: 'tractionbattery-stateofcharge',
    name: 'StateOfCharge',
    group: 'TractionBattery',
    permission: 'read_battery',
    read: (vehicle, now) => ({
      unit: 'percent',
      value: percent(readBattery(vehicle, now, 'metric').percentRemaining),
    }),
  },
  {
    code: 'tractionbattery-range',
    name: 'Range',
    group: 'TractionBattery',
    permission: 'read_battery',
    read: (vehicle, now) => ({ unit: 'kilometers', value: readBattery(vehicle, now, 'metric').range }),
  },
  {
    code: 'internalcombustionengine-fuellevel',
    name: 'FuelLevel',
    group: 'InternalCombustionEngine',
    permission: 'read_fuel',
    read: (vehicle, now) => ({
      unit: 'percent',
      value: percent(readFuel(vehicle, now, 'metric').percentRemaining),
    }),
  },
  {
    code: 'internalcombustionengine-range',
    name: 'Range',
    group: 'InternalCombustionEngine',
    permission: 'read_fuel',
    read: (vehicle, now) => ({ unit: 'kilometers', value: readFuel(vehicle, now, 'metric').range }),
  },
  {
    code: 'internalcombustionengine-amountremaining',
    name: 'AmountRemaining',
    group: 'InternalCombustionEngine',
    permission: 'read_fuel',
    read: (vehicle, now) => ({ unit: 'liters', value: readFuel(vehicle, now, 'metric').amountRemaining }),
  },
  {
    code: 'location-preciselocation',
    name: 'PreciseLocation',
    group: 'Location',
    permission: 'read_location',
    read: (vehicle, now) => ({ ...readLocation(vehicle, now), locationType: 'CURRENT' }),
  },
  {
    code: 'closure-islocked',
    name: 'IsLocked',
    group: 'Closure',
    permission: 'read_security',
    read: (vehicle) => ({ value: readSecurity(vehicle).isLocked }),
  },
];

/** The signals this vehicle has and the connection may read (an electric car has no fuel signals). */
export function readableSignals(vehicle: EmulatedVehicle, permissions: readonly Permission[]): Signal[] {
  return SIGNALS.filter(
    (signal) => vehicle.capabilities.has(signal.permission) && permissions.includes(signal.permission),
  );
}

export function signalResource(signal: Signal, vehicle: EmulatedVehicle, now: number) {
  return {
    id: signal.code,
    type: 'signal',
    attributes: {
      code: signal.code,
      name: signal.name,
      group: signal.group,
      status: { value: 'SUCCESS' },
      body: signal.read(vehicle, now),
    },
    meta: { retrievedAt: now, oemUpdatedAt: reportedAt(vehicle, now) },
    links: { self: `/vehicles/${vehicle.id}/signals/${signal.code}` },
  };
}
