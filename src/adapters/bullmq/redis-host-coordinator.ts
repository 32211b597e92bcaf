/**
 * A `HostCoordinator` shared by every worker of a fleet, over Redis: each host's limit with its
 * slow start, its `Retry-After` pause, its rate and its circuit live in Redis and change only in
 * atomic Lua scripts (`host-scripts.ts`), so four workers with `perHost.concurrency: 6` send one
 * host at most six requests at once, one ramp, one pause and one probe between them.
 *
 * A permit is a lease in the host's sorted set, renewed while its download runs and expiring
 * `leaseMs` after its holder stops renewing (a SIGKILLed worker): capacity never leaks.
 * A waiter sleeps until the script's hint (the pause's or rate window's end), a release
 * anywhere in the fleet (pub/sub), or a short poll, whichever comes first.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { RedisClient } from 'bullmq';
import { ClosedError, OriginUnavailableError } from '../../errors.js';
import type { CircuitState } from '../../scheduling/circuit-breaker.js';
import type { AcquireOptions, HostCoordinator, HostCoordinatorSettings, HostFeedback, HostPermit, HostState } from '../../scheduling/host-coordinator.js';
import { ACQUIRE, RELEASE, RENEW } from './host-scripts.js';
import type { ReleaseNotices } from './release-notices.js';
import { runScript, type Script } from './redis-scripts.js';

const ACQUIRE_SCRIPT: Script = { name: 'rethumbHostAcquire', keys: 3, lua: ACQUIRE };
const RELEASE_SCRIPT: Script = { name: 'rethumbHostRelease', keys: 3, lua: RELEASE };
const RENEW_SCRIPT: Script = { name: 'rethumbHostRenew', keys: 1, lua: RENEW };

/** Longest sleep between two tries while a host is full: a lease that expired (a dead worker) is noticed this soon. */
const FULL_POLL_MS = 250;
/** Without pub/sub, a waiter for a full host polls this often. */
const FULL_POLL_NO_NOTICES_MS = 25;
/** While another worker's probe is out, this process refuses without asking for this long. */
const HALF_OPEN_RECHECK_MS = 200;
/** Hosts remembered for `state()` before idle ones are forgotten here (Redis forgets on its own). */
const MAX_HOSTS = 1024;
/** An idle host's keys live this long after its last request (its ramp then starts over). */
const IDLE_MS = 10 * 60_000;

export interface RedisHostCoordinatorOptions {
  /** The fleet's Redis client (BullMQ's interface). */
  client: () => Promise<RedisClient>;
  /** Key prefix, e.g. `rethumb`. */
  prefix: string;
  /** Lease of one permit, in ms; renewed every third of it while held. */
  leaseMs: number;
  notices: ReleaseNotices;
  /** True once `notices` subscribed (waiters may sleep longer). */
  noticesReady: () => boolean;
}

type AcquireReply = [verdict: string, waitMs: number, limit: number, inFlight: number, circuit: CircuitState, retryInMs: number, pausedForMs: number, probe: number];
type ReleaseReply = [limit: number, limitChanged: number, inFlight: number, circuitChange: string, circuit: CircuitState, retryInMs: number, pausedForMs: number, pauseChanged: number];

interface Host {
  readonly name: string;
  readonly keys: [state: string, leases: string, starts: string];
  state: HostState;
  /** Until when (local epoch ms) this process fails fast without asking Redis. */
  refusingUntil: number;
  /** Leases this process holds for the host. */
  readonly held: Set<string>;
}

export class RedisHostCoordinator implements HostCoordinator {
  readonly #settings: HostCoordinatorSettings;
  readonly #options: RedisHostCoordinatorOptions;
  readonly #hosts = new Map<string, Host>();
  readonly #token = randomUUID();
  readonly #closing = new AbortController();
  #leases = 0;
  #renewal: NodeJS.Timeout | undefined;

