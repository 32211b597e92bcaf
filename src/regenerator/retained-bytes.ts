/**
 * Estimates of the memory that kept objects hold, for the caches and reports that are bounded
 * in bytes. Strings count two bytes a character (what V8 needs at worst) and every object a
 * fixed overhead: an estimate that errs high, never one that lets a long URL through uncounted.
 */
import type { SourceFailure } from '../types.js';

/** Counted per object or array on top of its contents: header, hidden class and slots. */
export const OBJECT_OVERHEAD_BYTES = 64;

/** Bytes held by a list of failures (their URLs and messages). */
export function failuresBytes(failures: readonly SourceFailure[] | undefined): number {
  let bytes = 0;
  for (const failure of failures ?? []) bytes += OBJECT_OVERHEAD_BYTES + 2 * (failure.source.length + failure.message.length);
  return bytes;
}

/**
 * Bytes held by a plain value (a record as a user gave it: strings, numbers, arrays, objects),
 * counted until `limit` is passed: a record with a million mirrors is not walked to its end.
 * Shared or cyclic parts are counted each time they are met, up to `limit`.
 */
export function valueBytes(value: unknown, limit: number): number {
  let bytes = 0;
  const objects: object[] = [];
  const count = (item: unknown): void => {
    if (typeof item === 'string') bytes += 16 + 2 * item.length;
    else if (item === null || typeof item !== 'object') bytes += 8;
    else if (ArrayBuffer.isView(item)) bytes += OBJECT_OVERHEAD_BYTES + item.byteLength;
    else objects.push(item);
  };
  count(value);
  while (objects.length > 0 && bytes <= limit) {
    const item = objects.pop()!;
    bytes += OBJECT_OVERHEAD_BYTES;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length && bytes <= limit; i += 1) count(item[i]);
    } else {
      for (const key in item) {
        if (bytes > limit) break;
        if (!Object.hasOwn(item, key)) continue;
        bytes += 2 * key.length;
        count((item as Record<string, unknown>)[key]);
      }
    }
  }
  return bytes;
}
