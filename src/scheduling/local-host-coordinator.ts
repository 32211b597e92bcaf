/**
 * The host coordinator of one process (the default): per host, a slow-start limit
 * (`SlowStart`), a circuit breaker (`CircuitBreaker`), an optional rate (`RateWindow`) and a
 * `Retry-After` pause, all in memory. Several schedulers may share one (that is how
 * `rethumb rebuild --processes N` shares its parent's): its waiters are ordered by priority,
 * then by arrival.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { OriginUnavailableError } from '../errors.js';
import { CircuitBreaker } from './circuit-breaker.js';
import type { AcquireOptions, HostCoordinator, HostCoordinatorSettings, HostFeedback, HostPermit, HostState } from './host-coordinator.js';
import { RateWindow } from './rate-window.js';
import { SlowStart } from './slow-start.js';

interface Waiter {
  readonly priority: number;
  readonly seq: number;
  readonly wake: () => void;
}

interface Host {
  readonly name: string;
  readonly ramp: SlowStart;
  readonly breaker: CircuitBreaker;
  /** Per-host rate (`perHost.intervalMs` / `intervalCap`), when set. */
  readonly rate: RateWindow | undefined;
  pausedUntil: number;
  /** Slots taken: permits out, plus callers past the queue waiting for a pause or the rate. */
  slots: number;
  /** Permits out. */
  inFlight: number;
  /** Callers waiting for a slot, greatest priority first, then by arrival. */
  readonly waiters: Waiter[];
}

/** Hosts remembered before idle ones are forgotten (their ramp starts over when they return). */
const MAX_HOSTS = 1024;

export class LocalHostCoordinator implements HostCoordinator {
  readonly #settings: HostCoordinatorSettings;
  readonly #now: () => number;
  readonly #hosts = new Map<string, Host>();
  #seq = 0;

  constructor(settings: HostCoordinatorSettings) {
    this.#settings = settings;
    this.#now = settings.now ?? Date.now;
  }

  async acquire(name: string, options: AcquireOptions): Promise<HostPermit> {
    const host = this.#host(name);
    const { signal, url } = options;
    // Fail fast: a record for a dead host must not wait in a queue to be told so.
    if (host.breaker.refusing) throw this.#unavailable(host, url);
    signal?.throwIfAborted();
    await this.#slot(host, options.priority ?? 0, signal);
    try {
      // Paused by Retry-After or out of its rate: wait holding the host's slot (so the order of
      // waiters holds), but nothing of the caller's global cap.
      for (let wait = this.#resumeAt(host) - this.#now(); wait > 0; wait = this.#resumeAt(host) - this.#now()) {
        await sleep(wait, undefined, signal ? { signal } : {});
      }
      const admission = host.breaker.admit();
      if (!admission.admitted) throw this.#unavailable(host, url);
      host.rate?.record(this.#now());
      host.inFlight += 1;
      return this.#permit(host, admission.probe);
    } catch (error) {
      this.#freeSlot(host);
      throw error;
    }
  }

  state(name: string): HostState | undefined {
    const host = this.#hosts.get(name);
    return host && this.#stateOf(host);
  }

  hosts(): Record<string, HostState> {
    const states: Record<string, HostState> = {};
    for (const host of this.#hosts.values()) states[host.name] = this.#stateOf(host);
    return states;
  }

  async close(): Promise<void> {
    // Nothing to release: waiters end on their own signals (the regenerator aborts them on close).
  }

  #stateOf(host: Host): HostState {
    const now = this.#now();
    return {
      limit: host.ramp.limit,
      cap: host.ramp.cap,
      circuit: host.breaker.state,
      retryAt: host.breaker.retryAt,
      refusing: host.breaker.refusing,
      pausedUntil: host.pausedUntil > now ? host.pausedUntil : 0,
      inFlight: host.inFlight,
    };
  }

  #permit(host: Host, probe: boolean): HostPermit {
    let released = false;
    return {
      host: host.name,
      probe,
      release: (feedback: HostFeedback) => {
        if (released) return;
        released = true;
        host.inFlight -= 1;
        this.#feedback(host, feedback, probe);
        this.#freeSlot(host);
      },
    };
  }

