// One visit to Connect: what the application asked for and what the user has chosen so far. Kept
// server-side, keyed by a random id that the pages carry in their URLs.
import type { EmulatedVehicle } from './fleet';
import type { Permission, RequestedScope } from './permission-labels';
import type { EmulatorClient } from './store';

export const MODES = ['test', 'live', 'simulated'] as const;
export type Mode = (typeof MODES)[number];

const FLOW_TTL_MS = 30 * 60 * 1000;

export interface Flow {
  id: string;
  client: EmulatorClient;
  redirectUri: string;
  scope: RequestedScope;
  state: string | undefined;
  mode: Mode;
  forcePrompt: boolean;
  make: string | undefined;
  singleSelect: boolean;
  singleSelectVin: string | undefined;
  expiresAt: number;
  account?: string;
  vehicles?: EmulatedVehicle[];
}

/** The required permissions the vehicle cannot grant; a vehicle with any cannot be chosen. */
export function missingRequired(flow: Flow, vehicle: EmulatedVehicle): Permission[] {
  return [...flow.scope.required].filter((permission) => !vehicle.capabilities.has(permission));
}

/** The flows in progress; one ends when it redirects back, or half an hour after it began. */
export class ConnectSessions {
  private readonly flows = new Map<string, Flow>();

  constructor(private readonly now: () => number) {}

  expiry(): number {
    return this.now() + FLOW_TTL_MS;
  }

  open(flow: Flow): void {
    this.flows.set(flow.id, flow);
  }

  /** The flow if it is still in progress. */
  find(id: string): Flow | undefined {
    const flow = this.flows.get(id);
    if (flow && flow.expiresAt > this.now()) return flow;
    this.flows.delete(id);
    return undefined;
  }

  close(id: string): void {
    this.flows.delete(id);
  }
}
