/**
 * Turns whatever a caller or a manifest handed us into a record we can work on, or a reason
 * why we cannot. Records come from users' databases and files: nothing here throws.
 */
import { InvalidRecordError, RethumbError } from '../errors.js';
import type { PlaceholderHints } from '../imaging/placeholder.js';
import { keyForRecord } from '../storage/store-key.js';
import type { ThumbRecord } from '../types.js';

/** Mirrors a record may name: each is tried in turn, and one record must not hold a slot for minutes. */
export const MAX_MIRRORS = 8;

/**
 * Longest `url` (and mirror) of a record, in characters: what common servers accept in a request
 * line (nginx's 8 KB header buffers, Apache's `LimitRequestLine` 8190). A longer one cannot be
 * fetched anyway, and URLs are kept in failures, reports and caches.
 */
export const MAX_URL_LENGTH = 8192;

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
  if (raw.url.length > MAX_URL_LENGTH) {
    return invalid(fallbackKey, new InvalidRecordError(`Expected the record's \`url\` to be at most ${MAX_URL_LENGTH} characters, got ${raw.url.length}`), hints);
  }
  if (raw.key !== undefined && typeof raw.key !== 'string') {
    return invalid('', new InvalidRecordError('Expected the record\'s `key` to be a string when set'), hints);
  }
  if (raw.mirrors !== undefined) {
    const mirrorsProblem = checkMirrors(raw.mirrors);
    if (mirrorsProblem !== undefined) return invalid(fallbackKey, new InvalidRecordError(mirrorsProblem), hints);
  }
  const record = raw as unknown as ThumbRecord;
  let key: string;
  try {
    key = keyForRecord(record);
  } catch (error) {
    return invalid(fallbackKey, error instanceof RethumbError ? error : new InvalidRecordError(String(error)), hints);
  }
  return { ok: true, value: { record, key, sources: [record.url, ...(record.mirrors ?? [])], hints } };
}

/** Why `mirrors` is unusable, or undefined when it is an array of at most MAX_MIRRORS URL strings of at most MAX_URL_LENGTH. */
function checkMirrors(mirrors: unknown): string | undefined {
  if (!Array.isArray(mirrors)) return 'Expected the record\'s `mirrors` to be an array of URL strings';
  // Counted before anything is read: a record with a million mirrors costs nothing to refuse.
  if (mirrors.length > MAX_MIRRORS) return `Expected the record's \`mirrors\` to hold at most ${MAX_MIRRORS} URLs, got ${mirrors.length}`;
  for (const [i, mirror] of mirrors.entries()) {
    if (typeof mirror !== 'string') return 'Expected the record\'s `mirrors` to be an array of URL strings';
    if (mirror.length > MAX_URL_LENGTH) return `Expected the record's \`mirrors[${i}]\` to be at most ${MAX_URL_LENGTH} characters, got ${mirror.length}`;
  }
  return undefined;
}

function invalid(key: string, error: RethumbError, hints: PlaceholderHints): RecordCheck {
  return { ok: false, key, error, hints };
}
