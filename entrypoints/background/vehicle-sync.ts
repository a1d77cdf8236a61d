// Keeps the stored vehicles in step with the server. A read of a car can take minutes, so the server
// answers at once and works in the background; this module asks our server again every few seconds
// (free: no Smartcar request) until nothing is under way, and stores each answer for the popup.
import type { UnitSystem, VehiclesResponse } from '@/protocol/server-api';
import { isSessionGone, isServerWide, toFailure } from '@/utils/failure';
import { serverClient } from '@/utils/server-client';
import { SingleFlight } from '@/utils/single-flight';
import { browser } from 'wxt/browser';
import {
  type Session,
  connectFlowItem,
  currentSession,
  forgetSession,
  operationsItem,
  pendingConnectionsItem,
  refreshItem,
  sessionItem,
  unitsItem,
  vehiclesItem,
  watchUntilItem,
} from '@/utils/storage';

/** How often the server is asked while it works. Each answer is an extension API call, which keeps the worker alive. */
export const POLL_INTERVAL_MS = 3_000;
/** Smartcar documents reads of up to 300 s; past this the popup shows what the server has by then. */
export const WATCH_LIMIT_MS = 6 * 60_000;
/**
 * Fires while a watch is on, popup open or not: the browser starts a stopped worker for it, and the
 * worker goes on where the last one left off. Chrome fires an alarm at most every 30 s (every
 * minute before Chrome 120).
 */
export const WATCH_ALARM = 'watch';
const WATCH_ALARM_PERIOD_MINUTES = 0.5;

/** Nothing is under way at the server: no read, no unconfirmed command, no vehicle list to come. */
export function isSettled({ vehicles, pendingConnections }: VehiclesResponse): boolean {
  return pendingConnections === 0 && vehicles.every((vehicle) => !vehicle.reading && !vehicle.pendingCommand);
}

/** Stores the server's answer, and watches while the server still works on something. */
export async function acceptVehicles(session: Session, answer: VehiclesResponse): Promise<void> {
  if ((await storeVehicles(session, answer)) && !isSettled(answer)) await watchVehicles();
}

/**
 * Fresh data shows the truth, so finished operations and failures about reaching the server go.
 * False when the answer was not stored, its session no longer being the current one.
 */
async function storeVehicles(session: Session, answer: VehiclesResponse): Promise<boolean> {
  // A Connect flow or a sign-out may have replaced the session meanwhile; its vehicles win.
  if ((await sessionItem.getValue())?.token !== session.token) return false;
  await vehiclesItem.setValue(answer.vehicles);
  await pendingConnectionsItem.setValue(answer.pendingConnections);
  await refreshItem.setValue({ status: 'idle' });
  await forgetFinishedOperations();
  const flow = await connectFlowItem.getValue();
  if (flow.status === 'error' && isServerWide(flow.failure))
    await connectFlowItem.setValue({ status: 'idle' });
  return true;
}

/** The popup opened: the server answers from what it has (no Smartcar request). */
export function syncVehicles(): Promise<void> {
  return ask((session, units) => serverClient.vehicles(units, session));
}

/** The person pressed Refresh: the server reads every vehicle now, and this watches until the reads end. */
export function refreshVehicles(): Promise<void> {
  return ask((session, units) => serverClient.refresh(units, session));
}

async function ask(
  question: (session: Session, units: UnitSystem) => Promise<VehiclesResponse>,
): Promise<void> {
  const session = await currentSession();
  if (!session) return;
  try {
    await acceptVehicles(session, await question(session, await unitsItem.getValue()));
  } catch (error) {
    await storeFailure(error);
  }
}

async function storeFailure(error: unknown): Promise<void> {
  const failure = toFailure(error);
  await endWatch();
  if (isSessionGone(failure)) await forgetSession();
  // Signed out elsewhere is no news; an expired sign-in is, since the person must connect again.
  await refreshItem.setValue(
    failure.code === 'unauthorized' ? { status: 'idle' } : { status: 'failed', failure },
  );
}

/** Asks again every few seconds until the server has finished, or the watch runs out. */
export async function watchVehicles(): Promise<void> {
  await watchUntilItem.setValue(Date.now() + WATCH_LIMIT_MS);
  await browser.alarms.create(WATCH_ALARM, { periodInMinutes: WATCH_ALARM_PERIOD_MINUTES });
  void keepWatching();
}

/** Nothing left to ask for, so no alarm to wake a worker for it either. */
async function endWatch(): Promise<void> {
  await watchUntilItem.setValue(null);
  await browser.alarms.clear(WATCH_ALARM);
}

/**
 * Called when the background starts and when the watch alarm fires: a watch left in storage goes
 * on (once: a running one is not doubled); with none left, the alarm goes too.
 */
export async function resumeWatching(): Promise<void> {
  if (await watchUntilItem.getValue()) void keepWatching();
  else await browser.alarms.clear(WATCH_ALARM);
}

const watches = new SingleFlight<void>();

function keepWatching(): Promise<void> {
  return watches.run('watch', pollUntilSettled);
}

async function pollUntilSettled(): Promise<void> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    const until = await watchUntilItem.getValue();
    const session = await currentSession();
    // Ended elsewhere: a sign-out forgets it with the session. Its alarm, left alone in case a new
    // watch has just begun, goes when it next fires.
    if (!until) return;
    if (!session || Date.now() >= until) {
      await endWatch();
      return;
    }
    try {
      const answer = await serverClient.vehicles(await unitsItem.getValue(), session);
      if (isSettled(answer)) await endWatch();
      await storeVehicles(session, answer);
    } catch (error) {
      await storeFailure(error);
      return;
    }
  }
}

/** Fresh data shows the truth now, so "Locked just now" and old failures go; pending work stays. */
async function forgetFinishedOperations(): Promise<void> {
  const operations = await operationsItem.getValue();
  await operationsItem.setValue(
    Object.fromEntries(Object.entries(operations).filter(([, state]) => state.status === 'pending')),
  );
}
