/**
 * Turns anything a source threw into a `SourceFailure` with a stable code. Unknown errors (a
 * bug, or a library error we did not map) are reported under the stage's code rather than
 * escaping: `get()` must never reject because of an origin.
 *
 * Failures outlive their request (thumbnails in the memory cache, the negative cache, rebuild
 * reports), so the message is kept as a bounded copy that shares nothing with the URL or the
 * headers it quotes.
 */
import { type ErrorCode, ForbiddenAddressError, HttpStatusError, RethumbError, TimeoutError, UnsupportedFormatError } from '../errors.js';
import { boundedString } from '../detach-string.js';
import type { SourceFailure } from '../types.js';

/** Longest message kept in a failure, in characters: a URL (cut to 200) and a sentence or two. */
export const MAX_FAILURE_MESSAGE = 1000;

export function toSourceFailure(source: string, error: unknown, fallbackCode: ErrorCode): SourceFailure {
  if (error instanceof RethumbError) {
    const failure: SourceFailure = { source, code: error.code, message: boundedString(error.message, MAX_FAILURE_MESSAGE) };
    if (error instanceof HttpStatusError) failure.status = error.status;
    if (error instanceof UnsupportedFormatError && error.refusedBy !== undefined) failure.refusedBy = error.refusedBy;
    if (error instanceof ForbiddenAddressError && error.url !== undefined) {
      const host = hostOf(error.url);
      if (host !== undefined) failure.refusedHost = host;
    }
    if (error instanceof TimeoutError) {
      failure.phase = error.phase;
      failure.timeoutMs = error.timeoutMs;
    }
    return failure;
  }
  return { source, code: fallbackCode, message: boundedString(error instanceof Error ? error.message : String(error), MAX_FAILURE_MESSAGE) };
}

/** `host[:port]` of `url` as a new string (kept in failures that outlive the URL), or undefined. */
function hostOf(url: string): string | undefined {
  try {
    return boundedString(new URL(url).host, MAX_FAILURE_MESSAGE) || undefined;
  } catch {
    return undefined;
  }
}
