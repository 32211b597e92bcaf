/**
 * The download stage: sources downloading at once, within a global cap (this process's) and
 * the per-host decision of a `HostCoordinator` (per-host cap with slow start, circuit breaker,
 * `Retry-After` pauses, rate; in this process by default, or shared by a fleet). On-demand work
 * (`get()`) runs ahead of batch work so a running rebuild never starves the request path.
 *
 * A task first takes a slot in its host's local queue (priority order, at most the host's
 * current limit), then its host's permit, then a global slot: a global slot is never held while
 * waiting for a host, so one slow, paused or busy host cannot starve the others.
 */
import PQueue from 'p-queue';
import { HttpStatusError, OriginUnavailableError } from '../errors.js';
import type { CircuitState } from './circuit-breaker.js';
import { hostSignalOf } from './host-signal.js';
import type { HostCoordinator, HostCoordinatorFactory, HostFeedback, HostObserver, HostPermit, HostPolicy } from './host-coordinator.js';
import { LocalHostCoordinator } from './local-host-coordinator.js';
import type { ScheduleOptions } from './priority.js';
import { parseRetryAfter } from './retry-after.js';
import type { Urgency } from './urgency.js';

export interface DownloadSchedulerOptions extends Omit<HostPolicy, 'timeoutMs'> {
  /** Sources downloading at once, across all hosts (this process's cap, never shared). */
  concurrency: number;
  /** The total deadline of one download, in ms (for a shared coordinator's leases). @default 30_000 */
  timeoutMs?: number;
  /** Clock in epoch ms. @default Date.now */
  now?: () => number;
  /** Told about state changes, for events. */
  observer?: DownloadObserver;
  /** Makes the per-host decision-maker. @default an in-process `LocalHostCoordinator` */
  coordinator?: HostCoordinatorFactory;
}

export type DownloadObserver = HostObserver;

export interface DownloadScheduleOptions extends ScheduleOptions {
  /** The URL being downloaded, for `OriginUnavailableError`. */
  url: string;
  /** A priority that may rise while the task waits (a `get()` joining a batch download). */
  urgency?: Urgency;
}

/** What the scheduler knows about one host, for `stats()`. */
export interface HostStats {
  /** Requests to the host right now (from this process). */
  downloading: number;
  /** Downloads waiting for a host slot, a pause or a global slot (in this process). */
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
  /** Local order of this process's downloads for the host; its concurrency follows the host's limit. */
  readonly queue: PQueue;
  downloading: number;
}

/** Hosts remembered before idle ones are forgotten. */
const MAX_HOSTS = 1024;
const PAUSED = Symbol('paused');

export class DownloadScheduler {
  readonly #options: DownloadSchedulerOptions;
  readonly #now: () => number;
  readonly #global: PQueue;
  readonly #coordinator: HostCoordinator;
  readonly #hosts = new Map<string, Host>();
  #ids = 0;

