/**
 * Events a regenerator emits for observers (metrics, logs). Listeners run synchronously; a
 * listener that throws is reported with `process.emitWarning` and never breaks a request.
 */
import type { ErrorCode } from '../errors.js';
import type { DamageKind } from '../integrity/image-damage.js';
import type { CircuitState } from '../scheduling/circuit-breaker.js';
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

/**
 * A store read or write failed, or an entry read was damaged; the caller was answered anyway.
 * A damaged entry has `error.code === 'RETHUMB_STORE_CORRUPT'` and `damage` set.
 */
export interface StoreErrorEvent {
  key: string;
  variant: string | undefined;
  /** `delete`: removing a damaged entry that nothing could replace failed. */
  operation: 'get' | 'head' | 'put' | 'delete';
  error: unknown;
  /** The kind of damage of a damaged entry (`truncated`, `checksum` …), else undefined. */
  damage?: DamageKind;
  /** Set when the entry was read from a backup store: its index in `backup`. */
  backup?: number;
}

/** A source download failed transiently and will be tried again after `delayMs`. */
export interface RetryEvent {
  url: string;
  host: string;
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  code: ErrorCode | undefined;
  status: number | undefined;
}

/** A host's circuit breaker changed state. */
export interface CircuitEvent {
  host: string;
  /** `open`: its records fall back at once; `closed`: a probe succeeded (slow start begins again). */
  state: CircuitState;
  /** When the next probe may go (epoch ms), for `open`. */
  retryAt: number | undefined;
}

/** A host's allowed concurrency changed (slow start, or halved on 429, 503 or a timeout). */
export interface HostLimitEvent {
  host: string;
  limit: number;
  cap: number;
}

/** A host was paused by `Retry-After`: no request goes to it until `until` (epoch ms). */
export interface HostPauseEvent {
  host: string;
  until: number;
  retryAfterMs: number;
}

export interface RegeneratorEvents {
  outcome: [OutcomeEvent];
  fetch: [FetchEvent];
  storeError: [StoreErrorEvent];
  retry: [RetryEvent];
  circuit: [CircuitEvent];
  hostLimit: [HostLimitEvent];
  hostPause: [HostPauseEvent];
}

export type Emit = <K extends keyof RegeneratorEvents>(name: K, ...args: RegeneratorEvents[K]) => void;
