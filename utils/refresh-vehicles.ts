import { api } from './api';
import { toFailure } from './failure';
import { forgetSession, operationsItem, refreshItem, sessionItem, unitsItem, vehiclesItem } from './storage';

/** Asks the server for fresh vehicle data; on failure the stored vehicles stay and a notice is stored. */
export async function refreshVehicles(): Promise<void> {
  const session = await sessionItem.getValue();
  if (!session) return;
  await refreshItem.setValue({ status: 'refreshing' });
  try {
    const { vehicles } = await api.vehicles(await unitsItem.getValue(), session);
    // A Connect flow may have replaced the session meanwhile; its vehicles win.
    if ((await sessionItem.getValue()) === session) await vehiclesItem.setValue(vehicles);
    await refreshItem.setValue({ status: 'idle' });
    await forgetFinishedOperations();
  } catch (error) {
    const failure = toFailure(error);
    if (failure.code === 'unauthorized') {
      await forgetSession();
      await refreshItem.setValue({ status: 'idle' });
    } else {
      await refreshItem.setValue({ status: 'failed', failure });
    }
  }
}

/** Called when the background starts: a refresh left running was lost with the stopped worker. */
export async function recoverInterruptedRefresh(): Promise<void> {
  if ((await refreshItem.getValue()).status === 'refreshing') await refreshItem.setValue({ status: 'idle' });
}

/** Fresh data shows the truth now, so "Locked just now" and old failures go; pending work stays. */
async function forgetFinishedOperations(): Promise<void> {
  const operations = await operationsItem.getValue();
  await operationsItem.setValue(
    Object.fromEntries(Object.entries(operations).filter(([, state]) => state.status === 'pending')),
  );
}
