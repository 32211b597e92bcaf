/**
 * The parent's side of a job's host coordination in worker processes: ONE in-process host
 * coordinator and ONE negative cache for the whole job, answering every worker's calls
 * (`coordination-messages.ts`). So `--processes 8` is exactly as polite as one process: one
 * per-host cap and slow-start ramp, one `Retry-After` pause, one circuit with one probe, and a
 * dead URL fetched once per TTL by the job, not once per worker.
 *
 * A worker that dies holds nothing: its waits are cancelled and its permits given back
 * (`neutral`: its death says nothing about the host), so a SIGKILLed worker cannot shrink a
 * host's cap for the rest of the job.
 */
import { OriginUnavailableError } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { NegativeCache } from '../regenerator/negative-cache.js';
import type { HostCoordinator, HostPermit } from '../scheduling/host-coordinator.js';
import { LocalHostCoordinator } from '../scheduling/local-host-coordinator.js';
import type { CoordinationReply, CoordinationRequest, Refusal } from './coordination-messages.js';

/** One worker's connection. */
export interface CoordinationSession {
  /** Answer one of the worker's calls. */
  handle(request: CoordinationRequest): void;
  /** The worker is gone: cancel its waits, give back its permits. Idempotent. */
  disconnect(): void;
}

type Send = (reply: CoordinationReply) => void;

export class CoordinationServer {
  readonly #hosts: HostCoordinator;
  readonly #failures: NegativeCache;
  readonly #sessions = new Set<Send>();

  /** With the job's politeness settings (every worker has the same). */
  constructor(options: Pick<ResolvedOptions, 'perHost' | 'circuitBreaker' | 'retry' | 'timeoutMs' | 'negativeCache'>) {
    const broadcast = (reply: CoordinationReply): void => {
      for (const send of this.#sessions) send(reply);
    };
    const state = (host: string) => this.#hosts.state(host);
    this.#hosts = new LocalHostCoordinator({
      perHost: options.perHost,
      circuitBreaker: options.circuitBreaker,
      maxRetryAfterMs: options.retry.maxRetryAfterMs,
      timeoutMs: options.timeoutMs,
      // Every worker's local host queue follows the limit, and its fail-fast check the circuit.
      observer: {
        hostLimit: (e) => broadcast({ t: 'host', event: { kind: 'hostLimit', ...e }, state: state(e.host) }),
        circuit: (e) => broadcast({ t: 'host', event: { kind: 'circuit', ...e }, state: state(e.host) }),
        hostPause: (e) => broadcast({ t: 'host', event: { kind: 'hostPause', ...e }, state: state(e.host) }),
      },
    });
    this.#failures = new NegativeCache(options.negativeCache);
  }

  /** Connect a worker, whose replies go to `send`. */
  connect(send: Send): CoordinationSession {
    this.#sessions.add(send);
    const waits = new Map<number, AbortController>();
    const permits = new Map<number, HostPermit>();
    let connected = true;
    const hosts = this.#hosts;
    const failures = this.#failures;
    return {
      handle: (request) => {
        if (!connected) return;
        switch (request.t) {
          case 'acquire': {
            const { id, host, url, priority } = request;
            const wait = new AbortController();
            waits.set(id, wait);
            hosts.acquire(host, { url, priority, signal: wait.signal }).then(
              (permit) => {
                waits.delete(id);
                // Cancelled or disconnected meanwhile: nobody will use it.
                if (!connected || wait.signal.aborted) return permit.release({ signal: 'neutral' });
                permits.set(id, permit);
                send({ t: 'granted', id, probe: permit.probe, state: hosts.state(host) });
              },
              (error: unknown) => {
                waits.delete(id);
                if (connected && !wait.signal.aborted) send({ t: 'refused', id, refusal: refusalOf(error), state: hosts.state(host) });
              },
            );
            return;
          }
          case 'cancel':
            waits.get(request.id)?.abort();
            return;
          case 'release': {
            const permit = permits.get(request.id);
            permits.delete(request.id);
            permit?.release(request.feedback);
            return;
          }
          case 'recall':
            send({ t: 'recalled', id: request.id, failure: failures.recall(request.url), size: failures.size });
            return;
          case 'remember':
            failures.remember(request.url, request.failure);
            return;
          case 'forget':
            failures.forget(request.url);
            return;
        }
      },
      disconnect: () => {
        if (!connected) return;
        connected = false;
        this.#sessions.delete(send);
        for (const wait of waits.values()) wait.abort();
        waits.clear();
        for (const permit of permits.values()) permit.release({ signal: 'neutral' });
        permits.clear();
      },
    };
  }

  /** What the job's coordinator knows about each host (for tests and metrics). */
  hostStates(): ReturnType<HostCoordinator['hosts']> {
    return this.#hosts.hosts();
  }

  close(): Promise<void> {
    return this.#hosts.close();
  }
}

function refusalOf(error: unknown): Refusal {
  if (error instanceof OriginUnavailableError) return { kind: 'unavailable', retryAt: error.retryAt };
  return { kind: 'error', message: error instanceof Error ? error.message : String(error) };
}
