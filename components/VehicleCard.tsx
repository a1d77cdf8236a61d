import type { Vehicle } from '@/protocol/api';
import { strings } from '@/utils/strings';

function formatDistance(distance: number, units: Vehicle['units']): string {
  return new Intl.NumberFormat(undefined, {
    style: 'unit',
    unit: units === 'metric' ? 'kilometer' : 'mile',
    maximumFractionDigits: 0,
  }).format(distance);
}

/** Smartcar reports levels as a fraction from 0 to 1. */
function formatLevel(fraction: number): string {
  return new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 0 }).format(fraction);
}

function formatTime(iso: string): string {
  return new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' }).format(
    new Date(iso),
  );
}

export function VehicleCard({ vehicle }: { vehicle: Vehicle }) {
  const { id, year, make, model, units, data, status, fetchedAt } = vehicle;
  const headingId = `vehicle-${id}`;
  const rows: [label: string, value: string][] = [];
  if (data.odometer) rows.push([strings.odometer, formatDistance(data.odometer.distance, units)]);
  if (data.battery) {
    const range = strings.range(formatDistance(data.battery.range, units));
    rows.push([strings.battery, `${formatLevel(data.battery.percentRemaining)} · ${range}`]);
  }
  if (data.fuel) {
    const range = strings.range(formatDistance(data.fuel.range, units));
    rows.push([strings.fuel, `${formatLevel(data.fuel.percentRemaining)} · ${range}`]);
  }
  if (data.security) rows.push([strings.locks, data.security.isLocked ? strings.locked : strings.unlocked]);

  return (
    <article class="vehicle" aria-labelledby={headingId} data-testid="vehicle-card">
      <h2 id={headingId}>
        {year} {make} {model}
      </h2>
      {status === 'reconnect_required' && <p class="badge">{strings.reconnectRequired}</p>}
      {rows.length > 0 && (
        <dl>
          {rows.map(([label, value]) => (
            <div key={label}>
              <dt>{label}</dt>
              <dd>{value}</dd>
            </div>
          ))}
        </dl>
      )}
      {fetchedAt && <p class="muted">{strings.updatedAt(formatTime(fetchedAt))}</p>}
    </article>
  );
}
