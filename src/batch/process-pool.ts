/**
 * Worker processes for one batch job (`rethumb rebuild --processes N`): one JavaScript thread
 * per process caps how many records a process finishes a second (fetching, sniffing, storing
 * run there), so a machine with many cores runs several. This process keeps the job — the
 * manifest, the journal, the tally, the display — and hands records to the workers
 * (`record-worker.ts`), each a regenerator of its own, over the `fork` channel.
 *
 * - Back-pressure: each worker holds at most `window` records (its download slots plus twice
 *   its render slots, as `rebuild()` keeps in one process); the manifest is read only as fast
 *   as the workers free room, so memory stays flat.
 * - A worker that dies (SIGKILL, the OOM killer, a crash) loses nothing: the records it held are
 *   handed to another worker first, and a new worker takes its place. Its late answers are
 *   ignored, so no record is counted twice.
 * - Politeness is the job's, not each worker's: this process holds the job's one host
 *   coordinator and negative cache (`CoordinationServer`), and every worker's regenerator asks
 *   it over the channel (`ipc-coordination.ts`) — one per-host cap, one slow-start ramp, one
 *   `Retry-After` pause, one circuit, one memory of failed URLs. `concurrency` (downloads at
 *   once across hosts) is the job's total too, split among the workers (at least one each).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { resolveOptions, type RegeneratorOptions } from '../options.js';
import { FileStore } from '../storage/file-store.js';
import type { ThumbRecord } from '../types.js';
import type { JobFlags, RecordRunOptions, RecordRunner } from './record-runner.js';
import { isCoordinationRequest } from './coordination-messages.js';
import { CoordinationServer, type CoordinationSession } from './coordination-server.js';
import type { FromWorker, ToWorker, WorkerConfig } from './worker-protocol.js';

export interface ProcessPoolOptions {
  /** Worker processes, at least 1. */
  processes: number;
  /** The regenerator of every worker. Its store must be a `FileStore` (workers open its root). */
  regenerator: RegeneratorOptions;
  flags: JobFlags;
  /** Node options of each worker, e.g. V8 flags. @default process.execArgv — this process's */
  execArgv?: readonly string[];
  /**
   * Unexpected worker exits tolerated over the job; one more fails it (its journal stays
   * resumable). @default 2 × processes + 2 — a few kills or OOMs are survived; a worker that
   * dies on every start is not retried forever.
   */
  maxRestarts?: number;
  /** How long a closing worker may take to exit before it is killed, ms. @default 10_000 */
  closeTimeoutMs?: number;
  /** The worker module. @default `record-worker.js` beside this file */
  workerModule?: string;
}

interface Pending {
  readonly id: number;
  readonly record: ThumbRecord;
}

interface Worker {
  readonly slot: number;
  readonly child: ChildProcess;
  /** Records it may hold at once. */
  readonly window: number;
  readonly inFlight: Map<number, Pending>;
  /** Its connection to the job's host coordination. */
  readonly coordination: CoordinationSession;
  /** False once it exited and its channel closed. */
  live: boolean;
  /** Asked to exit: its exit is expected. */
  closing: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly closed: Promise<void>;
}

const DEFAULT_WORKER = fileURLToPath(new URL('./record-worker.js', import.meta.url));

/** `total` split into `parts` as evenly as possible; part `index`, at least 1. */
export function shareOf(total: number, parts: number, index: number): number {
  return Math.max(1, Math.floor(total / parts) + (index < total % parts ? 1 : 0));
}

export class ProcessPool implements RecordRunner {
  readonly variants: readonly string[];
  readonly #options: ProcessPoolOptions;
  readonly #configs: WorkerConfig[];
  readonly #windows: number[];
  readonly #maxRestarts: number;
  readonly #workers: Worker[] = [];
  readonly #coordination: CoordinationServer;
  /** Records of dead workers, handed out before the next manifest record. */
  readonly #retry: Pending[] = [];
  #onRecord: RecordRunOptions['onRecord'] = () => {};
  #ids = 0;
  #restarts = 0;
  #aborted = false;
  #closing = false;
  #failure: unknown;
  #wake: () => void = () => {};

