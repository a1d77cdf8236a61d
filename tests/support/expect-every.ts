// `expect(items.every(check)).toBe(true)` passes for an empty list; this one fails, and names the
// items that do not pass.
import { expect } from 'vitest';

export function expectEvery<T>(items: readonly T[] | undefined, check: (item: T) => boolean): void {
  expect(items?.length ?? 0, 'an empty list proves nothing').toBeGreaterThan(0);
  expect(items?.filter((item) => !check(item))).toEqual([]);
}
