// GET /v2.0/compatibility and /v2.0/compatibility/matrix: which vehicles and permissions Smartcar
// supports, asked with the application's client credentials (HTTP Basic). Shapes from the official
// SDK (smartcar/node-sdk index.js `getCompatibility`, `getCompatibilityMatrix` and their typedefs);
// Smartcar's docs mark both endpoints deprecated and US-only.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { EmulatorContext } from './context';
import { SmartcarErrorReply } from './smartcar-errors';
import { pause } from './faults';
import { FLEET, capabilities, type Powertrain, type VehicleModel } from './fleet';
import { basicCredentials } from './oauth';
import { isPermission, type Permission } from './permission-labels';

/** The endpoint each permission opens, as the compatibility answer names it. */
const ENDPOINTS: Partial<Record<Permission, { path: string; name: string }>> = {
  read_vehicle_info: { path: '/', name: 'Vehicle info' },
  read_vin: { path: '/vin', name: 'VIN' },
  read_odometer: { path: '/odometer', name: 'Odometer' },
  read_location: { path: '/location', name: 'Location' },
  read_battery: { path: '/battery', name: 'EV battery' },
  read_charge: { path: '/charge', name: 'EV charging status' },
  control_charge: { path: '/charge', name: 'EV start & stop charge' },
  read_fuel: { path: '/fuel', name: 'Fuel tank' },
  read_tires: { path: '/tires/pressure', name: 'Tire pressure' },
  read_engine_oil: { path: '/engine/oil', name: 'Engine oil life' },
  read_security: { path: '/security', name: 'Lock status' },
  control_security: { path: '/security', name: 'Lock & unlock' },
  control_navigation: { path: '/navigation/destination', name: 'Send destination' },
  read_service_history: { path: '/service/history', name: 'Service history' },
  read_diagnostics: { path: '/diagnostics/dtcs', name: 'Diagnostics' },
  read_user_profile: { path: '/user', name: 'User' },
};

/** Smartcar's engine types; API v3 calls them `powertrainType`. */
export const ENGINE_TYPES: Record<Powertrain, string> = {
  ELECTRIC: 'BEV',
  PLUG_IN_HYBRID: 'PHEV',
  HYBRID: 'HEV',
  FUEL: 'ICE',
};

/** World manufacturer identifiers (the VIN's first three characters) of the makes the emulator knows. */
const MAKES_BY_WMI: Record<string, string> = {
  '5YJ': 'TESLA',
  '7SA': 'TESLA',
  '1FT': 'FORD',
  '1FA': 'FORD',
  '1FM': 'FORD',
  '1G1': 'CHEVROLET',
  '3GC': 'CHEVROLET',
  KND: 'KIA',
  JTM: 'TOYOTA',
  '4T1': 'TOYOTA',
  WBY: 'BMW',
  '5UX': 'BMW',
  '1N4': 'NISSAN',
  // A make Smartcar connects but the emulated fleet has no model of: compatible, capable of nothing.
  WAU: 'AUDI',
};

type Query = Partial<Record<string, string>>;

/** A space-separated permission list; VALIDATION:PARAMETER when empty or unknown. */
function permissionList(value: string | undefined): Permission[] {
  const names = (value ?? '').split(/\s+/).filter(Boolean);
  if (names.length === 0 || !names.every(isPermission)) {
    throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
  }
  return names;
}

/** What models of a make can grant, together (a VIN outside the fleet gets its make's best). */
function makeCapabilities(models: readonly VehicleModel[]): Set<Permission> {
  return new Set(models.flatMap((model) => [...capabilities(model)]));
}

export function compatibilityRoutes(app: FastifyInstance, ctx: EmulatorContext, done: () => void): void {
  app.get('/compatibility', async (request) => {
    ctx.calls.record('compatibility');
    await admit(ctx, request);
    return vinCompatibility(request.query as Query);
  });

  app.get('/compatibility/matrix', async (request) => {
    ctx.calls.record('compatibilityMatrix');
    await admit(ctx, request);
    return compatibilityMatrix(request.query as Query);
  });

  done();
}

/** The application's credentials, its rate limit, then the platform's latency. */
async function admit({ store, limits, latency }: EmulatorContext, request: FastifyRequest): Promise<void> {
  const [clientId, clientSecret] = basicCredentials(request.headers.authorization) ?? [];
  const client = clientId === undefined ? undefined : store.client(clientId);
  if (!client || client.clientSecret !== clientSecret) throw new SmartcarErrorReply('AUTHENTICATION');
  if (!limits.takeFromApplication(client.clientId, 1)) {
    throw new SmartcarErrorReply('RATE_LIMIT', 'SMARTCAR_API');
  }
  const ms = latency.platformMs();
  if (ms > 0) await pause(ms, request);
}

/** Whether the VIN's make is compatible and which of the scope's permissions the vehicle is capable of. */
function vinCompatibility(query: Query) {
  const vin = query.vin?.toUpperCase() ?? '';
  if (!/^[A-HJ-NPR-Z0-9]{17}$/.test(vin)) throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
  if ((query.country ?? 'US') !== 'US') throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
  const scope = permissionList(query.scope);
  const make = MAKES_BY_WMI[vin.slice(0, 3)];
  const known = FLEET.find((model) => model.vin === vin);
  const capable = known
    ? capabilities(known)
    : makeCapabilities(FLEET.filter((model) => model.make === make));
  const notCapable = make === undefined ? 'MAKE_NOT_COMPATIBLE' : 'SMARTCAR_NOT_CAPABLE';
  return {
    compatible: make !== undefined,
    reason: make === undefined ? 'MAKE_NOT_COMPATIBLE' : null,
    capabilities: scope.map((permission) => ({
      permission,
      endpoint: ENDPOINTS[permission]?.path ?? null,
      capable: capable.has(permission),
      reason: capable.has(permission) ? null : notCapable,
    })),
  };
}

/** The fleet's models by make, filtered by make, engine type and the permissions they must all support. */
function compatibilityMatrix(query: Query): Record<string, object[]> {
  if (query.region !== 'US') throw new SmartcarErrorReply('VALIDATION', 'PARAMETER');
  const scope = query.scope === undefined ? [] : permissionList(query.scope);
  const makes = query.make?.toUpperCase().split(/\s+/).filter(Boolean);
  const matrix: Record<string, object[]> = {};
  for (const model of FLEET) {
    const type = ENGINE_TYPES[model.powertrain];
    const permissions = [...capabilities(model)];
    if (makes && !makes.includes(model.make)) continue;
    if (query.type !== undefined && query.type !== type) continue;
    if (!scope.every((permission) => permissions.includes(permission))) continue;
    (matrix[model.make] ??= []).push({
      model: model.model,
      type,
      startYear: model.year,
      endYear: model.year,
      endpoints: [...new Set(permissions.flatMap((permission) => ENDPOINTS[permission]?.name ?? []))],
      permissions,
    });
  }
  return matrix;
}
