// Lock, unlock, disconnect and sign out, run by the background. Each records pending, then its
// outcome, in operationsItem, and applies the server's answer to the stored vehicles.
import type { SecurityRequest, Vehicle } from '@/protocol/server-api';
import { type Failure, FailureError, isSessionGone, toFailure } from '@/utils/failure';
import { serverClient } from '@/utils/server-client';
import {
  type Operation,
  type OperationState,
  type Session,
  SIGN_OUT_KEY,
  currentSession,
  forgetSession,
  operationsItem,
  sessionItem,
  setOperation,
  unitsItem,
  vehiclesItem,
} from '@/utils/storage';
import { watchVehicles } from './vehicle-sync';

async function track(
  key: string,
  operation: Operation,
  session: Session | null,
  work: (session: Session) => Promise<void>,
  onFailure?: (failure: Failure) => Promise<void>,
) {
  if (!session) return;
  await setOperation(key, { operation, status: 'pending' });
  try {
    await work(session);
    await setOperation(key, { operation, status: 'done' });
  } catch (error) {
    const failure = toFailure(error);
    // The server no longer knows this session: nothing is left to operate on.
    if (isSessionGone(failure)) await forgetSession();
    await onFailure?.(failure);
    await setOperation(key, { operation, status: 'failed', failure });
  }
}

/** For failures that mean the work is already done: a vehicle already gone, a session already ended. */
function ignoreFailure(code: 'not_found' | 'unauthorized') {
  return (error: unknown) => {
    if (!(error instanceof FailureError && error.failure.code === code)) throw error;
  };
}

async function updateVehicles(update: (vehicles: Vehicle[]) => Vehicle[]): Promise<void> {
  await vehiclesItem.setValue(update(await vehiclesItem.getValue()));
}

async function updateVehicle(vehicleId: string, update: (vehicle: Vehicle) => Vehicle): Promise<void> {
  await updateVehicles((vehicles) => vehicles.map((each) => (each.id === vehicleId ? update(each) : each)));
}

/**
 * The server answers 200 with the confirmed state, or 202 with `pendingCommand` set: sent, and the
 * car has not confirmed yet. Then the background watches until a lock-status read confirms it.
 */
export async function setLock(vehicleId: string, action: SecurityRequest['action']): Promise<void> {
  await track(
    vehicleId,
    action,
    await currentSession(),
    async (session) => {
      const units = await unitsItem.getValue();
      const { vehicle } = await serverClient.setLock(vehicleId, action, units, session);
      await updateVehicle(vehicleId, () => vehicle);
      if (vehicle.pendingCommand) await watchVehicles();
    },
    // The card follows the answer at once: a dead grant shows Reconnect without waiting for a refresh.
    async (failure) => {
      if (failure.code === 'reconnect_required') {
        await updateVehicle(vehicleId, (vehicle) => ({ ...vehicle, status: 'reconnect_required' }));
      }
    },
  );
}

export async function disconnectVehicle(vehicleId: string): Promise<void> {
  await track(vehicleId, 'DISCONNECT', await currentSession(), async (session) => {
    await serverClient.disconnect(vehicleId, session).catch(ignoreFailure('not_found'));
    await updateVehicles((vehicles) => vehicles.filter((each) => each.id !== vehicleId));
  });
}

/** Signs out at the server that issued the session, even when the options page has since switched. */
export async function signOut(): Promise<void> {
  await track(SIGN_OUT_KEY, 'SIGN_OUT', await sessionItem.getValue(), async (session) => {
    await serverClient.signOut(session).catch(ignoreFailure('unauthorized'));
    await forgetSession();
  });
}

/**
 * Called when the background starts: operations left pending were lost with the stopped worker.
 * The server may have done them, so they fail as interrupted and the next refresh shows the truth.
 */
export async function recoverInterruptedOperations(): Promise<void> {
  const operations = await operationsItem.getValue();
  const pending = Object.entries(operations).filter(([, state]) => state.status === 'pending');
  if (pending.length === 0) return;
  await operationsItem.setValue({
    ...operations,
    ...Object.fromEntries(
      pending.map(([key, { operation }]) => [
        key,
        { operation, status: 'failed', failure: { code: 'operation_interrupted' } } satisfies OperationState,
      ]),
    ),
  });
}
