/**
 * Turns anything a source threw into a `SourceFailure` with a stable code. Unknown errors (a
 * bug, or a library error we did not map) are reported under the stage's code rather than
 * escaping: `get()` must never reject because of an origin.
 */
import { type ErrorCode, HttpStatusError, RethumbError, UnsupportedFormatError } from '../errors.js';
import type { SourceFailure } from '../types.js';

export function toSourceFailure(source: string, error: unknown, fallbackCode: ErrorCode): SourceFailure {
  if (error instanceof RethumbError) {
    const failure: SourceFailure = { source, code: error.code, message: error.message };
    if (error instanceof HttpStatusError) failure.status = error.status;
    if (error instanceof UnsupportedFormatError && error.refusedBy !== undefined) failure.refusedBy = error.refusedBy;
    return failure;
  }
  return { source, code: fallbackCode, message: error instanceof Error ? error.message : String(error) };
}
