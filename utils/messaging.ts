// Popup-to-background messages. Answers travel through storage, since the popup may be gone by then.
import { browser } from 'wxt/browser';

export type BackgroundMessage = { type: 'connect' } | { type: 'refresh' };

const MESSAGE_TYPES: readonly string[] = ['connect', 'refresh'] satisfies BackgroundMessage['type'][];

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
