/**
 * The host coordination of a job in worker processes, as messages over the `fork` channel:
 * each worker's `HostCoordinator` and `FailureMemory` calls (`ipc-coordination.ts`) answered by
 * the one coordinator and negative cache its parent holds (`coordination-server.ts`). Plain
 * JSON values only, as the `HostCoordinator` interface promises.
 */
import type { HostFeedback, HostState } from '../scheduling/host-coordinator.js';
import type { RecentFailure } from '../scheduling/failure-memory.js';
import type { SourceFailure } from '../types.js';

/** A worker's call. `id`s are the worker's own. */
export type CoordinationRequest =
  | { t: 'acquire'; id: number; host: string; url: string; priority: number }
  /** The worker stopped waiting (its signal aborted): a permit granted meanwhile is released. */
  | { t: 'cancel'; id: number }
  /** Give back the permit granted to acquire `id`. */
  | { t: 'release'; id: number; feedback: HostFeedback }
  | { t: 'recall'; id: number; url: string }
  | { t: 'remember'; url: string; failure: SourceFailure }
  | { t: 'forget'; url: string };

/** Why an acquire was refused, enough to rebuild the error in the worker. */
export type Refusal = { kind: 'unavailable'; retryAt: number } | { kind: 'error'; message: string };

/** The parent's answer, or news about a host. */
export type CoordinationReply =
  | { t: 'granted'; id: number; probe: boolean; state: HostState | undefined }
  | { t: 'refused'; id: number; refusal: Refusal; state: HostState | undefined }
  | { t: 'recalled'; id: number; failure: RecentFailure | undefined; size: number }
  /** A host's limit, circuit or pause changed (sent to every worker: their local queues follow). */
  | {
      t: 'host';
      event:
        | { kind: 'hostLimit'; host: string; limit: number; cap: number }
        | { kind: 'circuit'; host: string; state: HostState['circuit']; retryAt: number | undefined }
        | { kind: 'hostPause'; host: string; until: number; retryAfterMs: number };
      state: HostState | undefined;
    };

const REQUESTS: ReadonlySet<string> = new Set(['acquire', 'cancel', 'release', 'recall', 'remember', 'forget']);
const REPLIES: ReadonlySet<string> = new Set(['granted', 'refused', 'recalled', 'host']);

export function isCoordinationRequest(message: { t: string }): message is CoordinationRequest {
  return REQUESTS.has(message.t);
}

export function isCoordinationReply(message: { t: string }): message is CoordinationReply {
  return REPLIES.has(message.t);
}