  /** Take one of the host's slots (at most its current limit), waiting in priority order. */
  #slot(host: Host, priority: number, signal: AbortSignal | undefined): Promise<void> {
    if (host.slots < host.ramp.limit && host.waiters.length === 0) {
      host.slots += 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const at = host.waiters.indexOf(waiter);
        if (at >= 0) host.waiters.splice(at, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        priority,
        seq: (this.#seq += 1),
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      // Greater priority first; equal priorities in arrival order.
      let at = host.waiters.findIndex((w) => w.priority < priority);
      if (at < 0) at = host.waiters.length;
      host.waiters.splice(at, 0, waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #freeSlot(host: Host): void {
    host.slots -= 1;
    this.#pump(host);
  }

  /** Hand free slots to waiters (after a release, or when the limit rose). */
  #pump(host: Host): void {
    while (host.slots < host.ramp.limit && host.waiters.length > 0) {
      host.slots += 1;
      host.waiters.shift()?.wake();
    }
  }

  /** When the next request may go to `host`. */
  #resumeAt(host: Host): number {
    const now = this.#now();
    return Math.max(host.pausedUntil, host.rate?.nextAllowed(now) ?? now);
  }

  #feedback(host: Host, feedback: HostFeedback, probe: boolean): void {
    const { observer } = this.#settings;
    const { signal } = feedback;
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
    if (feedback.retryAfterMs !== undefined) this.#retryAfter(host, feedback.retryAfterMs);
    if (host.breaker.failure(probe) === 'open') {
      observer?.circuit?.({ host: host.name, state: 'open', retryAt: host.breaker.retryAt });
      // After a wave of failures the load comes back in stages: the probe goes alone, and the
      // records queued behind it wait for its verdict instead of rushing in together.
      if (host.ramp.restart()) this.#limitChanged(host);
    }
  }

  #retryAfter(host: Host, wait: number): void {
    if (!(wait > 0)) return;
    const now = this.#now();
    const until = now + Math.min(wait, this.#settings.maxRetryAfterMs);
    if (until <= host.pausedUntil) return;
    host.pausedUntil = until;
    this.#settings.observer?.hostPause?.({ host: host.name, until, retryAfterMs: until - now });
  }

  #limitChanged(host: Host): void {
    this.#settings.observer?.hostLimit?.({ host: host.name, limit: host.ramp.limit, cap: host.ramp.cap });
    this.#pump(host);
  }

  #unavailable(host: Host, url: string): OriginUnavailableError {
    return new OriginUnavailableError(url, host.name, Math.max(host.breaker.retryAt, this.#now()));
  }

  #host(name: string): Host {
    let host = this.#hosts.get(name);
    if (host) return host;
    if (this.#hosts.size >= MAX_HOSTS) this.#forgetIdleHosts();
    const { perHost, circuitBreaker } = this.#settings;
    host = {
      name,
      ramp: new SlowStart({ cap: perHost.concurrency, initial: perHost.initialConcurrency }),
      breaker: new CircuitBreaker({ ...circuitBreaker, now: this.#now }),
      rate: perHost.intervalMs !== undefined && perHost.intervalCap !== undefined ? new RateWindow(perHost.intervalCap, perHost.intervalMs) : undefined,
      pausedUntil: 0,
      slots: 0,
      inFlight: 0,
      waiters: [],
    };
    this.#hosts.set(name, host);
    return host;
  }

  /** Bound the host table: forget hosts with nothing out or waiting, a closed circuit and no pause. */
  #forgetIdleHosts(): void {
    const now = this.#now();
    for (const [name, host] of this.#hosts) {
      if (host.slots === 0 && host.waiters.length === 0 && host.breaker.state === 'closed' && host.pausedUntil <= now) this.#hosts.delete(name);
    }
  }
}
