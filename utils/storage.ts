// Every value the extension keeps, in one place. The background writes; the popup renders from these.
import type { Vehicle } from '@/protocol/api';
import { storage } from 'wxt/utils/storage';
import type { Failure } from './failure';

/** Where the token server lives; the build default until the options page changes it. */
export const serverUrlItem = storage.defineItem<string>('local:serverUrl', {
  fallback: import.meta.env.WXT_SERVER_URL,
});

/** Opaque session token from the server; null until the first vehicle is connected. Never a Smartcar token. */
export const sessionItem = storage.defineItem<string | null>('local:session', { fallback: null });

/** Vehicles as last reported by the server, so the popup can paint without a request. */
export const vehiclesItem = storage.defineItem<Vehicle[]>('local:vehicles', { fallback: [] });

export type ConnectFlowState =
  { status: 'idle' } | { status: 'connecting' } | { status: 'error'; failure: Failure };

/**
 * The Connect flow in progress or its last failure. Session storage: it survives a service worker
 * restart and a closed popup, but not a browser restart, which would abandon any open auth window.
 */
export const connectFlowItem = storage.defineItem<ConnectFlowState>('session:connectFlow', {
  fallback: { status: 'idle' },
});

export type RefreshState =
  { status: 'idle' } | { status: 'refreshing' } | { status: 'failed'; failure: Failure };

/** Outcome of the last vehicle refresh; a failure keeps the stored vehicles and only adds a notice. */
export const refreshItem = storage.defineItem<RefreshState>('session:refresh', {
  fallback: { status: 'idle' },
});

/** The server no longer knows this session: drop it with the vehicles it owned. */
export async function forgetSession(): Promise<void> {
  await storage.removeItems([sessionItem, vehiclesItem]);
}
