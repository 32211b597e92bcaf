/**
 * What a download's result says about its host, for slow start and the circuit breaker:
 * - `ok`: the host answered (an image, or a 404 — a host answering 404s is healthy);
 * - `overload`: 429, 503 or a timeout — back off (halve the host's limit) and count a failure;
 * - `failure`: another transient failure (connection error, 408, 425, 500, 502, 504);
 * - `neutral`: says nothing about the host (refused before any request, or aborted by the caller).
 */
import { ConnectionError, ErrorCodes, HttpStatusError, RethumbError, TimeoutError } from '../errors.js';
import { TRANSIENT_STATUSES } from '../failure-class.js';

export type HostSignal = 'ok' | 'overload' | 'failure' | 'neutral';

/** Refused before a request reached the host. */
const NO_REQUEST: ReadonlySet<string> = new Set([
  ErrorCodes.FORBIDDEN_ADDRESS,
  ErrorCodes.INVALID_URL,
  ErrorCodes.UNSUPPORTED_PROTOCOL,
  ErrorCodes.ORIGIN_UNAVAILABLE,
  ErrorCodes.ABORTED,
  ErrorCodes.CLOSED,
  ErrorCodes.DEADLINE,
]);

export function hostSignalOf(error: unknown): HostSignal {
  if (error instanceof HttpStatusError) {
    if (error.status === 429 || error.status === 503) return 'overload';
    return TRANSIENT_STATUSES.has(error.status) ? 'failure' : 'ok';
  }
  if (error instanceof TimeoutError) return 'overload';
  if (error instanceof ConnectionError) return 'failure';
  if (error instanceof RethumbError) return NO_REQUEST.has(error.code) ? 'neutral' : 'ok';
  return 'neutral';
}
