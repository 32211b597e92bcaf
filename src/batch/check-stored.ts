/** Which variants of a record the store holds, without reading their bytes (`head` only). */
import type { Store } from '../storage/store.js';
import type { OutputFormat } from '../types.js';

export interface StoredState {
  /** Variants absent (a store error counts as absent: the next rebuild tries again). */
  missing: string[];
  /** Variants present but degraded (derived stand-ins). */
  degraded: string[];
}

export async function checkStored(
  store: Store,
  key: string,
  variants: readonly string[],
  format: OutputFormat,
  signal?: AbortSignal,
): Promise<StoredState> {
  const state: StoredState = { missing: [], degraded: [] };
  const infos = await Promise.all(
    variants.map((variant) =>
      store.head({ key, variant, format }, signal ? { signal } : {}).catch(() => {
        if (signal?.aborted) throw signal.reason;
        return undefined;
      }),
    ),
  );
  infos.forEach((info, i) => {
    const variant = variants[i]!;
    if (info === undefined) state.missing.push(variant);
    else if (info.degraded) state.degraded.push(variant);
  });
  return state;
}
