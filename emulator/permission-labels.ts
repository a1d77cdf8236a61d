// Smartcar v2.0 permission names, with the words the Connect approval page shows for each.

export const PERMISSION_LABELS = {
  read_vehicle_info: 'Know make, model, and year',
  read_vin: 'Read the vehicle identification number (VIN)',
  read_odometer: 'Retrieve total distance traveled',
  read_location: 'Access the location',
  read_battery: 'Read the battery level and range',
  read_charge: 'Know whether the vehicle is charging',
  control_charge: 'Start or stop charging',
  read_fuel: 'Read the fuel tank level and range',
  read_tires: 'Read tire pressure',
  read_engine_oil: 'Read engine oil life',
  read_security: 'Know whether doors, windows and trunk are locked or open',
  control_security: 'Lock or unlock the vehicle',
  control_navigation: 'Send destinations to the navigation system',
  read_user_profile: 'Read your connected services profile',
  read_service_history: 'Read the service history',
  read_diagnostics: 'Read diagnostic codes and system status',
  read_thermometer: 'Read temperatures inside and outside',
  read_speedometer: 'Read the current speed',
  read_compass: 'Read the heading',
  read_climate: 'Read climate settings',
  control_climate: 'Change climate settings',
  control_trunk: 'Open or close the trunk',
} as const;

export type Permission = keyof typeof PERMISSION_LABELS;

export function isPermission(name: string): name is Permission {
  return Object.hasOwn(PERMISSION_LABELS, name);
}

export interface RequestedScope {
  /** Every permission asked for, in the order asked, without the `required:` prefix. */
  permissions: Permission[];
  /** The subset a vehicle must be capable of to be connectable. */
  required: Set<Permission>;
}

/** Parses Connect's space-separated `scope`; returns the offending entry when one is unknown. */
export function parseScope(scope: string): RequestedScope | { unknown: string } {
  const permissions: Permission[] = [];
  const required = new Set<Permission>();
  for (const entry of scope.split(/\s+/).filter(Boolean)) {
    const isRequired = entry.startsWith('required:');
    const name = isRequired ? entry.slice('required:'.length) : entry;
    if (!isPermission(name)) return { unknown: entry };
    if (!permissions.includes(name)) permissions.push(name);
    if (isRequired) required.add(name);
  }
  return { permissions, required };
}
