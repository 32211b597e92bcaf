/**
 * Events a regenerator emits for observers (metrics, logs). Listeners run synchronously; a
 * listener that throws is reported with `process.emitWarning` and never breaks a request.
 */
import type { ErrorCode } from '../errors.js';
import type { Outcome } from '../types.js';

/** A `get()` answered, or a `rebuild()` finished a record. */
export interface OutcomeEvent {
  key: string;
  /** The variant asked for; undefined for a rebuilt record (every variant). */
  variant: string | undefined;
  outcome: Outcome;
  reason: ErrorCode | undefined;
  degraded: boolean;
  durationMs: number;
  via: 'get' | 'rebuild';
}

/** One source download ended. */
export interface FetchEvent {
  url: string;
  host: string;
  ok: boolean;
  code: ErrorCode | undefined;
  status: number | undefined;
  bytes: number;
  durationMs: number;
}

/** A store read or write failed; the caller was answered anyway. */
export interface StoreErrorEvent {
  key: string;
  variant: string | undefined;
  operation: 'get' | 'head' | 'put';
  error: unknown;
}

export interface RegeneratorEvents {
  outcome: [OutcomeEvent];
  fetch: [FetchEvent];
  storeError: [StoreErrorEvent];
}

export type Emit = <K extends keyof RegeneratorEvents>(name: K, ...args: RegeneratorEvents[K]) => void;
