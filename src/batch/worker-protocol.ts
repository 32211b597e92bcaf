/**
 * The messages between a batch job's parent process and its record workers (`process-pool.ts`,
 * `record-worker.ts`), over the `child_process.fork` channel. Plain JSON values only.
 */
import type { RegeneratorOptions } from '../options.js';
import type { RecordResult } from '../regenerator/rebuild-types.js';
import type { CoordinationReply, CoordinationRequest } from './coordination-messages.js';
import type { JobFlags } from './record-runner.js';

/**
 * What a worker needs to build its regenerator: the options, with the FileStore as its root
 * (its coordination is always the parent's, over the channel).
 */
export interface WorkerConfig {
  storeRoot: string;
  regenerator: Omit<RegeneratorOptions, 'store' | 'backup' | 'coordination'>;
  flags: JobFlags;
}

/** A record's result without the record (the parent keeps the record it sent). */
export type WorkerResult = Omit<RecordResult, 'record'>;

export type ToWorker =
  /** Build the regenerator; answered by `ready` (or `fatal`). */
  | { t: 'start'; config: WorkerConfig }
  /** Rebuild one record (`verify`: check its stored entries); answered by `result`, `abandoned` or `failed` with the same id. */
  | { t: 'record'; id: number; record: unknown; verify: boolean }
  /** Abandon every record in flight (each is answered `abandoned`). */
  | { t: 'abort' }
  /** Close the regenerator and exit. */
  | { t: 'close' }
  | CoordinationReply;

export type FromWorker =
  | { t: 'ready' }
  | { t: 'result'; id: number; result: WorkerResult }
  /** The record was abandoned by `abort`: not finished, to be redone by a resumed job. */
  | { t: 'abandoned'; id: number }
  /** `rebuildRecord` rejected for something other than an abort: a bug, surfaced as the job's failure. */
  | { t: 'failed'; id: number; error: string }
  /** The worker could not start (its regenerator's options were refused). */
  | { t: 'fatal'; error: string }
  | CoordinationRequest;