  constructor(settings: HostCoordinatorSettings, options: RedisHostCoordinatorOptions) {
    this.#settings = settings;
    this.#options = options;
    // Every waiting acquire listens for close: as many as downloads queued, not a leak.
    setMaxListeners(0, this.#closing.signal);
  }

  async acquire(name: string, options: AcquireOptions): Promise<HostPermit> {
    const host = this.#host(name);
    const { url, signal } = options;
    if (this.#closing.signal.aborted) throw new ClosedError();
    const { perHost } = this.#settings;
    const client = await this.#client(url, name);
    for (let attempt = 0; ; attempt += 1) {
      signal?.throwIfAborted();
      if (this.#closing.signal.aborted) throw new ClosedError();
      const leaseId = `${this.#token}:${(this.#leases += 1)}`;
      let reply: AcquireReply;
      try {
        reply = await runScript<AcquireReply>(client, ACQUIRE_SCRIPT, host.keys, [
          leaseId,
          this.#options.leaseMs,
          perHost.concurrency,
          perHost.initialConcurrency,
          perHost.intervalMs ?? 0,
          perHost.intervalCap ?? 0,
          this.#idleMs(),
        ]);
      } catch (error) {
        // Redis is unreachable: send nothing rather than guess (a fleet must not stampede while
        // blind). Reported like an open circuit: not the source's failure, never remembered.
        throw unreachable(url, name, error);
      }
      const [verdict, waitMs, limit, inFlight, circuit, retryInMs, pausedForMs, probe] = reply;
      this.#saw(host, { limit: Number(limit), inFlight: Number(inFlight), circuit, retryInMs: Number(retryInMs), pausedForMs: Number(pausedForMs) });
      if (verdict === 'granted') return this.#permit(host, leaseId, Number(probe) === 1);
      if (verdict === 'refused') {
        // Half-open with another worker's probe out: fail fast for a moment, then ask again
        // (the probe's verdict is Redis's to tell; this process would not hear of it otherwise).
        if (circuit === 'half-open') host.refusingUntil = Date.now() + HALF_OPEN_RECHECK_MS;
        throw new OriginUnavailableError(url, name, Date.now() + Number(retryInMs));
      }
      // Paused or out of rate: the script says until when. Full: until a release (pub/sub), or a poll.
      const poll = this.#options.noticesReady() ? FULL_POLL_MS : FULL_POLL_NO_NOTICES_MS;
      const wait = verdict === 'full' ? Math.min(Number(waitMs), poll) : Number(waitMs);
      const linked = signal ? AbortSignal.any([signal, this.#closing.signal]) : this.#closing.signal;
      try {
        await this.#options.notices.wait(host.keys[0], wait, linked);
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw error instanceof ClosedError ? error : new ClosedError();
      }
    }
  }

  state(name: string): HostState | undefined {
    const host = this.#hosts.get(name);
    return host && this.#current(host);
  }

  hosts(): Record<string, HostState> {
    const states: Record<string, HostState> = {};
    for (const host of this.#hosts.values()) states[host.name] = this.#current(host);
    return states;
  }

  async close(): Promise<void> {
    if (this.#closing.signal.aborted) return;
    this.#closing.abort(new ClosedError());
    clearInterval(this.#renewal);
    this.#renewal = undefined;
  }

  #permit(host: Host, leaseId: string, probe: boolean): HostPermit {
    host.held.add(leaseId);
    this.#renewLeases();
    let released = false;
    return {
      host: host.name,
      probe,
      release: (feedback: HostFeedback) => {
        if (released) return;
        released = true;
        host.held.delete(leaseId);
        void this.#release(host, leaseId, feedback);
      },
    };
  }

  async #release(host: Host, leaseId: string, feedback: HostFeedback): Promise<void> {
    const { perHost, circuitBreaker, maxRetryAfterMs, observer } = this.#settings;
    let reply: ReleaseReply;
    try {
      const client = await this.#options.client();
      reply = await runScript<ReleaseReply>(client, RELEASE_SCRIPT, host.keys, [
        leaseId,
        feedback.signal,
        Math.max(0, Math.ceil(feedback.retryAfterMs ?? 0)),
        perHost.concurrency,
        perHost.initialConcurrency,
        circuitBreaker.failures,
        circuitBreaker.coolDownMs,
        maxRetryAfterMs,
        this.#idleMs(),
        this.#options.notices.channel,
      ]);
    } catch {
      // Unreachable: the lease expires on its own; the feedback is lost (one sample of many).
      return;
    }
    const [limit, limitChanged, inFlight, circuitChange, circuit, retryInMs, pausedForMs, pauseChanged] = reply;
    this.#saw(host, { limit: Number(limit), inFlight: Number(inFlight), circuit, retryInMs: Number(retryInMs), pausedForMs: Number(pausedForMs) });
    // Events for what this process's feedback changed (others' changes are theirs to report).
    const cap = perHost.concurrency;
    if (circuitChange === 'open' || circuitChange === 'closed') {
      observer?.circuit?.({ host: host.name, state: circuitChange, retryAt: circuitChange === 'open' ? host.state.retryAt : undefined });
    }
    if (Number(pauseChanged) === 1) observer?.hostPause?.({ host: host.name, until: host.state.pausedUntil, retryAfterMs: Number(pausedForMs) });
    if (Number(limitChanged) === 1) observer?.hostLimit?.({ host: host.name, limit: Number(limit), cap });
    // Waiters of this process need no message to learn of a release made here.
    this.#options.notices.notify(host.keys[0]);
  }

  /** Keep held leases alive while their downloads run; a dead process's leases expire. */
  #renewLeases(): void {
    if (this.#renewal) return;
    const every = Math.max(100, Math.floor(this.#options.leaseMs / 3));
    this.#renewal = setInterval(() => {
      const holding = [...this.#hosts.values()].filter((host) => host.held.size > 0);
      if (holding.length === 0) {
        clearInterval(this.#renewal);
        this.#renewal = undefined;
        return;
      }
      void (async () => {
        try {
          const client = await this.#options.client();
          await Promise.all(holding.map((host) => runScript(client, RENEW_SCRIPT, [host.keys[1]], [this.#options.leaseMs, this.#idleMs(), ...host.held])));
        } catch {
          // Unreachable: leases may expire, and other workers may then exceed the cap until
          // Redis is back — the cost of not blocking every download on a Redis outage.
        }
      })();
    }, every);
    this.#renewal.unref();
  }

  async #client(url: string, host: string): Promise<RedisClient> {
    try {
      return await this.#options.client();
    } catch (error) {
      throw unreachable(url, host, error);
    }
  }

  #saw(host: Host, seen: { limit: number; inFlight: number; circuit: CircuitState; retryInMs: number; pausedForMs: number }): void {
    const now = Date.now();
    const open = seen.circuit !== 'closed';
    host.refusingUntil = seen.circuit === 'open' ? now + seen.retryInMs : 0;
    host.state = {
      limit: seen.limit,
      cap: this.#settings.perHost.concurrency,
      circuit: seen.circuit,
      retryAt: open ? now + seen.retryInMs : 0,
      refusing: false,
      pausedUntil: seen.pausedForMs > 0 ? now + seen.pausedForMs : 0,
      inFlight: seen.inFlight,
    };
  }

  /** The last seen state, with the clock moved on (an open circuit turns half-open, a pause ends). */
  #current(host: Host): HostState {
    const now = Date.now();
    const state = { ...host.state, refusing: now < host.refusingUntil };
    if (state.circuit === 'open' && now >= state.retryAt) state.circuit = 'half-open';
    if (state.pausedUntil <= now) state.pausedUntil = 0;
    return state;
  }

  #idleMs(): number {
    const { circuitBreaker, maxRetryAfterMs, perHost } = this.#settings;
    return IDLE_MS + circuitBreaker.coolDownMs + maxRetryAfterMs + (perHost.intervalMs ?? 0) + this.#options.leaseMs;
  }

  #host(name: string): Host {
    let host = this.#hosts.get(name);
    if (host) return host;
    if (this.#hosts.size >= MAX_HOSTS) {
      for (const [key, known] of this.#hosts) if (known.held.size === 0) this.#hosts.delete(key);
    }
    // One hash tag per host: its three keys share a Redis Cluster slot, as a script needs.
    const base = `${this.#options.prefix}:host:{${name}}`;
    const { perHost } = this.#settings;
    host = {
      name,
      keys: [`${base}:state`, `${base}:leases`, `${base}:starts`],
      state: { limit: perHost.initialConcurrency, cap: perHost.concurrency, circuit: 'closed', retryAt: 0, refusing: false, pausedUntil: 0, inFlight: 0 },
      refusingUntil: 0,
      held: new Set(),
    };
    this.#hosts.set(name, host);
    return host;
  }
}

/** Redis could not be asked: no request goes out (reported under the open-circuit code, never remembered as the source's failure). */
function unreachable(url: string, host: string, cause: unknown): OriginUnavailableError {
  const error = new OriginUnavailableError(url, host, Date.now() + 1_000);
  error.message = `${host}: the fleet's host coordination (Redis) could not be reached, so no request was sent: ${cause instanceof Error ? cause.message : String(cause)}`;
  (error as { cause?: unknown }).cause = cause;
  return error;
}
