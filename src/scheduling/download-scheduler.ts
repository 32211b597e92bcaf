/**
 * The download stage: sources downloading at once, within a global cap and a per-host cap,
 * with slow start per host, a circuit breaker per host, and host pauses for `Retry-After`.
 * On-demand work (`get()`) runs ahead of batch work so a running rebuild never starves the
 * request path.
 *
 * A task first takes a slot in its host's queue, then a global slot: a global slot is never held
 * while waiting for a host, so one slow or paused host cannot starve the others.
 *
 * No download starts while the bytes of downloaded-but-unrendered sources fill `byteBudget`
 * (see `byte-budget.ts`). A task waits for room outside every queue, holding no slot (a batch
 * download waiting for bytes must not keep an on-demand one of the same host out of its host
 * slot), and tasks are let back in priority order as renders release bytes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import PQueue from 'p-queue';
import { HttpStatusError, OriginUnavailableError } from '../errors.js';
import { ByteBudget, type ByteHold } from './byte-budget.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { hostSignalOf, type HostSignal } from './host-signal.js';
import type { ScheduleOptions } from './priority.js';
import { RateWindow } from './rate-window.js';
import { parseRetryAfter } from './retry-after.js';
import { SlowStart } from './slow-start.js';
import type { Urgency } from './urgency.js';

export interface DownloadSchedulerOptions {
  /** Sources downloading at once, across all hosts. */
  concurrency: number;
  perHost: {
    /** Downloads from one host at once, once ramped up. */
    concurrency: number;
    /** Downloads from one host at once at start-up and after its circuit closes. */
    initialConcurrency: number;
    /** With `intervalCap`: at most `intervalCap` downloads start per `intervalMs` to one host. */
    intervalMs: number | undefined;
    intervalCap: number | undefined;
  };
  circuitBreaker: { failures: number; coolDownMs: number };
  /** Longest pause a `Retry-After` can impose on a host, in ms. */
  maxRetryAfterMs: number;
  /**
   * Bytes of downloaded-but-unrendered sources (counted through `holdSource()`) past which no
   * download starts. @default Infinity
   */
  byteBudget?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
  /** Told about state changes, for events. */
  observer?: DownloadObserver;
}

export interface DownloadObserver {
  circuit?(event: { host: string; state: CircuitState; retryAt: number | undefined }): void;
  hostLimit?(event: { host: string; limit: number; cap: number }): void;
  hostPause?(event: { host: string; until: number; retryAfterMs: number }): void;
}

export interface DownloadScheduleOptions extends ScheduleOptions {
  /** The URL being downloaded, for `OriginUnavailableError`. */
  url: string;
  /** A priority that may rise while the task waits (a `get()` joining a batch download). */
  urgency?: Urgency;
}

/** What the scheduler knows about one host, for `stats()`. */
export interface HostStats {
  /** Requests to the host right now. */
  downloading: number;
  /** Downloads waiting for a host slot, a pause or a global slot. */
  queued: number;
  /** Current allowed concurrency (slow start), at most `cap`. */
  limit: number;
  cap: number;
  circuit: CircuitState;
  /** Epoch ms until which the host is paused by `Retry-After`; 0 when not paused. */
  pausedUntil: number;
}

interface Host {
  readonly name: string;
  readonly queue: PQueue;
  readonly ramp: SlowStart;
  readonly breaker: CircuitBreaker;
  /** Per-host rate (`perHost.intervalMs` / `intervalCap`), when set. */
  readonly rate: RateWindow | undefined;
  pausedUntil: number;
  downloading: number;
  /** Tasks waiting for room in the byte budget, outside the queues. */
  waitingForBytes: number;
}

/** Hosts remembered before idle ones are forgotten (their ramp starts over when they return). */
const MAX_HOSTS = 1024;
/**
 * Characters of host names remembered before idle hosts are forgotten: a URL may carry a host
 * name of kilobytes (no DNS name is longer than 253), and 1024 of those are megabytes.
 */
const MAX_HOST_NAME_CHARS = 128 * 1024;
const PAUSED = Symbol('paused');
const OVER_BUDGET = Symbol('over budget');

export class DownloadScheduler {
  readonly #options: DownloadSchedulerOptions;
  readonly #now: () => number;
  readonly #global: PQueue;
  readonly #budget: ByteBudget;
  readonly #hosts = new Map<string, Host>();
  /** Characters of the names in `#hosts`. */
  #hostNameChars = 0;
  #ids = 0;

