/**
 * The per-host decision of the download stage, behind one interface so that it can be shared
 * by every process that downloads for the same job: what a download asks before it may start
 * to a host (`acquire`) and what it reports after (`release`). The host's limit with its slow
 * start, its `Retry-After` pause, its rate and its circuit breaker live behind it.
 *
 * Implementations: `LocalHostCoordinator` (one process, the default), a Redis one for BullMQ
 * workers (`rethumb/bullmq`), an IPC one for `rethumb rebuild --processes N`. Local ordering
 * (priorities, `get()` ahead of batch work, the global `concurrency` cap) stays in each
 * process's `DownloadScheduler`; only the per-host decision is shared.
 *
 * Everything that crosses this interface is plain data (strings, numbers, booleans), so a
 * transport can carry it between processes; `acquire` rejects with `OriginUnavailableError`,
 * which a transport rebuilds from its `host` and `retryAt`.
 */
import type { CircuitState } from './circuit-breaker.js';
import type { HostSignal } from './host-signal.js';

/** The politeness settings of one regenerator, as a coordinator applies them to every host. */
export interface HostPolicy {
  perHost: {
    /** Downloads from one host at once, once ramped up (shared by everyone using the coordinator). */
    readonly concurrency: number;
    /** Downloads from one host at once at start-up and after its circuit closes (slow start). */
    readonly initialConcurrency: number;
    /** With `intervalCap`: at most `intervalCap` downloads start per `intervalMs` to one host. */
    readonly intervalMs: number | undefined;
    readonly intervalCap: number | undefined;
  };
  circuitBreaker: { readonly failures: number; readonly coolDownMs: number };
  /** Longest pause a `Retry-After` can impose on a host, in ms. */
  maxRetryAfterMs: number;
  /**
   * The total deadline of one download (`timeoutMs`), in ms. A coordinator shared across
   * processes gives each permit a lease of about this length, renewed while held, so the
   * permit of a process that died (SIGKILL) frees itself.
   */
  timeoutMs: number;
}

/** Told about changes of a host's state, for events (`circuit`, `hostLimit`, `hostPause`). */
export interface HostObserver {
  circuit?(event: { host: string; state: CircuitState; retryAt: number | undefined }): void;
  hostLimit?(event: { host: string; limit: number; cap: number }): void;
  hostPause?(event: { host: string; until: number; retryAfterMs: number }): void;
}

export interface HostCoordinatorSettings extends HostPolicy {
  /** Clock in epoch ms (in-process coordinators; shared ones use their store's clock). @default Date.now */
  now?: () => number;
  /**
   * Told about changes this coordinator made or saw. A shared coordinator reports the changes
   * its own process caused; `hostLimit` also drives the caller's local host queue.
   */
  observer?: HostObserver;
}

export interface AcquireOptions {
  /** The URL about to be downloaded (named by `OriginUnavailableError`). */
  url: string;
  /** Among this coordinator's waiters for one host, greater goes first. @default 0 */
  priority?: number;
  /** Stop waiting: `acquire` rejects with the signal's reason and holds nothing. */
  signal?: AbortSignal;
}

/** What a download's result said about its host. */
export interface HostFeedback {
  /** `ok`, `overload` (429, 503, timeout), `failure` (other transient failure) or `neutral` (says nothing: aborted, refused before any request). */
  signal: HostSignal;
  /** How long the host asked to be left alone (a parsed `Retry-After`), in ms; capped by `maxRetryAfterMs`. */
  retryAfterMs?: number | undefined;
}

/** Permission for one request to one host. */
export interface HostPermit {
  readonly host: string;
  /** True for the one request a half-open circuit lets through: its verdict closes or reopens the circuit for everyone. */
  readonly probe: boolean;
  /**
   * Report the request's result and give the permit back. Call exactly once (later calls are
   * ignored). Never throws: a shared coordinator that cannot reach its store lets the lease expire.
   */
  release(feedback: HostFeedback): void;
}

/** What a coordinator knows about one host (for a shared one: as of its latest exchange with the store). */
export interface HostState {
  /** Downloads allowed at once now (slow start), from 1 to `cap`. */
  limit: number;
  cap: number;
  circuit: CircuitState;
  /** When the circuit lets its next probe through (epoch ms); 0 when closed. */
  retryAt: number;
  /** True when `acquire` would reject at once (circuit open, or half-open with its probe out). */
  refusing: boolean;
  /** Epoch ms until which the host is paused by `Retry-After`; 0 when not paused. */
  pausedUntil: number;
  /** Permits out for this host (for a shared coordinator: across every process, as last seen). */
  inFlight: number;
}

export interface HostCoordinator {
  /**
   * Wait for permission to send one request to `host`: while the host is at its limit, paused
   * by `Retry-After` or out of its rate window. Rejects at once with `OriginUnavailableError`
   * while the host's circuit is open (the one probe of a half-open circuit excepted), and with
   * the signal's reason when `signal` aborts; a rejected call holds nothing.
   */
  acquire(host: string, options: AcquireOptions): Promise<HostPermit>;
  /** What this coordinator knows about `host` right now, without waiting; undefined for a host it has not seen. */
  state(host: string): HostState | undefined;
  /** Every host it knows, for `regen.stats().hosts`. */
  hosts(): Record<string, HostState>;
  /** Stop: waiting `acquire` calls reject; permits out may still be released. Idempotent. */
  close(): Promise<void>;
}

/** Makes a coordinator with one regenerator's settings. */
export type HostCoordinatorFactory = (settings: HostCoordinatorSettings) => HostCoordinator;
