// The extension's storage items over the browser's storage areas (WXT's in-memory fakeBrowser).
import { defineItem, removeItems } from '@/utils/storage-item';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';

const units = defineItem<'metric' | 'imperial'>('local:units', 'metric');
const watchUntil = defineItem<number | null>('session:watchUntil', null);
const vehicles = defineItem<string[]>('local:vehicles', []);

beforeEach(() => {
  fakeBrowser.reset();
});

describe('storage items', () => {
  it('keep their value under the name in their area, and give the fallback while none is stored', async () => {
    expect(await units.getValue()).toBe('metric');
    await units.setValue('imperial');
    await watchUntil.setValue(42);

    expect(await fakeBrowser.storage.local.get()).toEqual({ units: 'imperial' });
    expect(await fakeBrowser.storage.session.get()).toEqual({ watchUntil: 42 });
    await watchUntil.setValue(null);
    expect(await fakeBrowser.storage.session.get()).toEqual({});
    expect(await watchUntil.getValue()).toBeNull();
  });

  it('tell a watcher each new value, the fallback once removed, and not a write of the same value', async () => {
    const seen = vi.fn();
    const unwatch = vehicles.watch(seen);
    await vehicles.setValue(['tesla']);
    await vehicles.setValue(['tesla']);
    await vehicles.removeValue();
    unwatch();
    await vehicles.setValue(['bmw']);

    expect(seen.mock.calls).toEqual([[['tesla']], [[]]]);
  });

  it('remove several in one write, so a watcher never sees half of them gone', async () => {
    await units.setValue('imperial');
    await vehicles.setValue(['tesla']);
    const writes = vi.fn();
    fakeBrowser.storage.local.onChanged.addListener(writes);

    await removeItems([units, vehicles]);

    expect(writes).toHaveBeenCalledOnce();
    expect(await fakeBrowser.storage.local.get()).toEqual({});
  });
});
