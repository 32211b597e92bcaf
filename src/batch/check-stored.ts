/**
 * Which variants of a record the store holds: by default without reading their bytes (`head`
 * only); with `verify`, each is read and checked as a `get()` checks it (`inspectStoredImage`),
 * so damaged entries are found too. Uses nothing but the `Store` interface.
 */
import type { DamageKind } from '../integrity/image-damage.js';
import { inspectStoredImage } from '../imaging/inspect-stored.js';
import { DEFAULTS } from '../options.js';
import type { Store } from '../storage/store.js';
import type { OutputFormat } from '../types.js';

export interface StoredState {
  /** Variants absent (a store error counts as absent: the next rebuild tries again). */
  missing: string[];
  /** Variants present but degraded (derived stand-ins). */
  degraded: string[];
  /** Variants present but damaged (found only with `verify`), with the kind of damage. */
  damaged: Array<{ variant: string; damage: DamageKind }>;
  /** Variants read whole that carry no seal (written before seals: checked by structure and header only). Only with `verify`. */
  unsealed: string[];
}

export interface CheckStoredOptions {
  signal?: AbortSignal;
  /** Read and check every entry instead of only asking whether it exists. @default false */
  verify?: boolean;
  /** With `verify`, decode every entry in full too. @default false */
  decode?: boolean;
  /** Largest width × height a stored entry may declare. @default the regenerator's `maxPixels` default */
  maxPixels?: number;
}

export async function checkStored(
  store: Store,
  key: string,
  variants: readonly string[],
  format: OutputFormat,
  options: CheckStoredOptions = {},
): Promise<StoredState> {
  const { signal } = options;
  const state: StoredState = { missing: [], degraded: [], damaged: [], unsealed: [] };
  const look = options.verify || options.decode ? verified : present;
  const found = await Promise.all(
    variants.map((variant) =>
      look(store, { key, variant, format }, options).catch(() => {
        if (signal?.aborted) throw signal.reason;
        return undefined;
      }),
    ),
  );
  found.forEach((entry, i) => {
    const variant = variants[i]!;
    if (entry === undefined) state.missing.push(variant);
    else if (entry.damage !== undefined) state.damaged.push({ variant, damage: entry.damage });
    else {
      if (entry.degraded) state.degraded.push(variant);
      if (entry.sealed === false) state.unsealed.push(variant);
    }
  });
  return state;
}

interface Found {
  degraded: boolean;
  damage?: DamageKind;
  sealed?: boolean;
}

type Address = { key: string; variant: string; format: OutputFormat };

async function present(store: Store, address: Address, options: CheckStoredOptions): Promise<Found | undefined> {
  return store.head(address, options.signal ? { signal: options.signal } : {});
}

async function verified(store: Store, address: Address, options: CheckStoredOptions): Promise<Found | undefined> {
  const stored = await store.get(address, options.signal ? { signal: options.signal } : {});
  if (!stored) return undefined;
  const check = await inspectStoredImage(stored.body, address.format, { maxPixels: options.maxPixels ?? DEFAULTS.maxPixels, decode: options.decode === true });
  return check.ok ? { degraded: stored.degraded, sealed: check.sealed } : { degraded: stored.degraded, damage: check.damage.kind };
}
