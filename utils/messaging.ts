// Popup-to-background messages. Answers travel through storage, since the popup may be gone by then.
import { browser } from 'wxt/browser';

export type BackgroundMessage =
  /** `make` limits Connect to one brand: how a vehicle that needs reconnecting is reconnected. */
  | { type: 'connect'; make?: string }
  /** The popup opened: ask the server what it has (no Smartcar request). */
  | { type: 'sync' }
  /** The person asked for fresh data: the server reads every vehicle now. */
  | { type: 'refresh' }
  | { type: 'setLock'; vehicleId: string; action: 'LOCK' | 'UNLOCK' }
  | { type: 'disconnect'; vehicleId: string }
  | { type: 'signOut' };

const MESSAGE_TYPES: readonly string[] = [
  'connect',
  'sync',
  'refresh',
  'setLock',
  'disconnect',
  'signOut',
] satisfies BackgroundMessage['type'][];

/** Checks the type only: no content script or web page can send to the background, just our own pages. */
export function isBackgroundMessage(message: unknown): message is BackgroundMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    'type' in message &&
    typeof message.type === 'string' &&
    MESSAGE_TYPES.includes(message.type)
  );
}

/** Resolves when the background has finished the work; callers that may close first need not wait. */
export async function sendToBackground(message: BackgroundMessage): Promise<void> {
  await browser.runtime.sendMessage(message);
}
