// Car makes as people write them. Smartcar names makes in upper case with underscores
// (MERCEDES_BENZ); the popup and the options page both show them through this one table.
import type { Vehicle } from '@/protocol/server-api';
import { t } from './i18n';

/** Makes Smartcar Connect can open at directly (its make names), with the name the maker uses. */
export const MAKE_NAMES: Record<string, string> = {
  AUDI: 'Audi',
  BMW: 'BMW',
  CHEVROLET: 'Chevrolet',
  FORD: 'Ford',
  HYUNDAI: 'Hyundai',
  JAGUAR: 'Jaguar',
  KIA: 'Kia',
  LAND_ROVER: 'Land Rover',
  LEXUS: 'Lexus',
  MERCEDES_BENZ: 'Mercedes-Benz',
  NISSAN: 'Nissan',
  RIVIAN: 'Rivian',
  TESLA: 'Tesla',
  TOYOTA: 'Toyota',
  VOLKSWAGEN: 'Volkswagen',
  VOLVO: 'Volvo',
};

/** Smartcar's make name for any spelling: "Mercedes-Benz" and "mercedes benz" are MERCEDES_BENZ. */
export function smartcarMake(make: string): string {
  return make
    .toUpperCase()
    .replace(/[^A-Z]+/g, '_')
    .replace(/^_|_$/g, '');
}

/** "Mercedes-Benz" for MERCEDES_BENZ; a make missing from the table gets each word capitalised. */
export function makeName(make: string): string {
  const key = smartcarMake(make);
  return (
    MAKE_NAMES[key] ??
    key
      .toLowerCase()
      .split('_')
      .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
      .join(' ')
  );
}

/** "Tesla Model 3"; "Your vehicle" until the server's first read has named it. */
export function vehicleName({ make, model }: Pick<Vehicle, 'make' | 'model'>): string {
  return make ? [makeName(make), model].filter(Boolean).join(' ') : t('yourVehicle');
}
