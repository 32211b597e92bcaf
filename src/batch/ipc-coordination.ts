/**
 * A worker process's side of its job's host coordination: a `Coordination` (scope `'ipc'`)
 * whose host coordinator and failure memory forward every call to the parent process over the
 * `fork` channel, where one coordinator and one negative cache serve every worker
 * (`coordination-server.ts`).
 *
 * `state()` must answer at once, so the worker keeps the last state the parent sent for each
 * host (with every answer, and whenever a host's limit, circuit or pause changes). A state that
 * says "open until t" stops refusing once t has passed: the parent then decides who probes.
 * If the channel closes, waiting calls end (acquires reject, recalls answer undefined).
 */
import { ClosedError, OriginUnavailableError } from '../errors.js';
import type { Coordination } from '../scheduling/coordination.js';
import type { FailureMemory, RecentFailure } from '../scheduling/failure-memory.js';
import type { AcquireOptions, HostCoordinator, HostCoordinatorSettings, HostFeedback, HostObserver, HostPermit, HostState } from '../scheduling/host-coordinator.js';
import type { SourceFailure } from '../types.js';
import type { CoordinationReply, CoordinationRequest } from './coordination-messages.js';

/** Hosts whose last known state a worker keeps (the oldest is forgotten first). */
const MAX_HOSTS = 1024;

interface Waiting {
  readonly host: string;
  readonly url: string;
  grant(probe: boolean): void;
  refuse(error: Error): void;
}

export class IpcCoordinationClient {
  readonly #send: (request: CoordinationRequest) => void;
  readonly #now: () => number;
  readonly #acquires = new Map<number, Waiting>();
  readonly #recalls = new Map<number, (failure: RecentFailure | undefined) => void>();
  readonly #states = new Map<string, HostState>();
  readonly #observers = new Set<HostObserver>();
  #ids = 0;
  #size = 0;
  #closed = false;

  /** The `Coordination` to give `createRegenerator()` in the worker. */
  readonly coordination: Coordination;

  constructor(send: (request: CoordinationRequest) => void, now: () => number = Date.now) {
    this.#send = send;
    this.#now = now;
    this.coordination = Object.freeze<Coordination>({
      scope: 'ipc',
      hosts: (settings) => this.#hostCoordinator(settings),
      failures: () => this.#failureMemory(),
    });
  }

  /** Route one of the parent's replies. */
  handle(reply: CoordinationReply): void {
    switch (reply.t) {
      case 'granted': {
        const waiting = this.#acquires.get(reply.id);
        this.#acquires.delete(reply.id);
        // Granted after this worker stopped waiting: give it straight back.
        if (!waiting) return this.#send({ t: 'release', id: reply.id, feedback: { signal: 'neutral' } });
        this.#remember(waiting.host, reply.state);
        waiting.grant(reply.probe);
        return;
      }
      case 'refused': {
        const waiting = this.#acquires.get(reply.id);
        this.#acquires.delete(reply.id);
        if (!waiting) return;
        this.#remember(waiting.host, reply.state);
        const { refusal } = reply;
        waiting.refuse(refusal.kind === 'unavailable' ? new OriginUnavailableError(waiting.url, waiting.host, refusal.retryAt) : new Error(refusal.message));
        return;
      }
      case 'recalled': {
        this.#size = reply.size;
        const resolve = this.#recalls.get(reply.id);
        this.#recalls.delete(reply.id);
        resolve?.(reply.failure);
        return;
      }
      case 'host': {
        const { event } = reply;
        this.#remember(event.host, reply.state);
        for (const observer of this.#observers) {
          if (event.kind === 'hostLimit') observer.hostLimit?.({ host: event.host, limit: event.limit, cap: event.cap });
          else if (event.kind === 'circuit') observer.circuit?.({ host: event.host, state: event.state, retryAt: event.retryAt });
          else observer.hostPause?.({ host: event.host, until: event.until, retryAfterMs: event.retryAfterMs });
        }
        return;
      }
    }
  }

  /** The channel is gone: waiting acquires reject, waiting recalls answer undefined. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiting of this.#acquires.values()) waiting.refuse(new ClosedError());
    this.#acquires.clear();
    for (const resolve of this.#recalls.values()) resolve(undefined);
    this.#recalls.clear();
  }

  #remember(host: string, state: HostState | undefined): void {
    if (!state) return;
    this.#states.delete(host);
    this.#states.set(host, state);
    if (this.#states.size > MAX_HOSTS) this.#states.delete(this.#states.keys().next().value!);
  }

  #state(host: string): HostState | undefined {
    const known = this.#states.get(host);
    if (!known) return undefined;
    const now = this.#now();
    return { ...known, refusing: known.refusing && known.retryAt > now, pausedUntil: known.pausedUntil > now ? known.pausedUntil : 0 };
  }

  #acquire(host: string, options: AcquireOptions): Promise<HostPermit> {
    const { url, signal } = options;
    if (this.#closed) return Promise.reject(new ClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = (this.#ids += 1);
    return new Promise<HostPermit>((resolve, reject) => {
      const onAbort = (): void => {
        this.#acquires.delete(id);
        this.#send({ t: 'cancel', id });
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#acquires.set(id, {
        host,
        url,
        grant: (probe) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#permit(id, host, probe));
        },
        refuse: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      this.#send({ t: 'acquire', id, host, url, priority: options.priority ?? 0 });
    });
  }

  #permit(id: number, host: string, probe: boolean): HostPermit {
    let released = false;
    return {
      host,
      probe,
      release: (feedback: HostFeedback) => {
        if (released) return;
        released = true;
        this.#send({ t: 'release', id, feedback: feedback.retryAfterMs === undefined ? { signal: feedback.signal } : feedback });
      },
    };
  }

  #hostCoordinator(settings: HostCoordinatorSettings): HostCoordinator {
    if (settings.observer) this.#observers.add(settings.observer);
    const hosts = (): Record<string, HostState> => {
      const states: Record<string, HostState> = {};
      for (const host of this.#states.keys()) states[host] = this.#state(host)!;
      return states;
    };
    return {
      acquire: (host, options) => this.#acquire(host, options),
      state: (host) => this.#state(host),
      hosts,
      close: async () => {
        if (settings.observer) this.#observers.delete(settings.observer);
      },
    };
  }

  #failureMemory(): FailureMemory {
    const client = this;
    return {
      recall: (url: string) => {
        if (client.#closed) return undefined;
        const id = (client.#ids += 1);
        return new Promise<RecentFailure | undefined>((resolve) => {
          client.#recalls.set(id, resolve);
          client.#send({ t: 'recall', id, url });
        });
      },
      remember: (url: string, failure: SourceFailure) => {
        if (!client.#closed) client.#send({ t: 'remember', url, failure: { ...failure } });
      },
      forget: (url: string) => {
        if (!client.#closed) client.#send({ t: 'forget', url });
      },
      get size() {
        return client.#size;
      },
    };
  }
}
