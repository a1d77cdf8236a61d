// How Smartcar posts a webhook event (docs `/api-reference/webhooks/delivery-behavior`,
// `/integrations/webhooks/best-practices/security`): JSON, `SC-Signature` = hex HMAC-SHA256 of the exact
// body keyed with the application management token; any 2xx within 15 s is delivered, otherwise it is
// retried after 25, 50 and 100 s and then dropped. At least once: a retry repeats the `eventId`.
import { createHmac, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Delivery {
  webhookId: string;
  url: string;
  eventType: string;
  eventId: string;
  /** POSTs made so far. */
  attempts: number;
  /** HTTP status of each attempt; 0 when there was no answer in time. */
  statuses: number[];
  status: 'pending' | 'delivered' | 'dropped';
}

const TIMEOUT_MS = 15_000;
const RETRY_AFTER_MS = [25_000, 50_000, 100_000];
/** A scaled timeout never drops below this, so a tiny scale does not abort a local receiver (assumed). */
const MIN_TIMEOUT_MS = 1_000;

export function signature(managementToken: string, body: string): string {
  return createHmac('sha256', managementToken).update(body).digest('hex');
}

/** What one attempt carries: the body is made afresh per attempt (`meta.deliveryId`, `deliveredAt`). */
export type EventBody = (meta: { deliveryId: string; deliveredAt: string }) => object;

/** One POST; the status, or 0 when the receiver did not answer within the timeout. */
async function post(url: string, body: string, managementToken: string, timeoutMs: number) {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sc-signature': signature(managementToken, body) },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: response.status, text: await response.text() };
  } catch {
    return { status: 0, text: '' };
  }
}

export interface Attempt {
  status: number;
  text: string;
}

const isSuccess = (attempt: Attempt) => attempt.status >= 200 && attempt.status < 300;

/**
 * Posts `event` until an attempt is `accepted`, retrying on Smartcar's schedule times `scale` unless
 * `retry` is false (a VERIFY is not retried: the webhook just stays unverified, assumed).
 */
export async function deliver(
  delivery: Delivery,
  event: EventBody,
  {
    managementToken,
    scale,
    now,
    stopped,
    retry = true,
    accepted = isSuccess,
  }: {
    managementToken: string;
    scale: number;
    now: () => number;
    /** True once the emulator closes: no more attempts. */
    stopped: () => boolean;
    retry?: boolean;
    accepted?: (attempt: Attempt) => boolean;
  },
): Promise<boolean> {
  const waits = retry ? [0, ...RETRY_AFTER_MS] : [0];
  for (const wait of waits) {
    if (wait > 0) await sleep(wait * scale);
    if (stopped()) break;
    const body = JSON.stringify(
      event({ deliveryId: randomUUID(), deliveredAt: new Date(now()).toISOString() }),
    );
    const attempt = await post(
      delivery.url,
      body,
      managementToken,
      Math.max(TIMEOUT_MS * scale, MIN_TIMEOUT_MS),
    );
    delivery.attempts += 1;
    delivery.statuses.push(attempt.status);
    if (accepted(attempt)) {
      delivery.status = 'delivered';
      return true;
    }
  }
  delivery.status = 'dropped';
  return false;
}
