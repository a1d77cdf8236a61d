// The Smartcar permissions the popup shows, in words.
import { SHOWN_PERMISSIONS, type ShownPermission } from '@/protocol/shown-permissions';
import { t, type MessageKey } from './i18n';

function isShown(permission: string): permission is ShownPermission {
  return (SHOWN_PERMISSIONS as readonly string[]).includes(permission);
}

/** "Read odometer" for read_odometer; a permission the popup does not know keeps its Smartcar name. */
export function describePermission(permission: string): string {
  return isShown(permission) ? t(`permission_${permission}` satisfies MessageKey) : permission;
}

/**
 * The shown permissions this vehicle was not granted. A car has either a battery or a tank (a hybrid
 * both), so when one of the two was granted the other is not counted as missing.
 */
export function missingPermissions(granted: readonly string[]): ShownPermission[] {
  const hasEnergy = granted.includes('read_battery') || granted.includes('read_fuel');
  return SHOWN_PERMISSIONS.filter(
    (permission) =>
      !granted.includes(permission) &&
      !(hasEnergy && (permission === 'read_battery' || permission === 'read_fuel')),
  );
}
