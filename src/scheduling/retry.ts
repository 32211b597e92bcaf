/**
 * Retries for what can succeed later, as a wrapper around one attempt (each attempt takes its
 * own download slot; the backoff between attempts holds none). Retried: connection errors,
 * timeouts and the transient statuses (408, 425, 429, 500, 502, 503, 504); never another 4xx.
 * Delays grow exponentially with full jitter, so a wave of failed records does not come back as
 * a wave. A `Retry-After` pauses the whole host in the download scheduler, which the next
 * attempt then waits for.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError, ErrorCodes, HttpStatusError, isRethumbError, TimeoutError } from '../errors.js';
import { TRANSIENT_STATUSES } from '../failure-class.js';

export interface RetryPolicy {
  /** Retries per record, shared by its sources (`url` and mirrors). */
  readonly retries: number;
  /** Backoff ceiling of the first retry, in ms; doubles per retry. */
  readonly baseDelayMs: number;
  /** Largest backoff ceiling, in ms. */
  readonly maxDelayMs: number;
}

/** Retries left for one record. */
export class RetryBudget {
  #left: number;
  constructor(retries: number) {
    this.#left = retries;
  }
  get left(): number {
    return this.#left;
  }
  /** Spend one retry; false when none is left. */
  take(): boolean {
    if (this.#left <= 0) return false;
    this.#left -= 1;
    return true;
  }
}

/** One retry about to wait. */
export interface RetryInfo {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface WithRetriesOptions {
  policy: RetryPolicy;
  budget: RetryBudget;
  signal?: AbortSignal | undefined;
  /** Called before each backoff wait. */
  onRetry?: (info: RetryInfo) => void;
  /** Source of randomness in [0, 1) (injectable for tests). @default Math.random */
  random?: () => number;
}

/** True for failures that may succeed if tried again soon. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof HttpStatusError) return TRANSIENT_STATUSES.has(error.status);
  return error instanceof TimeoutError || error instanceof ConnectionError;
}

/** Full jitter: uniform in [0, min(max, base × 2^(attempt − 1))]. */
export function backoffDelay(attempt: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** Run `attempt` until it succeeds, fails for good, or the budget is spent. Every wait ends on `signal`. */
export async function withRetries<T>(attempt: () => Promise<T>, options: WithRetriesOptions): Promise<T> {
  const { policy, budget, signal, onRetry, random } = options;
  let previous: unknown;
  for (let retry = 1; ; retry += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (signal?.aborted) throw error;
      // The breaker opened during our retries (partly because of them): the failure that opened
      // it says more about the source than "circuit open".
      if (previous !== undefined && isRethumbError(error, ErrorCodes.ORIGIN_UNAVAILABLE)) throw previous;
      if (!isRetryable(error) || !budget.take()) throw error;
      const delayMs = backoffDelay(retry, policy, random);
      onRetry?.({ attempt: retry, delayMs, error });
      await sleep(delayMs, undefined, signal ? { signal } : {});
      previous = error;
    }
  }
}
