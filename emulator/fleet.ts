// The emulated fleet: vehicle models per brand, instantiated once per connected-services account,
// and the readings each vehicle reports (which drift slowly so repeated reads differ).
import { createHash } from 'node:crypto';
import type { Permission } from './permission-labels';

export type Powertrain = 'ELECTRIC' | 'PLUG_IN_HYBRID' | 'HYBRID' | 'FUEL';

export interface VehicleModel {
  make: string;
  model: string;
  year: number;
  vin: string;
  powertrain: Powertrain;
  /** Battery capacity in kWh (electric and plug-in hybrid only). */
  batteryKwh?: number;
  /** Fuel tank size in litres (anything with an engine). */
  tankLitres?: number;
  /** Range on a full battery or tank, km. */
  fullRangeKm: number;
  odometerKm: number;
  home: { latitude: number; longitude: number };
  /** Permissions beyond what the powertrain implies that this model lacks. */
  lacks?: Permission[];
}

const COMMON: Permission[] = [
  'read_vehicle_info',
  'read_vin',
  'read_odometer',
  'read_location',
  'read_tires',
  'read_security',
  'control_security',
  'control_navigation',
  'read_user_profile',
  'read_service_history',
  'read_diagnostics',
];
const ELECTRIC: Permission[] = ['read_battery', 'read_charge', 'control_charge'];
const ENGINE: Permission[] = ['read_fuel', 'read_engine_oil'];

const POWERTRAIN_PERMISSIONS: Record<Powertrain, Permission[]> = {
  ELECTRIC: [...COMMON, ...ELECTRIC],
  PLUG_IN_HYBRID: [...COMMON, ...ELECTRIC, ...ENGINE],
  HYBRID: [...COMMON, ...ENGINE],
  FUEL: [...COMMON, ...ENGINE],
};