  constructor(options: DownloadSchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#global = new PQueue({ concurrency: options.concurrency });
    const { observer } = options;
    const create = options.coordinator ?? ((settings) => new LocalHostCoordinator(settings));
    this.#coordinator = create({
      perHost: options.perHost,
      circuitBreaker: options.circuitBreaker,
      maxRetryAfterMs: options.maxRetryAfterMs,
      timeoutMs: options.timeoutMs ?? 30_000,
      now: this.#now,
      observer: {
        circuit: (event) => observer?.circuit?.(event),
        hostPause: (event) => observer?.hostPause?.(event),
        hostLimit: (event) => {
          // This process never has more of a host's downloads past its local queue than the limit.
          const host = this.#hosts.get(event.host);
          if (host) host.queue.concurrency = event.limit;
          observer?.hostLimit?.(event);
        },
      },
    });
  }

  /**
   * Run a download for `host` within the caps. Rejects at once with `OriginUnavailableError`
   * while the host's circuit is open; `task`'s own errors are reported to the host's
   * coordinator (slow start, breaker, pause), then rethrown.
   */
  async run<T>(hostName: string, task: () => Promise<T>, options: DownloadScheduleOptions): Promise<T> {
    // Fail fast: a record for a dead host must not wait in a queue to be told so.
    const state = this.#coordinator.state(hostName);
    if (state?.refusing) throw new OriginUnavailableError(options.url, hostName, Math.max(state.retryAt, this.#now()));
    const host = this.#host(hostName);
    const id = String((this.#ids += 1));
    const { urgency, signal } = options;
    const unwatch = urgency?.watch((priority) => this.#raise(host, id, priority));
    try {
      return (await host.queue.add(() => this.#inHostSlot(host, id, task, options), {
        id,
        priority: urgency?.value ?? options.priority,
        ...(signal ? { signal } : {}),
      })) as T;
    } finally {
      unwatch?.();
    }
  }

  /** Global in-flight and queued counts. */
  get counts(): { downloading: number; downloadsQueued: number } {
    let queued = 0;
    for (const host of this.#hosts.values()) queued += host.queue.size + host.queue.pending - host.downloading;
    return { downloading: this.#global.pending, downloadsQueued: queued };
  }

  /** Per-host state, for metrics: this process's queues with the coordinator's view of the host. */
  hostStats(): Record<string, HostStats> {
    const stats: Record<string, HostStats> = {};
    const known = this.#coordinator.hosts();
    const names = new Set([...this.#hosts.keys(), ...Object.keys(known)]);
    const { perHost } = this.#options;
    for (const name of names) {
      const host = this.#hosts.get(name);
      const state = known[name];
      stats[name] = {
        downloading: host?.downloading ?? 0,
        queued: host ? host.queue.size + host.queue.pending - host.downloading : 0,
        limit: state?.limit ?? perHost.initialConcurrency,
        cap: state?.cap ?? perHost.concurrency,
        circuit: state?.circuit ?? 'closed',
        pausedUntil: state?.pausedUntil ?? 0,
      };
    }
    return stats;
  }

  clear(): void {
    for (const host of this.#hosts.values()) host.queue.clear();
    this.#global.clear();
  }

  /** Release the coordinator (a shared one's connection). */
  close(): Promise<void> {
    return this.#coordinator.close();
  }

  async #inHostSlot<T>(host: Host, id: string, task: () => Promise<T>, options: DownloadScheduleOptions): Promise<T> {
    const { signal, urgency, url } = options;
    for (;;) {
      // The host's permit before a global slot, never the other way round: waiting for a host
      // (its limit, a pause, its rate — fleet-wide with a shared coordinator) must not hold a
      // global slot, or one busy host would starve every other host of this process. The price:
      // a permit may wait here for a global slot, counted against its host meanwhile (only
      // when more downloads are ready than `concurrency`).
      const permit = await this.#coordinator.acquire(host.name, { url, priority: urgency?.value ?? options.priority, ...(signal ? { signal } : {}) });
      let result: { value: T } | typeof PAUSED;
      try {
        result = await this.#global.add(
          async (): Promise<{ value: T } | typeof PAUSED> => {
            // A Retry-After or an open circuit may have closed the door while we waited for a global slot.
            if (this.#closedSince(permit)) {
              permit.release({ signal: 'neutral' });
              return PAUSED;
            }
            host.downloading += 1;
            try {
              const value = await task();
              permit.release({ signal: 'ok' });
              return { value };
            } catch (error) {
              permit.release(this.#feedbackOf(error, signal));
              throw error;
            } finally {
              host.downloading -= 1;
            }
          },
          { id, priority: urgency?.value ?? options.priority, ...(signal ? { signal } : {}) },
        );
      } catch (error) {
        // Aborted while waiting for a global slot: the permit goes back unused (no-op if released).
        permit.release({ signal: 'neutral' });
        throw error;
      }
      if (result !== PAUSED) return result.value;
    }
  }

  /** True when, as far as the coordinator knows, the host stopped taking requests since the permit was granted. */
  #closedSince(permit: HostPermit): boolean {
    const state = this.#coordinator.state(permit.host);
    if (!state) return false;
    return state.pausedUntil > this.#now() || (!permit.probe && state.refusing);
  }

  #feedbackOf(error: unknown, signal: AbortSignal | undefined): HostFeedback {
    if (signal?.aborted) return { signal: 'neutral' };
    const feedback: HostFeedback = { signal: hostSignalOf(error) };
    if (error instanceof HttpStatusError) {
      const wait = parseRetryAfter(error.retryAfter, this.#now());
      if (wait !== undefined && wait > 0) feedback.retryAfterMs = wait;
    }
    return feedback;
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

  #host(name: string): Host {
    let host = this.#hosts.get(name);
    if (host) return host;
    if (this.#hosts.size >= MAX_HOSTS) this.#forgetIdleHosts();
    const limit = this.#coordinator.state(name)?.limit ?? this.#options.perHost.initialConcurrency;
    host = { name, queue: new PQueue({ concurrency: limit }), downloading: 0 };
    this.#hosts.set(name, host);
    return host;
  }

  /** Bound the host table: forget hosts with nothing queued or running here (the coordinator keeps their state). */
  #forgetIdleHosts(): void {
    for (const [name, host] of this.#hosts) {
      if (host.queue.size === 0 && host.queue.pending === 0) this.#hosts.delete(name);
    }
  }
}
