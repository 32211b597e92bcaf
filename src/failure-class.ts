/**
 * Whether a source failure may succeed if tried again soon, and whether it is the source's
 * failure at all. Shared by the negative cache (what to remember, and for how long) and the
 * batch failure ledger (when to re-check a failed record).
 */
import { ErrorCodes, type ErrorCode } from './errors.js';

/**
 * - `permanent`: the same request will fail the same way for a long while (404, 410, not an
 *   image, too large, bad URL …). Re-check on a slow backoff.
 * - `transient`: the origin may recover in seconds (timeouts, connection errors, 408, 425, 429,
 *   5xx gateways, an open circuit). Re-check soon.
 * - `local`: rethumb's own configuration refused the source before it could fail or succeed —
 *   the address policy (`allowHosts`, `allowPrivateNetworks`) or a format that is off (SVG
 *   without `allowSvg`). Not the source's failure: never remembered, so the next run with other
 *   settings (or another worker with other settings) tries it at once.
 *
 * Limits are not `local`: a body over `maxBytes` or a header over `maxPixels` stays `permanent`,
 * because finding out costs the whole download again (a decompression bomb must not be
 * refetched on every request); a run with a raised limit passes `retryFailed`.
 */
export type FailureClass = 'permanent' | 'transient' | 'local';

/** What classification needs of a failure (a `SourceFailure` has it all). */
export interface ClassifiableFailure {
  code: ErrorCode;
  status?: number | undefined;
  /** The option that would have accepted the source (`allowSvg`): set for refusals by configuration. */
  refusedBy?: string | undefined;
}

/** HTTP statuses that can succeed later; every other status is permanent. */
export const TRANSIENT_STATUSES: ReadonlySet<number> = new Set([408, 425, 429, 500, 502, 503, 504]);

const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.TIMEOUT,
  ErrorCodes.CONNECTION,
  ErrorCodes.ORIGIN_UNAVAILABLE,
  ErrorCodes.DEADLINE,
  ErrorCodes.ABORTED,
  ErrorCodes.STORE,
  ErrorCodes.CLOSED,
]);

/** Codes that only rethumb's configuration raises (the address policy, whatever the source). */
const LOCAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([ErrorCodes.FORBIDDEN_ADDRESS]);

export function classifyFailure(failure: ClassifiableFailure): FailureClass {
  if (LOCAL_CODES.has(failure.code) || failure.refusedBy !== undefined) return 'local';
  if (failure.code === ErrorCodes.HTTP_STATUS) {
    return failure.status !== undefined && TRANSIENT_STATUSES.has(failure.status) ? 'transient' : 'permanent';
  }
  return TRANSIENT_CODES.has(failure.code) ? 'transient' : 'permanent';
}
