// A stored vehicle as the API answers it (protocol/server-api.ts `Vehicle`).
import type { UnitSystem, Vehicle } from '../../protocol/server-api';
import type { StoredVehicle } from '../db/schema';
import { monthOf } from '../lib/clock';
import { nextAutomaticRead, type ReadContext } from './read-schedule';
import { convert } from './units';

/** A user's vehicle with the status of the connection it reads through. */
export interface OwnedVehicle {
  vehicle: StoredVehicle;
  status: string;
}

export function toApiVehicle(
  { vehicle, status }: OwnedVehicle,
  context: ReadContext,
  units?: UnitSystem,
): Vehicle {
  const answerUnits = units ?? vehicle.units;
  const active = status === 'active';
  const nextReadAt = active ? nextAutomaticRead(vehicle, context) : null;
  const now = context.now.getTime();
  return {
    id: vehicle.id,
    make: vehicle.make,
    model: vehicle.model,
    year: vehicle.year,
    permissions: vehicle.permissions ?? [],
    status: active ? 'connected' : 'reconnect_required',
    units: answerUnits,
    data: convert(vehicle.data, vehicle.units, answerUnits),
    readAt: vehicle.readAt,
    fetchedAt: vehicle.fetchedAt?.toISOString() ?? null,
    reading: active && vehicle.readRequested !== null,
    nextReadAt: nextReadAt && new Date(Math.max(nextReadAt.getTime(), now)).toISOString(),
    lastFailure: vehicle.lastFailure,
    pendingCommand: vehicle.pendingCommand && {
      action: vehicle.pendingCommand.action,
      sentAt: vehicle.pendingCommand.sentAt,
    },
    usage: {
      month: monthOf(context.now),
      billed: context.billed.get(vehicle.id) ?? 0,
      budget: context.budget.budget,
    },
  };
}
