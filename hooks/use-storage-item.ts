import { useEffect, useState } from 'preact/hooks';
import type { StorageItem } from '@/utils/storage-item';

/** The item's current value, kept in sync with storage; undefined only until the first read. */
export function useStorageItem<T>(item: StorageItem<T>): T | undefined {
  const [value, setValue] = useState<T>();
  useEffect(() => {
    let changed = false;
    const unwatch = item.watch((next) => {
      changed = true;
      setValue(next);
    });
    // A change seen by the watcher is newer than this first read; never let the read overwrite it.
    void item.getValue().then((initial) => {
      if (!changed) setValue(initial);
    });
    return unwatch;
  }, [item]);
  return value;
}
