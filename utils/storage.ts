// Every value the extension keeps, in one place. The background writes; the popup renders from these.
import type { UnitSystem, Vehicle } from '@/protocol/server-api';
import type { Failure } from './failure';
import { defineItem, removeItems } from './storage-item';

/** Where the token server lives; the build default until the options page changes it. */
export const serverUrlItem = defineItem<string>('local:serverUrl', import.meta.env.WXT_SERVER_URL);

/**
 * An opaque session token and the server origin that issued it. Never a Smartcar token. A session
 * belongs to its server: requests send it only there, so switching servers can never leak it.
 */
export interface Session {
  server: string;
  token: string;
}

/** The session, null until the first vehicle is connected. */
export const sessionItem = defineItem<Session | null>('local:serverSession', null);

/** The stored session if it belongs to the server configured now, else null. */
export async function currentSession(): Promise<Session | null> {
  const [session, serverUrl] = await Promise.all([sessionItem.getValue(), serverUrlItem.getValue()]);
  return session?.server === serverUrl ? session : null;
}

/** Vehicles as last reported by the server, so the popup can paint without a request. */
export const vehiclesItem = defineItem<Vehicle[]>('local:vehicles', []);

/** Connections whose vehicle list Smartcar has not given the server yet: more vehicles are coming. */
export const pendingConnectionsItem = defineItem<number>('local:pendingConnections', 0);

/**
 * The person's unit system. The server reads every car in metric and converts what it stored on
 * each answer, so every call that answers vehicles names these units.
 */
export const unitsItem = defineItem<UnitSystem>('local:units', 'metric');

export interface ConnectOptions {
  /** A Smartcar make such as TESLA: Connect skips its brand list. */
  make: string | null;
  singleVehicle: boolean;
}

export const connectOptionsItem = defineItem<ConnectOptions>('local:connectOptions', {
  make: null,
  singleVehicle: false,
});

export type ConnectFlowState =
  { status: 'idle' } | { status: 'connecting' } | { status: 'error'; failure: Failure };

/**
 * The Connect flow in progress or its last failure. Session storage: it survives a service worker
 * restart and a closed popup, but not a browser restart, which would abandon any open auth window.
 */
export const connectFlowItem = defineItem<ConnectFlowState>('session:connectFlow', { status: 'idle' });

export type RefreshState = { status: 'idle' } | { status: 'failed'; failure: Failure };

/** Outcome of the last answer about the vehicles; a failure keeps the stored vehicles and adds a notice. */
export const refreshItem = defineItem<RefreshState>('session:refresh', { status: 'idle' });

/**
 * While the server works on something (a read, a lock, a new connection), the background asks it
 * again every few seconds until this time (ms since the epoch). Kept in storage so a background
 * that the browser stopped picks the work up again when it starts.
 */
export const watchUntilItem = defineItem<number | null>('session:watchUntil', null);

export type Operation = 'LOCK' | 'UNLOCK' | 'DISCONNECT' | 'SIGN_OUT';

export type OperationState =
  | { operation: Operation; status: 'pending' }
  | { operation: Operation; status: 'done' }
  | { operation: Operation; status: 'failed'; failure: Failure };

/** The sign-out operation's key in operationsItem; vehicle operations use the vehicle ID. */
export const SIGN_OUT_KEY = 'session';

/**
 * The last lock, unlock, disconnect or sign-out per vehicle ID (or SIGN_OUT_KEY): pending while the
 * server works, then its outcome, so a popup closed meanwhile shows it when opened again.
 */
export const operationsItem = defineItem<Record<string, OperationState>>('session:operations', {});

/** Records an operation's state, keeping the others'. */
export async function setOperation(key: string, state: OperationState): Promise<void> {
  await operationsItem.setValue({ ...(await operationsItem.getValue()), [key]: state });
}

/** The server no longer knows this session, or the user signed out: drop it with the vehicles it owned. */
export async function forgetSession(): Promise<void> {
  await removeItems([sessionItem, vehiclesItem, pendingConnectionsItem, watchUntilItem]);
}
