// Everything the route plugins of one emulator share.
import type { CallLog } from './calls';
import type { FaultRegistry } from './faults';
import type { Latency } from './latency';
import type { RateLimits } from './limits';
import type { Store } from './store';
import type { WebhookHub } from './webhooks';

export interface EmulatorContext {
  store: Store;
  calls: CallLog;
  faults: FaultRegistry;
  limits: RateLimits;
  latency: Latency;
  webhooks: WebhookHub;
}
