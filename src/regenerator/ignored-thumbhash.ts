/**
 * A record's ThumbHash that could not be used, as the failure reported beside its placeholder:
 * the placeholder is then the flat one, and the failure says why (never an exception).
 */
import { InvalidThumbHashError } from '../errors.js';
import { readThumbHashHint, type ThumbHashParse } from '../imaging/parse-thumbhash.js';
import type { PlaceholderHints } from '../imaging/placeholder.js';
import type { SourceFailure } from '../types.js';

/** `failures`, plus a `thumbhash` failure when `hash` (the hints' parsed ThumbHash) was invalid. */
export function withIgnoredThumbHash(failures: readonly SourceFailure[], hash: ThumbHashParse | undefined): readonly SourceFailure[] {
  if (hash === undefined || hash.ok) return failures;
  const error = new InvalidThumbHashError(hash.message);
  return [...failures, { source: 'thumbhash', code: error.code, message: error.message }];
}

/** The same, parsing the hints' `thumbhash` (for results that render no placeholder, such as a rebuild's). */
export function withHintsThumbHash(failures: readonly SourceFailure[], hints: PlaceholderHints): readonly SourceFailure[] {
  return withIgnoredThumbHash(failures, readThumbHashHint(hints.thumbhash));
}