  constructor(options: ProcessPoolOptions) {
    const { processes, regenerator } = options;
    if (!Number.isInteger(processes) || processes < 1) throw new TypeError(`Expected \`processes\` to be an integer ≥ 1, got ${String(processes)}`);
    if (!(regenerator.store instanceof FileStore)) throw new TypeError('Expected a FileStore for a job in worker processes (each worker opens its root)');
    if (regenerator.backup !== undefined && regenerator.backup.length > 0) throw new TypeError('Expected no `backup` stores for a job in worker processes');
    // Refuse bad options here, once, rather than in every worker.
    const resolved = resolveOptions(regenerator);
    this.#options = options;
    this.variants = [...resolved.variants.keys()];
    this.#maxRestarts = options.maxRestarts ?? processes * 2 + 2;
    this.#coordination = new CoordinationServer(resolved);
    const { store: _store, backup: _backup, coordination: _coordination, ...rest } = regenerator;
    this.#configs = [];
    this.#windows = [];
    for (let slot = 0; slot < processes; slot += 1) {
      const concurrency = shareOf(resolved.concurrency, processes, slot);
      this.#configs.push({ storeRoot: regenerator.store.root, regenerator: { ...rest, concurrency }, flags: options.flags });
      this.#windows.push(concurrency + resolved.renderConcurrency * 2);
    }
  }