  constructor(options: DownloadSchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#global = new PQueue({ concurrency: options.concurrency });
    this.#budget = new ByteBudget(options.byteBudget ?? Number.POSITIVE_INFINITY);
  }

  /**
   * An account for one source's body, to be fed with its size as it is read and released once
   * it is rendered (or dropped). While the accounts together hold `byteBudget` bytes or more, no
   * download starts.
   */
  holdSource(): ByteHold {
    return this.#budget.open();
  }

  /** Bytes held by sources downloading, waiting for a render or rendering. */
  get sourceBytes(): number {
    return this.#budget.held;
  }

  /**
   * Run a download for `host` within the caps. Rejects at once with `OriginUnavailableError`
   * while the host's circuit is open; `task`'s own errors are reported to the host's slow start
   * and breaker, then rethrown.
   */
  async run<T>(hostName: string, task: () => Promise<T>, options: DownloadScheduleOptions): Promise<T> {
    const host = this.#host(hostName);
    // Fail fast: a record for a dead host must not wait in a queue to be told so.
    if (host.breaker.refusing) throw this.#unavailable(host, options.url);
    const id = String((this.#ids += 1));
    const { urgency, signal } = options;
    const priority = (): number => urgency?.value ?? options.priority;
    const unwatch = urgency?.watch((raised) => this.#raise(host, id, raised));
    try {
      for (;;) {
        if (this.#budget.full) {
          host.waitingForBytes += 1;
          try {
            await this.#budget.whenRoom(priority, signal);
          } finally {
            host.waitingForBytes -= 1;
          }
        }
        const result = (await host.queue.add(() => this.#inHostSlot(host, id, task, options), {
          id,
          priority: priority(),
          ...(signal ? { signal } : {}),
        })) as { value: T } | typeof OVER_BUDGET;
        if (result !== OVER_BUDGET) return result.value;
      }
    } finally {
      unwatch?.();
    }
  }

  /** Global in-flight and queued counts. */
  get counts(): { downloading: number; downloadsQueued: number } {
    let queued = 0;
    for (const host of this.#hosts.values()) queued += host.queue.size + host.queue.pending - host.downloading + host.waitingForBytes;
    return { downloading: this.#global.pending, downloadsQueued: queued };
  }

  /** Per-host state, for metrics. */
  hostStats(): Record<string, HostStats> {
    const stats: Record<string, HostStats> = {};
    for (const host of this.#hosts.values()) {
      stats[host.name] = {
        downloading: host.downloading,
        queued: host.queue.size + host.queue.pending - host.downloading + host.waitingForBytes,
        limit: host.ramp.limit,
        cap: host.ramp.cap,
        circuit: host.breaker.state,
        pausedUntil: host.pausedUntil > this.#now() ? host.pausedUntil : 0,
      };
    }
    return stats;
  }

  clear(): void {
    for (const host of this.#hosts.values()) host.queue.clear();
    this.#global.clear();
  }

  /** The task's result, or OVER_BUDGET when the byte budget filled while it waited for a slot (it gives the slot back). */
  async #inHostSlot<T>(host: Host, id: string, task: () => Promise<T>, options: DownloadScheduleOptions): Promise<{ value: T } | typeof OVER_BUDGET> {
    const { signal, urgency } = options;
    for (;;) {
      await this.#pause(host, signal);
      if (this.#budget.full) return OVER_BUDGET;
      const result = await this.#global.add(
        async (): Promise<{ value: T } | typeof PAUSED | typeof OVER_BUDGET> => {
          // A Retry-After (or the host's rate) may have closed the door while we waited for a global slot.
          if (this.#resumeAt(host) > this.#now()) return PAUSED;
          if (this.#budget.full) return OVER_BUDGET;
          const admission = host.breaker.admit();
          if (!admission.admitted) throw this.#unavailable(host, options.url);
          host.rate?.record(this.#now());
          host.downloading += 1;
          try {
            const value = await task();
            this.#feedback(host, 'ok', admission.probe, undefined);
            return { value };
          } catch (error) {
            this.#feedback(host, signal?.aborted ? 'neutral' : hostSignalOf(error), admission.probe, error);
            throw error;
          } finally {
            host.downloading -= 1;
          }
        },
        { id, priority: urgency?.value ?? options.priority, ...(signal ? { signal } : {}) },
      );
      if (result !== PAUSED) return result;
    }
  }

  /** Wait while the host is paused by `Retry-After` or its rate (holding a host slot, never a global one). */
  async #pause(host: Host, signal: AbortSignal | undefined): Promise<void> {
    for (let wait = this.#resumeAt(host) - this.#now(); wait > 0; wait = this.#resumeAt(host) - this.#now()) {
      await sleep(wait, undefined, signal ? { signal } : {});
    }
  }

  /** When the next request may go to `host`. */
  #resumeAt(host: Host): number {
    const now = this.#now();
    return Math.max(host.pausedUntil, host.rate?.nextAllowed(now) ?? now);
  }

  #feedback(host: Host, signal: HostSignal, probe: boolean, error: unknown): void {
    const { observer } = this.#options;
    if (signal === 'neutral') {
      host.breaker.release(probe);
      return;
    }
    if (signal === 'ok') {
      const closed = host.breaker.success(probe) === 'closed';
      // A host that just came back gets its load back in stages, not all at once.
      const changed = closed ? host.ramp.restart() : host.ramp.success();
      if (closed) observer?.circuit?.({ host: host.name, state: 'closed', retryAt: undefined });
      if (changed) this.#limitChanged(host);
      return;
    }
    if (signal === 'overload' && host.ramp.overload()) this.#limitChanged(host);
    if (error instanceof HttpStatusError) this.#retryAfter(host, error);
    if (host.breaker.failure(probe) === 'open') {
      observer?.circuit?.({ host: host.name, state: 'open', retryAt: host.breaker.retryAt });
      // After a wave of failures the load comes back in stages: the probe goes alone, and the
      // records queued behind it wait for its verdict instead of rushing in together.
      if (host.ramp.restart()) this.#limitChanged(host);
    }
  }

  #retryAfter(host: Host, error: HttpStatusError): void {
    const now = this.#now();
    const wait = parseRetryAfter(error.retryAfter, now);
    if (wait === undefined || wait <= 0) return;
    const until = now + Math.min(wait, this.#options.maxRetryAfterMs);
    if (until <= host.pausedUntil) return;
    host.pausedUntil = until;
    this.#options.observer?.hostPause?.({ host: host.name, until, retryAfterMs: until - now });
  }

  #limitChanged(host: Host): void {
    host.queue.concurrency = host.ramp.limit;
    this.#options.observer?.hostLimit?.({ host: host.name, limit: host.ramp.limit, cap: host.ramp.cap });
  }

  #raise(host: Host, id: string, priority: number): void {
    // Only one of the two queues holds the task at a time; the other throws "not found".
    for (const queue of [host.queue, this.#global]) {
      try {
        queue.setPriority(id, priority);
      } catch {
        // Not waiting in this queue.
      }
    }
  }

  #unavailable(host: Host, url: string): OriginUnavailableError {
    return new OriginUnavailableError(url, host.name, Math.max(host.breaker.retryAt, this.#now()));
  }

  #host(name: string): Host {
    let host = this.#hosts.get(name);
    if (host) return host;
    if (this.#hosts.size >= MAX_HOSTS || this.#hostNameChars + name.length > MAX_HOST_NAME_CHARS) this.#forgetIdleHosts();
    const { perHost, circuitBreaker } = this.#options;
    const ramp = new SlowStart({ cap: perHost.concurrency, initial: perHost.initialConcurrency });
    host = {
      name,
      queue: new PQueue({ concurrency: ramp.limit }),
      ramp,
      breaker: new CircuitBreaker({ ...circuitBreaker, now: this.#now }),
      rate: perHost.intervalMs !== undefined && perHost.intervalCap !== undefined ? new RateWindow(perHost.intervalCap, perHost.intervalMs) : undefined,
      pausedUntil: 0,
      downloading: 0,
      waitingForBytes: 0,
    };
    this.#hosts.set(name, host);
    this.#hostNameChars += name.length;
    return host;
  }

  /** Bound the host table (in entries and in characters): forget hosts with nothing queued, a closed circuit and no pause. */
  #forgetIdleHosts(): void {
    const now = this.#now();
    for (const [name, host] of this.#hosts) {
      if (host.queue.size === 0 && host.queue.pending === 0 && host.waitingForBytes === 0 && host.breaker.state === 'closed' && host.pausedUntil <= now) {
        this.#hosts.delete(name);
        this.#hostNameChars -= name.length;
      }
    }
  }
}
