// The Smartcar permissions the popup shows, in the order a driver reads them. The server asks for
// these by default; the extension names them in words.
export const SHOWN_PERMISSIONS = [
  'read_vehicle_info',
  'read_odometer',
  'read_battery',
  'read_fuel',
  'read_location',
  'read_security',
  'control_security',
] as const;

export type ShownPermission = (typeof SHOWN_PERMISSIONS)[number];
