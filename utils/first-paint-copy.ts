// The popup's first paint comes from a copy of what it last showed, kept in the extension pages'
// own localStorage: a page reads that synchronously, while browser.storage answers only after a
// round trip to the browser, which held the first paint back. The copy holds the state the popup
// rendered and a picture of it, the HTML a fresh open renders from that state: a small classic
// script (entrypoints/first-paint.ts) puts the picture up while the page is still loading, before
// the popup's modules have even arrived; the app then renders the same from the state and takes
// over. browser.storage stays the truth: the popup renders its answer as soon as it comes, which
// also corrects a stale copy, and copies it. Signing out (popup or options page) forgets the copy,
// as it forgets the vehicles.
import type { Vehicle } from '@/protocol/server-api';
import type { ConnectFlowState, OperationState, RefreshState } from '@/utils/storage';

/** What the popup renders from; never the session, whose token is a secret. */
export interface PopupState {
  vehicles: Vehicle[];
  flow: ConnectFlowState;
  refresh: RefreshState;
  operations: Record<string, OperationState>;
  pendingConnections?: number | undefined;
  watchUntil?: number | null | undefined;
}

export const COPY_KEY = 'firstPaintCopy';

/**
 * The name of the popup's script carries a hash of its code and of everything it imports: a copy
 * that other code wrote, perhaps in another shape, is never used. (The build puts that script in
 * <head>, so first-paint.js finds it too. In `npm run dev` the first module is Vite's client, the
 * same for every change: there a copy in an older shape can pass, and fails to render at worst.)
 */
const version = () => document.querySelector<HTMLScriptElement>('script[type="module"]')?.src ?? '';

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

interface Copy {
  state: PopupState;
  picture: string;
}

/** The copy, if this code wrote it and it has the expected shape. */
function readCopy(text: string | null): Copy | undefined {
  try {
    const stored: unknown = JSON.parse(text ?? 'null');
    if (!isObject(stored) || stored.version !== version() || !isObject(stored.state)) return undefined;
    const { vehicles, flow, refresh, operations } = stored.state;
    if (
      typeof stored.picture === 'string' &&
      Array.isArray(vehicles) &&
      isObject(flow) &&
      isObject(refresh) &&
      isObject(operations)
    ) {
      return stored as unknown as Copy;
    }
  } catch {
    // Unreadable: browser.storage answers soon enough.
  }
  return undefined;
}

/**
 * The state of the copy, taken out of storage as it is read: should it fail to render, the next
 * open renders from browser.storage instead.
 */
export function takeCopy(): PopupState | undefined {
  try {
    const text = localStorage.getItem(COPY_KEY);
    localStorage.removeItem(COPY_KEY);
    return readCopy(text)?.state;
  } catch {
    // No localStorage: the popup renders when browser.storage answers.
    return undefined;
  }
}

/** Longer than the popup's modules take to load and start on a slow machine. */
export const APP_START_LIMIT_MS = 3_000;

/**
 * Puts the copy's picture in `root`, inert: its buttons do nothing until the app replaces it. The
 * HTML is the popup's own render, which only the extension's pages can write to their storage, and
 * the extension's content security policy runs no script that markup could carry. Should the app
 * not start, the picture goes and the copy with it, rather than a popup that looks alive but is not.
 */
export function paintCopy(root: HTMLElement): void {
  try {
    const copy = readCopy(localStorage.getItem(COPY_KEY));
    if (!copy) return;
    root.inert = true;
    root.innerHTML = copy.picture;
    setTimeout(() => {
      if (!root.inert) return;
      takePictureDown(root);
      forgetCopy();
    }, APP_START_LIMIT_MS);
  } catch {
    // No localStorage: the app paints when storage answers.
  }
}

/** Empties `root` of the picture and makes it live again, for the app or for nothing. */
export function takePictureDown(root: HTMLElement): void {
  root.replaceChildren();
  root.inert = false;
}

export function writeCopy(state: PopupState, picture: string): void {
  try {
    localStorage.setItem(COPY_KEY, JSON.stringify({ version: version(), state, picture }));
  } catch {
    // Storage full or turned off: every open renders from browser.storage, as without a copy.
  }
}

/** Forgets the copy: only the popup writes it again, when it next opens. */
export function forgetCopy(): void {
  try {
    localStorage.removeItem(COPY_KEY);
  } catch {
    // No localStorage, so no copy either.
  }
}