// The first model of each brand is the one the official SDK's end-to-end tests expect (CHEVROLET Volt).
export const FLEET: readonly VehicleModel[] = [
  {
    make: 'TESLA',
    model: 'Model 3',
    year: 2022,
    vin: '5YJ3E1EA7NF000316',
    powertrain: 'ELECTRIC',
    batteryKwh: 75,
    fullRangeKm: 500,
    odometerKm: 28_410,
    home: { latitude: 37.7749, longitude: -122.4194 },
  },
  {
    make: 'TESLA',
    model: 'Model Y',
    year: 2023,
    vin: '7SAYGDEE1PF000742',
    powertrain: 'ELECTRIC',
    batteryKwh: 81,
    fullRangeKm: 530,
    odometerKm: 9_870,
    home: { latitude: 37.7793, longitude: -122.4112 },
  },
  {
    make: 'FORD',
    model: 'F-150 Lightning',
    year: 2023,
    vin: '1FTVW1EL5PWG00418',
    powertrain: 'ELECTRIC',
    batteryKwh: 131,
    fullRangeKm: 515,
    odometerKm: 12_300,
    home: { latitude: 42.3314, longitude: -83.0458 },
  },
  {
    make: 'FORD',
    model: 'Mustang',
    year: 2021,
    vin: '1FA6P8CF4M5100257',
    powertrain: 'FUEL',
    tankLitres: 61,
    fullRangeKm: 560,
    odometerKm: 35_120,
    home: { latitude: 42.3223, longitude: -83.1763 },
  },
  {
    make: 'FORD',
    model: 'Escape Plug-In Hybrid',
    year: 2022,
    vin: '1FMCU0EZ8NUA00631',
    powertrain: 'PLUG_IN_HYBRID',
    batteryKwh: 14.4,
    tankLitres: 42,
    fullRangeKm: 835,
    odometerKm: 21_044,
    home: { latitude: 42.3601, longitude: -83.0702 },
  },
  {
    make: 'CHEVROLET',
    model: 'Volt',
    year: 2017,
    vin: '1G1RC6S58HU100423',
    powertrain: 'PLUG_IN_HYBRID',
    batteryKwh: 18.4,
    tankLitres: 34,
    fullRangeKm: 676,
    odometerKm: 64_090,
    home: { latitude: 41.8781, longitude: -87.6298 },
  },
  {
    make: 'CHEVROLET',
    model: 'Bolt EV',
    year: 2021,
    vin: '1G1FY6S03M4100874',
    powertrain: 'ELECTRIC',
    batteryKwh: 65,
    fullRangeKm: 417,
    odometerKm: 30_511,
    home: { latitude: 41.8827, longitude: -87.6233 },
  },
  {
    make: 'CHEVROLET',
    model: 'Silverado 1500',
    year: 2019,
    vin: '3GCUYDED0KG100569',
    powertrain: 'FUEL',
    tankLitres: 91,
    fullRangeKm: 800,
    odometerKm: 88_730,
    home: { latitude: 41.8369, longitude: -87.6847 },
    lacks: ['control_navigation', 'read_tires'],
  },
  {
    make: 'KIA',
    model: 'EV6',
    year: 2023,
    vin: 'KNDC34LA2P5100281',
    powertrain: 'ELECTRIC',
    batteryKwh: 77.4,
    fullRangeKm: 499,
    odometerKm: 14_206,
    home: { latitude: 33.6846, longitude: -117.8265 },
  },
  {
    make: 'KIA',
    model: 'Niro Hybrid',
    year: 2022,
    vin: 'KNDCB3LC4N5100934',
    powertrain: 'HYBRID',
    tankLitres: 45,
    fullRangeKm: 900,
    odometerKm: 25_380,
    home: { latitude: 33.6695, longitude: -117.8231 },
  },
  {
    make: 'TOYOTA',
    model: 'RAV4 Prime',
    year: 2022,
    vin: 'JTMEB3FV1ND100153',
    powertrain: 'PLUG_IN_HYBRID',
    batteryKwh: 18.1,
    tankLitres: 55,
    fullRangeKm: 965,
    odometerKm: 18_655,
    home: { latitude: 33.0198, longitude: -96.6989 },
  },
  {
    make: 'TOYOTA',
    model: 'Camry',
    year: 2020,
    vin: '4T1G11AK3LU100782',
    powertrain: 'FUEL',
    tankLitres: 60,
    fullRangeKm: 880,
    odometerKm: 52_940,
    home: { latitude: 33.0462, longitude: -96.9942 },
    lacks: ['control_navigation'],
  },
  {
    make: 'BMW',
    model: 'i4 eDrive40',
    year: 2023,
    vin: 'WBY73AW07PFP00219',
    powertrain: 'ELECTRIC',
    batteryKwh: 83.9,
    fullRangeKm: 590,
    odometerKm: 7_820,
    home: { latitude: 48.1351, longitude: 11.582 },
  },
  {
    make: 'BMW',
    model: 'X5 xDrive40i',
    year: 2021,
    vin: '5UXCR6C08M9E00467',
    powertrain: 'FUEL',
    tankLitres: 83,
    fullRangeKm: 760,
    odometerKm: 41_305,
    home: { latitude: 48.1642, longitude: 11.5686 },
  },
  // node-sdk's end-to-end tests expect a NISSAN electric car in the US compatibility matrix.
  {
    make: 'NISSAN',
    model: 'LEAF',
    year: 2022,
    vin: '1N4AZ1CP5NC300824',
    powertrain: 'ELECTRIC',
    batteryKwh: 40,
    fullRangeKm: 240,
    odometerKm: 19_480,
    home: { latitude: 35.9606, longitude: -86.8253 },
  },
];

export const BRANDS: readonly string[] = [...new Set(FLEET.map((model) => model.make))];

/**
 * The models an account of this brand owns: the brand's fleet, or for a `fleet-<N>@…` login N vehicles
 * (the brand's models in turn, each with its own VIN), to try paging and many vehicles on one login.
 */
export function accountModels(account: string, make: string): VehicleModel[] {
  const models = FLEET.filter((model) => model.make === make);
  const size = Number(/^fleet-(\d{1,2})@/.exec(account)?.[1] ?? 0);
  if (size === 0 || models.length === 0) return models;
  return Array.from({ length: size }, (_, index) => {
    const model = models[index % models.length] as VehicleModel;
    return { ...model, vin: `${model.vin.slice(0, 11)}${String(index).padStart(6, '0')}` };
  });
}

export function capabilities(model: VehicleModel): Set<Permission> {
  const lacks = new Set(model.lacks ?? []);
  return new Set(POWERTRAIN_PERMISSIONS[model.powertrain].filter((p) => !lacks.has(p)));
}

