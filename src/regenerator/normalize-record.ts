/**
 * Turns whatever a caller or a manifest handed us into a record we can work on, or a reason
 * why we cannot. Records come from users' databases and files: nothing here throws.
 */
import { InvalidRecordError, RethumbError } from '../errors.js';
import type { PlaceholderHints } from '../imaging/placeholder.js';
import { keyForRecord } from '../storage/store-key.js';
import type { ThumbRecord } from '../types.js';

/** Mirrors tried per record; more are ignored so one record cannot hold a slot for minutes. */
export const MAX_MIRRORS = 8;

export interface NormalizedRecord {
  readonly record: ThumbRecord;
  readonly key: string;
  /** `url` then mirrors, in order. */
  readonly sources: readonly string[];
  readonly hints: PlaceholderHints;
}

export type RecordCheck =
  | { ok: true; value: NormalizedRecord }
  | { ok: false; key: string; error: RethumbError; hints: PlaceholderHints };

export function normalizeRecord(input: unknown): RecordCheck {
  if (input === null || typeof input !== 'object') {
    return invalid('', new InvalidRecordError('Expected a record object with a `url`'), {});
  }
  const raw = input as Record<string, unknown>;
  const hints: PlaceholderHints = {
    width: typeof raw.width === 'number' ? raw.width : undefined,
    height: typeof raw.height === 'number' ? raw.height : undefined,
    color: typeof raw.color === 'string' ? raw.color : undefined,
    // Any value, checked where it is drawn: a junk hash is reported there, never fatal here.
    thumbhash: raw.thumbhash as string | undefined,
  };
  const fallbackKey = typeof raw.key === 'string' ? raw.key : '';
  if (typeof raw.url !== 'string' || raw.url.length === 0) {
    return invalid(fallbackKey, new InvalidRecordError('Expected the record\'s `url` to be a non-empty string'), hints);
  }
  if (raw.key !== undefined && typeof raw.key !== 'string') {
    return invalid('', new InvalidRecordError('Expected the record\'s `key` to be a string when set'), hints);
  }
  if (raw.mirrors !== undefined && (!Array.isArray(raw.mirrors) || raw.mirrors.some((m) => typeof m !== 'string'))) {
    return invalid(fallbackKey, new InvalidRecordError('Expected the record\'s `mirrors` to be an array of URL strings'), hints);
  }
  const record = raw as unknown as ThumbRecord;
  let key: string;
  try {
    key = keyForRecord(record);
  } catch (error) {
    return invalid(fallbackKey, error instanceof RethumbError ? error : new InvalidRecordError(String(error)), hints);
  }
  const mirrors = (record.mirrors ?? []).slice(0, MAX_MIRRORS);
  return { ok: true, value: { record, key, sources: [record.url, ...mirrors], hints } };
}

function invalid(key: string, error: RethumbError, hints: PlaceholderHints): RecordCheck {
  return { ok: false, key, error, hints };
}
