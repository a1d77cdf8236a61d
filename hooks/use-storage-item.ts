import { useEffect, useState } from 'preact/hooks';
import type { StorageItem } from '@/utils/storage-item';

/**
 * The item's current value, kept in sync with storage; until the first read, `initial` (a value
 * the caller had at hand, which the read then corrects) or undefined.
 */
export function useStorageItem<T>(item: StorageItem<T>, initial?: T): T | undefined {
  const [value, setValue] = useState<T | undefined>(initial);
  useEffect(() => {
    let changed = false;
    const unwatch = item.watch((next) => {
      changed = true;
      setValue(next);
    });
    // A change seen by the watcher is newer than this first read; never let the read overwrite it.
    void item.getValue().then((stored) => {
      if (!changed) setValue(stored);
    });
    return unwatch;
  }, [item]);
  return value;
}
