// The server reads every vehicle in metric and stores metric; each answer converts to the unit
// system the person chose, so a change of units needs no read.
import type { UnitSystem, VehicleData } from '../../protocol/server-api';

export const KM_PER_MILE = 1.609344;
export const LITRES_PER_GALLON = 3.785411784;

/** Stored data in another unit system: distances in miles, fuel in US gallons, as Smartcar's imperial. */
export function convert(data: VehicleData, from: UnitSystem, to: UnitSystem): VehicleData {
  if (from === to) return data;
  const distance = (value: number) => round(to === 'imperial' ? value / KM_PER_MILE : value * KM_PER_MILE);
  const volume = (value: number) =>
    round(to === 'imperial' ? value / LITRES_PER_GALLON : value * LITRES_PER_GALLON);
  return {
    ...data,
    ...(data.odometer ? { odometer: { distance: distance(data.odometer.distance) } } : {}),
    ...(data.battery ? { battery: { ...data.battery, range: distance(data.battery.range) } } : {}),
    ...(data.fuel
      ? {
          fuel: {
            ...data.fuel,
            range: distance(data.fuel.range),
            amountRemaining: volume(data.fuel.amountRemaining),
          },
        }
      : {}),
  };
}

const round = (value: number) => Math.round(value * 10) / 10;
