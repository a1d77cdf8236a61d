// A value in browser.storage with a fallback and change notifications: all the extension asks of a
// storage library. These few lines weigh a fraction of WXT's storage module (versions, metadata,
// snapshots, locks), which every page loaded.
import { browser } from 'wxt/browser';

type Area = 'local' | 'session';
type StorageKey = `${Area}:${string}`;

export interface StorageItem<T> {
  readonly key: StorageKey;
  /** The stored value, or the fallback while none is stored. */
  getValue(): Promise<T>;
  /** Storing null or undefined removes the value, so the fallback shows again. */
  setValue(value: T): Promise<void>;
  removeValue(): Promise<void>;
  /** Calls back with each new value (the fallback once removed); returns how to stop. */
  watch(callback: (value: T) => void): () => void;
}

/** `local:serverUrl` is `serverUrl` in storage.local. */
function place(key: StorageKey): { area: Area; name: string } {
  const colon = key.indexOf(':');
  return { area: key.slice(0, colon) as Area, name: key.slice(colon + 1) };
}

/**
 * An item kept under `key`'s name in its storage area. The area is looked up on each use, not once,
 * because tests replace the browser's storage between cases.
 */
export function defineItem<T>(key: StorageKey, fallback: T): StorageItem<T> {
  const { area, name } = place(key);
  const removeValue = () => browser.storage[area].remove(name);
  return {
    key,
    async getValue() {
      return ((await browser.storage[area].get(name))[name] as T | undefined) ?? fallback;
    },
    setValue: (value) => (value == null ? removeValue() : browser.storage[area].set({ [name]: value })),
    removeValue,
    watch(callback) {
      const changed = browser.storage[area].onChanged;
      const listener = (changes: Record<string, { oldValue?: unknown; newValue?: unknown }>) => {
        const change = changes[name];
        // Writing the same value again is no change, though a browser may still report one.
        if (!change || JSON.stringify(change.newValue) === JSON.stringify(change.oldValue)) return;
        callback((change.newValue as T | undefined) ?? fallback);
      };
      changed.addListener(listener);
      return () => {
        changed.removeListener(listener);
      };
    },
  };
}

/** Removes the items with one write per area, so a watcher never sees some gone and others still there. */
export async function removeItems(items: StorageItem<unknown>[]): Promise<void> {
  const names = new Map<Area, string[]>();
  for (const item of items) {
    const { area, name } = place(item.key);
    names.set(area, [...(names.get(area) ?? []), name]);
  }
  await Promise.all([...names].map(([area, inArea]) => browser.storage[area].remove(inArea)));
}
