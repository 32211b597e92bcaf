/**
 * Whether a source failure may succeed if tried again soon. Shared by the negative cache (how
 * long to remember a failure) and the batch journal (when to re-check a failed record).
 */
import { ErrorCodes, type ErrorCode } from './errors.js';

/**
 * - `permanent`: the same request will fail the same way for a long while (404, 410, not an
 *   image, too large, forbidden address, bad URL …). Re-check on a slow backoff.
 * - `transient`: the origin may recover in seconds (timeouts, connection errors, 408, 425, 429,
 *   5xx gateways, an open circuit). Re-check soon.
 */
export type FailureClass = 'permanent' | 'transient';

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

export function classifyFailure(failure: { code: ErrorCode; status?: number | undefined }): FailureClass {
  if (failure.code === ErrorCodes.HTTP_STATUS) {
    return failure.status !== undefined && TRANSIENT_STATUSES.has(failure.status) ? 'transient' : 'permanent';
  }
  return TRANSIENT_CODES.has(failure.code) ? 'transient' : 'permanent';
}
