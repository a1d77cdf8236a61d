import { type BackgroundMessage, isBackgroundMessage } from '@/utils/messaging';
import { unitsItem, vehiclesItem } from '@/utils/storage';
import { showVehiclesOnBadge } from './badge';
import { connectVehicle, recoverInterruptedFlow } from './connect-flow';
import { disconnectVehicle, recoverInterruptedOperations, setLock, signOut } from './vehicle-operations';
import { WATCH_ALARM, refreshVehicles, resumeWatching, syncVehicles } from './vehicle-sync';
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';

function handle(message: BackgroundMessage): Promise<void> {
  switch (message.type) {
    case 'connect':
      return connectVehicle(message.make);
    case 'sync':
      return syncVehicles();
    case 'refresh':
      return refreshVehicles();
    case 'setLock':
      return setLock(message.vehicleId, message.action);
    case 'disconnect':
      return disconnectVehicle(message.vehicleId);
    case 'signOut':
      return signOut();
  }
}

export default defineBackground(() => {
  // Work a stopped service worker left in storage as running would otherwise show as running forever.
  void recoverInterruptedFlow();
  void recoverInterruptedOperations();
  // The server kept working while this worker was stopped: ask it again where the last one left off.
  void resumeWatching();
  browser.alarms.onAlarm.addListener(({ name }) => {
    if (name === WATCH_ALARM) void resumeWatching();
  });

  void vehiclesItem.getValue().then(showVehiclesOnBadge);
  vehiclesItem.watch((vehicles) => void showVehiclesOnBadge(vehicles));
  // The options page only stores the choice. The server converts what it has on every answer, so
  // asking again shows the new units without reading the cars.
  unitsItem.watch(() => void syncVehicles());

  // Only our own pages can reach this listener: there are no content scripts and no externally_connectable.
  // The returned promise answers the sender when the work is done (the polyfill makes Chromium honour it).
  // WXT types `browser` as Chrome's API, whose listeners return void; the polyfill's accept a promise.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  browser.runtime.onMessage.addListener((message: unknown) =>
    isBackgroundMessage(message) ? handle(message) : undefined,
  );
});
