// Figures as the user's locale writes them; Intl is built in, so this costs the bundle almost nothing.
import type { UnitSystem, VehicleData } from '@/protocol/server-api';

export function formatDistance(distance: number, units: UnitSystem): string {
  return new Intl.NumberFormat(undefined, {
    style: 'unit',
    unit: units === 'metric' ? 'kilometer' : 'mile',
    maximumFractionDigits: 0,
  }).format(distance);
}

/** Smartcar reports levels as a fraction from 0 to 1. */
export function formatLevel(fraction: number): string {
  return new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
}

const AGE_STEPS: [unit: Intl.RelativeTimeFormatUnit, seconds: number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** "2 min ago", "now", "yesterday": how long before `now` the time `iso` was. */
export function formatAge(iso: string, now: number): string {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto', style: 'short' });
  for (const [unit, size] of AGE_STEPS) {
    if (seconds >= size) return format.format(-Math.floor(seconds / size), unit);
  }
  return format.format(0, 'second');
}

/** "14:05" for a time today, "2 Dec, 14:05" for another day: when to try again. */
export function formatTime(iso: string, now = Date.now()): string {
  const date = new Date(iso);
  const today = date.toDateString() === new Date(now).toDateString();
  return new Intl.DateTimeFormat(undefined, {
    ...(today ? {} : { day: 'numeric', month: 'short' }),
    hour: 'numeric',
    minute: '2-digit',
  }).format(date);
}

/** "1 January": the day a monthly budget resets. */
export function formatDay(iso: string): string {
  return new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'long' }).format(new Date(iso));
}

/** OpenStreetMap at the vehicle's position, with a marker: no account, no API key, no tracking. */
export function mapUrl({ latitude, longitude }: NonNullable<VehicleData['location']>): string {
  const [lat, lon] = [latitude.toFixed(5), longitude.toFixed(5)];
  return `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`;
}
