import { connectVehicle, recoverInterruptedFlow } from '@/utils/connect-flow';
import { type BackgroundMessage, isBackgroundMessage } from '@/utils/messaging';
import { refreshVehicles } from '@/utils/refresh-vehicles';
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';

const handlers: Record<BackgroundMessage['type'], () => Promise<void>> = {
  connect: connectVehicle,
  refresh: refreshVehicles,
};

export default defineBackground(() => {
  void recoverInterruptedFlow();

  // Only our own pages can reach this listener: there are no content scripts and no externally_connectable.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises -- the polyfill answers with the returned promise
  browser.runtime.onMessage.addListener((message: unknown) => {
    if (!isBackgroundMessage(message)) return undefined;
    return handlers[message.type]();
  });
});
