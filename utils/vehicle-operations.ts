// Lock, unlock, disconnect and sign out, run by the background. Each records pending, then its
// outcome, in operationsItem, and applies the server's answer to the stored vehicles.
import type { SecurityRequest, Vehicle } from '@/protocol/api';
import { api } from './api';
import { FailureError, toFailure } from './failure';
import {
  forgetSession,
  operationsItem,
  type Operation,
  type OperationState,
  SIGN_OUT_KEY,
  sessionItem,
  setOperation,
  vehiclesItem,
} from './storage';

async function track(key: string, operation: Operation, work: (session: string) => Promise<void>) {
  const session = await sessionItem.getValue();
  if (!session) return;
  await setOperation(key, { operation, status: 'pending' });
  try {
    await work(session);
    await setOperation(key, { operation, status: 'done' });
  } catch (error) {
    const failure = toFailure(error);
    // The server no longer knows this session: nothing is left to operate on.
    if (failure.code === 'unauthorized') await forgetSession();
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

export function setLock(vehicleId: string, action: SecurityRequest['action']): Promise<void> {
  return track(vehicleId, action, async (session) => {
    const { vehicle } = await api.setLock(vehicleId, action, session);
    await updateVehicles((vehicles) => vehicles.map((each) => (each.id === vehicle.id ? vehicle : each)));
  });
}

export function disconnectVehicle(vehicleId: string): Promise<void> {
  return track(vehicleId, 'DISCONNECT', async (session) => {
    await api.disconnect(vehicleId, session).catch(ignoreFailure('not_found'));
    await updateVehicles((vehicles) => vehicles.filter((each) => each.id !== vehicleId));
  });
}

export function signOut(): Promise<void> {
  return track(SIGN_OUT_KEY, 'SIGN_OUT', async (session) => {
    await api.signOut(session).catch(ignoreFailure('unauthorized'));
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