/** A UUID-shaped id derived from a seed, so one account sees the same vehicle ids on every login. */
export function stableUuid(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The Smartcar user id of a connected-services account: `GET /v2.0/user`'s `id` and the `user_id` on
 * the Connect redirect (one id for both, assumed), the same on every Connect of that account.
 */
export function userIdOf(account: string): string {
  return stableUuid(`user|${account}`);
}

/** One car of the emulated fleet as the emulator keeps it: its model, its account and its state. */
export interface EmulatedVehicle {
  id: string;
  model: VehicleModel;
  capabilities: Set<Permission>;
  /** The connected-services account (login email, lower-cased) it belongs to. */
  account: string;
  /** Set for test-mode accounts whose every data request fails (e.g. `VEHICLE_STATE.UNKNOWN@smartcar.com`). */
  failure?: { type: string; code: string | null };
  isLocked: boolean;
  /** Set by start/stop charge; until then a plugged-in car charges. */
  isCharging: boolean;
  /** Charge limit, 0..1. */
  chargeLimit: number;
  /** When the emulator first saw it: readings drift from here. */
  since: number;
  /** Per-vehicle variation so two cars of one model do not read the same. */
  jitter: number;
}

export function createVehicle(
  account: string,
  model: VehicleModel,
  now: number,
  failure?: EmulatedVehicle['failure'],
): EmulatedVehicle {
  const id = stableUuid(`${account}|${model.vin}`);
  const jitter = parseInt(id.slice(0, 4), 16) / 0xffff;
  const vehicle: EmulatedVehicle = {
    id,
    model,
    capabilities: capabilities(model),
    account,
    isLocked: true,
    isCharging: false,
    chargeLimit: 0.8,
    since: now,
    jitter,
  };
  vehicle.isCharging = isPluggedIn(vehicle);
  if (failure) vehicle.failure = failure;
  return vehicle;
}

/** When the car last reported its readings: a little while before Smartcar fetched them at `now`. */
export function reportedAt(vehicle: EmulatedVehicle, now: number): number {
  return now - Math.round(30_000 + vehicle.jitter * 240_000);
}

/** Units as Smartcar's `sc-unit-system` header names them. */
export type SmartcarUnitSystem = 'metric' | 'imperial';

const KM_PER_MILE = 1.609344;
const LITRES_PER_GALLON = 3.785411784;
const KPA_PER_PSI = 6.894757;

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

function distance(km: number, units: SmartcarUnitSystem): number {
  return round(units === 'metric' ? km : km / KM_PER_MILE, 1);
}

/** Hours since the emulator first saw the vehicle: the clock its readings drift on. */
function hoursSince(vehicle: EmulatedVehicle, now: number): number {
  return (now - vehicle.since) / 3_600_000;
}

/** Driving a little every hour: odometer grows, battery and fuel drain towards a floor. */
function levels(vehicle: EmulatedVehicle, now: number): { battery: number; fuel: number } {
  const hours = hoursSince(vehicle, now);
  const start = 0.55 + vehicle.jitter * 0.4;
  return {
    battery: round(Math.max(0.08, start - hours * 0.01), 3),
    fuel: round(Math.max(0.06, start - 0.1 - hours * 0.006), 3),
  };
}

export function readOdometer(vehicle: EmulatedVehicle, now: number, units: SmartcarUnitSystem) {
  const km = vehicle.model.odometerKm + vehicle.jitter * 500 + hoursSince(vehicle, now) * 2.5;
  return { distance: distance(km, units) };
}

export function readBattery(vehicle: EmulatedVehicle, now: number, units: SmartcarUnitSystem) {
  const { battery } = levels(vehicle, now);
  const electricRange = vehicle.model.powertrain === 'ELECTRIC' ? vehicle.model.fullRangeKm : 60;
  return { percentRemaining: battery, range: distance(electricRange * battery, units) };
}

export function readBatteryCapacity(vehicle: EmulatedVehicle) {
  return { capacity: vehicle.model.batteryKwh ?? 0 };
}

export function readFuel(vehicle: EmulatedVehicle, now: number, units: SmartcarUnitSystem) {
  const { fuel } = levels(vehicle, now);
  const litres = (vehicle.model.tankLitres ?? 0) * fuel;
  return {
    range: distance(vehicle.model.fullRangeKm * fuel, units),
    percentRemaining: fuel,
    amountRemaining: round(units === 'metric' ? litres : litres / LITRES_PER_GALLON, 1),
  };
}

export function readLocation(vehicle: EmulatedVehicle, now: number) {
  // A slow loop around home, a few hundred metres wide.
  const angle = hoursSince(vehicle, now) * 0.5 + vehicle.jitter * Math.PI * 2;
  return {
    latitude: round(vehicle.model.home.latitude + Math.sin(angle) * 0.003, 6),
    longitude: round(vehicle.model.home.longitude + Math.cos(angle) * 0.004, 6),
  };
}

export function readTirePressure(vehicle: EmulatedVehicle, units: SmartcarUnitSystem) {
  const kpa = (offset: number) => {
    const value = 230 + vehicle.jitter * 20 + offset;
    return round(units === 'metric' ? value : value / KPA_PER_PSI, 1);
  };
  return { frontLeft: kpa(0), frontRight: kpa(1.5), backLeft: kpa(-2), backRight: kpa(-0.5) };
}

export function readEngineOil(vehicle: EmulatedVehicle, now: number) {
  return {
    lifeRemaining: round(Math.max(0.05, 0.9 - vehicle.jitter * 0.5 - hoursSince(vehicle, now) * 0.0005), 3),
  };
}

/** Some cars are parked on a charger; which ones is fixed per vehicle. */
function isPluggedIn(vehicle: EmulatedVehicle): boolean {
  return vehicle.capabilities.has('read_charge') && vehicle.jitter > 0.4;
}

export function readCharge(vehicle: EmulatedVehicle, now: number) {
  const { battery } = levels(vehicle, now);
  const plugged = isPluggedIn(vehicle);
  const state =
    !plugged || !vehicle.isCharging
      ? 'NOT_CHARGING'
      : battery >= vehicle.chargeLimit
        ? 'FULLY_CHARGED'
        : 'CHARGING';
  return { isPluggedIn: plugged, state };
}

export function readChargeLimit(vehicle: EmulatedVehicle) {
  return { limit: vehicle.chargeLimit };
}

export function readNominalCapacity(vehicle: EmulatedVehicle) {
  const nominal = vehicle.model.batteryKwh ?? 0;
  return {
    availableCapacities: [{ capacity: nominal, description: null }],
    capacity: { nominal, source: 'SMARTCAR' },
    url: null,
  };
}

export function readDiagnosticSystemStatus(vehicle: EmulatedVehicle) {
  const systems = ['SYSTEM_ABS', 'SYSTEM_AIRBAG', 'SYSTEM_BRAKE_FLUID', 'SYSTEM_TIRE_PRESSURE_MONITORING'];
  // Older cars report one alert so the data is not all green.
  const alerting = vehicle.model.year < 2020 ? 'SYSTEM_BRAKE_FLUID' : undefined;
  return {
    systems: systems.map((systemId) => ({
      systemId,
      status: systemId === alerting ? 'ALERT' : 'OK',
      description: systemId === alerting ? 'Brake fluid level low' : null,
    })),
  };
}

export function readDiagnosticTroubleCodes(vehicle: EmulatedVehicle) {
  const reportedAt = new Date(vehicle.since - 86_400_000).toISOString();
  return { activeCodes: vehicle.model.year < 2020 ? [{ code: 'P0455', timestamp: reportedAt }] : [] };
}

/** Two past services, 10,000 km apart, as Smartcar's service history array. */
export function readServiceHistory(
  vehicle: EmulatedVehicle,
  units: SmartcarUnitSystem,
  start?: Date,
  end?: Date,
) {
  const records = [1, 2].map((index) => {
    const serviceDate = new Date(vehicle.since - index * 180 * 86_400_000);
    return {
      serviceId: index,
      serviceDate: serviceDate.toISOString(),
      odometerDistance: distance(Math.max(0, vehicle.model.odometerKm - index * 10_000), units),
      serviceTasks: [{ taskId: `${index}01`, taskDescription: 'Tire rotation' }],
      serviceDetails: [{ type: 'DEALER', value: `${vehicle.model.make} service centre` }],
      serviceCost: { totalCost: 120 + index * 40, currency: 'USD' },
    };
  });
  return records.filter(
    ({ serviceDate }) =>
      (start === undefined || new Date(serviceDate) >= start) &&
      (end === undefined || new Date(serviceDate) <= end),
  );
}

export function readSecurity(vehicle: EmulatedVehicle) {
  const closed = (type: string) => ({ type, status: 'CLOSED' });
  const electric = vehicle.model.powertrain !== 'FUEL' && vehicle.model.powertrain !== 'HYBRID';
  return {
    isLocked: vehicle.isLocked,
    doors: ['frontLeft', 'frontRight', 'backLeft', 'backRight'].map(closed),
    windows: ['frontLeft', 'frontRight', 'backLeft', 'backRight'].map(closed),
    sunroof: [closed('sunroof')],
    storage: [closed('rear'), ...(vehicle.model.powertrain === 'ELECTRIC' ? [closed('front')] : [])],
    chargingPort: electric ? [closed('chargingPort')] : [],
  };
}
