// When a vehicle is read, and what a read asks for: automatic reads paced by the month's request
// budget and Smartcar's holds, reads a person or a process asked for, and the lock-status read
// that settles a command whose answer never came.
import type { Hold } from '../http/api-errors';
import { startOfNextMonth } from '../lib/clock';
import type { ReadScope, StoredVehicle } from '../db/schema';
import { FIGURE_NAMES, FIGURES, type PopupFigure } from '../smartcar/gateway';
import type { RequestBudget } from './request-budget';

/** A read's lease on its row; renewed every third of it while the read runs. */
export const READ_LEASE_MS = 30_000;

/** After this long a command has been answered or timed out at Smartcar's end (its SDK waits 310 s). */
export const COMMAND_SETTLED_MS = 6 * 60_000;

/** What pacing a set of vehicles needs to know, read once for all of them. */
export interface ReadContext {
  now: Date;
  /** Billed requests this month per Smartcar vehicle id. */
  billed: Map<string, number>;
  holds: Map<string, Hold>;
  application: Hold | undefined;
  budget: RequestBudget;
}

/** The figures a read asks for: what the grant allows and the vehicle has not shown it lacks. */
export function figuresToRead(
  vehicle: Pick<StoredVehicle, 'permissions' | 'incapable'>,
  scope: ReadScope,
): PopupFigure[] {
  const candidates: PopupFigure[] = scope === 'security' ? ['security'] : FIGURE_NAMES;
  return candidates.filter(
    (figure) =>
      (vehicle.permissions === null || vehicle.permissions.includes(FIGURES[figure].permission)) &&
      !vehicle.incapable.includes(figure),
  );
}

/** Billed requests a read will cost (permissions are free). */
export function readCost(
  vehicle: Pick<StoredVehicle, 'permissions' | 'incapable' | 'make'>,
  scope: ReadScope,
): number {
  const attributes = scope === 'all' && vehicle.make === null ? 1 : 0;
  return attributes + figuresToRead(vehicle, scope).length;
}

/** When the server will next read the vehicle by itself: paced by the budget, after any hold. */
export function nextAutomaticRead(vehicle: StoredVehicle, context: ReadContext): Date {
  const billed = context.billed.get(vehicle.id) ?? 0;
  const interval = context.budget.autoReadInterval(billed, readCost(vehicle, 'all'), context.now);
  const paced =
    interval === null
      ? startOfNextMonth(context.now).getTime()
      : (vehicle.readAttemptedAt?.getTime() ?? -Infinity) + interval;
  const hold = Math.max(
    context.holds.get(vehicle.id)?.until.getTime() ?? 0,
    context.application?.until.getTime() ?? 0,
  );
  return new Date(Math.max(paced, hold));
}

/** The read a vehicle is due for now, if any. */
export function dueRead(vehicle: StoredVehicle, context: ReadContext): ReadScope | undefined {
  const { now } = context;
  const leased = vehicle.readLeaseUntil !== null && vehicle.readLeaseUntil > now;
  // Requested and nobody at it: a process died mid-read, or the read has not started yet.
  if (vehicle.readRequested) return leased ? undefined : vehicle.readRequested;
  if (nextAutomaticRead(vehicle, context) <= now) return 'all';
  // A command whose own answer never came (the process that sent it stopped): read the lock status.
  const command = vehicle.pendingCommand;
  if (command && Date.parse(command.sentAt) + COMMAND_SETTLED_MS + READ_LEASE_MS < now.getTime())
    return 'security';
  return undefined;
}