  async rebuild(records: AsyncIterable<ThumbRecord>, { onRecord, verify, signal }: RecordRunOptions): Promise<void> {
    this.#onRecord = onRecord;
    for (let slot = 0; slot < this.#options.processes; slot += 1) this.#spawn(slot);
    const onAbort = (): void => {
      this.#aborted = true;
      for (const worker of this.#workers) if (worker.live) send(worker, { t: 'abort' });
      this.#wake();
    };
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const input = records[Symbol.asyncIterator]();
    let exhausted = false;
    try {
      for (;;) {
        if (this.#failure !== undefined) throw this.#failure;
        if (this.#aborted) {
          // Abandoned records are answered `abandoned` (or die with their worker).
          while (this.#inFlight() > 0 && this.#failure === undefined) await this.#changed();
          return;
        }
        if (exhausted && this.#retry.length === 0) {
          if (this.#inFlight() === 0) return;
          await this.#changed();
          continue;
        }
        const worker = this.#roomiest();
        if (!worker) {
          await this.#changed();
          continue;
        }
        let next = this.#retry.shift();
        if (!next) {
          const item = await input.next();
          if (item.done) {
            exhausted = true;
            continue;
          }
          next = { id: (this.#ids += 1), record: item.value };
        }
        // It may have died while the manifest was read.
        if (!worker.live || worker.closing || this.#aborted) this.#retry.unshift(next);
        else {
          worker.inFlight.set(next.id, next);
          send(worker, { t: 'record', id: next.id, record: next.record, verify: verify?.(next.record) ?? false });
        }
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      if (!exhausted) await input.return?.();
    }
  }

  /** Ask every worker to exit (records in flight are abandoned), and wait for them. */
  async close(): Promise<void> {
    this.#closing = true;
    const timeout = this.#options.closeTimeoutMs ?? 10_000;
    await Promise.all(
      this.#workers.map(async (worker) => {
        if (!worker.live) return;
        worker.closing = true;
        send(worker, { t: 'close' });
        const timer = setTimeout(() => worker.child.kill('SIGKILL'), timeout);
        try {
          await worker.closed;
        } finally {
          clearTimeout(timer);
        }
      }),
    );
    await this.#coordination.close();
  }

  /** What the job's host coordinator knows about each host. */
  hostStates(): ReturnType<CoordinationServer['hostStates']> {
    return this.#coordination.hostStates();
  }

  /** Records handed to live workers and not answered yet. */
  #inFlight(): number {
    let n = 0;
    for (const worker of this.#workers) n += worker.inFlight.size;
    return n;
  }

  /** The live worker with the most free room, if any has room. */
  #roomiest(): Worker | undefined {
    let best: Worker | undefined;
    let room = 0;
    for (const worker of this.#workers) {
      if (!worker.live || worker.closing) continue;
      const free = worker.window - worker.inFlight.size;
      if (free > room) {
        best = worker;
        room = free;
      }
    }
    return best;
  }

  /** Resolves at the next answer, death or failure. */
  #changed(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = () => {
        this.#wake = () => {};
        resolve();
      };
    });
  }

  #spawn(slot: number): void {
    const child = fork(this.#options.workerModule ?? DEFAULT_WORKER, [], {
      execArgv: [...(this.#options.execArgv ?? process.execArgv)],
      // Workers print nothing of their own; a crash's message still reaches stderr.
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let closed!: () => void;
    const worker: Worker = {
      slot,
      child,
      window: this.#windows[slot]!,
      inFlight: new Map(),
      coordination: this.#coordination.connect((reply) => send(worker, reply)),
      live: true,
      closing: false,
      exit: undefined,
      closed: new Promise((resolve) => (closed = resolve)),
    };
    this.#workers[slot] = worker;
    child.on('message', (message: FromWorker) => this.#answer(worker, message));
    child.on('error', (error) => this.#fail(error));
    child.on('exit', (code, signal) => (worker.exit = { code, signal }));
    // 'close' comes after the exit and after every message the worker wrote has been read.
    child.on('close', () => {
      this.#died(worker);
      closed();
    });
    send(worker, { t: 'start', config: this.#configs[slot]! });
  }

  #answer(worker: Worker, message: FromWorker): void {
    if (isCoordinationRequest(message)) return worker.coordination.handle(message);
    switch (message.t) {
      case 'ready':
        return;
      case 'result': {
        const pending = worker.inFlight.get(message.id);
        // An answer from a worker whose records were already handed to another: ignored.
        if (!pending) return;
        worker.inFlight.delete(message.id);
        try {
          this.#onRecord({ ...message.result, record: pending.record });
        } catch (error) {
          this.#fail(error);
        }
        break;
      }
      case 'abandoned':
        worker.inFlight.delete(message.id);
        break;
      case 'failed':
        this.#fail(new Error(`A record worker failed: ${message.error}`));
        break;
      case 'fatal':
        this.#fail(new Error(`A record worker could not start: ${message.error}`));
        break;
    }
    this.#wake();
  }

  #died(worker: Worker): void {
    worker.live = false;
    // Whatever it held of a host's cap is given back.
    worker.coordination.disconnect();
    const lost = [...worker.inFlight.values()];
    worker.inFlight.clear();
    if (worker.closing || this.#closing) {
      this.#wake();
      return;
    }
    if (this.#aborted) {
      // Abandoned anyway: a resumed job redoes them.
      this.#wake();
      return;
    }
    // First in line again, in their original order.
    this.#retry.unshift(...lost);
    this.#restarts += 1;
    if (this.#restarts > this.#maxRestarts) {
      const how = worker.exit?.signal ? `was killed by ${worker.exit.signal}` : `exited with code ${String(worker.exit?.code)}`;
      this.#fail(new WorkersFailedError(`A record worker ${how}, and workers have now stopped unexpectedly ${this.#restarts} times; giving up (the journal keeps the records finished so far)`));
      return;
    }
    this.#spawn(worker.slot);
    this.#wake();
  }

  #fail(error: unknown): void {
    this.#failure ??= error;
    this.#wake();
  }
}

/**
 * The job gave up because its workers kept dying (the OOM killer, a user's `kill -9`): the
 * machine's failure, not a bug, and not the records' — the journal keeps what was finished.
 */
export class WorkersFailedError extends Error {
  override name = 'WorkersFailedError';
}

function send(worker: Worker, message: ToWorker): void {
  // A worker that dies while a message is on its way fails the write (EPIPE); its death is
  // handled on 'close', so the error is not the job's.
  if (worker.child.connected) worker.child.send(message, ignore);
}

function ignore(): void {}
