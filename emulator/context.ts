// Everything the route plugins of one emulator share.
import type { CallLog } from './calls.js';
import type { FaultRegistry } from './faults.js';
import type { Latency } from './latency.js';
import type { RateLimits } from './limits.js';
import type { Store } from './store.js';

export interface EmulatorContext {
  store: Store;
  calls: CallLog;
  faults: FaultRegistry;
  limits: RateLimits;
  latency: Latency;
}
