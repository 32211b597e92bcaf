/**
 * Failures remembered across runs, by store key: each failed record's failure class, code and
 * time (never a `local` one: a refusal by rethumb's own configuration is not the source's). The next run re-checks a permanent failure (404, not an image, too large …) only on a
 * backoff — 1 h after the first failure, then 4 h, 16 h, 64 h, then every 7 days — instead of
 * hammering it every run; a transient failure (timeout, 503 …) is re-checked every run. A record
 * that succeeds is forgotten. Only failures are kept, so memory is bounded by the failures, not
 * by the manifest.
 *
 * On disk: an append-only JSON Lines file (`{"k":key,…}` to remember, `{"k":key,"ok":1}` to
 * forget), compacted on `save()`.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ErrorCode } from '../errors.js';
import { classifyFailure, type FailureClass } from '../failure-class.js';
import { AppendLog } from './append-log.js';
import { readLines } from './read-lines.js';

/** One remembered failure. */
export interface RememberedFailure {
  /** Store key. */
  k: string;
  /** Failure class. */
  c: FailureClass;
  /** The reason code. */
  code: ErrorCode;
  /** HTTP status, when there was one. */
  s?: number;
  /** Last failure, epoch ms. */
  at: number;
  /** Consecutive failures. */
  n: number;
}

const HOUR = 3_600_000;
/** Longest wait between re-checks of a permanent failure. */
export const MAX_BACKOFF_MS = 7 * 24 * HOUR;

/** How long after its `n`-th consecutive permanent failure a record is re-checked. */
export function permanentBackoffMs(n: number): number {
  return Math.min(MAX_BACKOFF_MS, HOUR * 4 ** Math.max(0, n - 1));
}

/** When `failure` may be tried again (epoch ms); transient failures at once. */
export function nextCheckAt(failure: RememberedFailure): number {
  return failure.c === 'permanent' ? failure.at + permanentBackoffMs(failure.n) : failure.at;
}

export interface FailureLedgerOptions {
  /** The clock, epoch ms. @default Date.now */
  now?: () => number;
}

export class FailureLedger {
  readonly path: string;
  readonly #failures: Map<string, RememberedFailure>;
  readonly #now: () => number;
  #log: AppendLog | undefined;

  private constructor(path: string, failures: Map<string, RememberedFailure>, now: () => number) {
    this.path = path;
    this.#failures = failures;
    this.#now = now;
  }

  /** Load the ledger at `path` (an absent file is an empty ledger) and open it for appending. */
  static async open(path: string, options: FailureLedgerOptions = {}): Promise<FailureLedger> {
    const failures = new Map<string, RememberedFailure>();
    try {
      for await (const { text } of readLines(createReadStream(path), 1_048_576)) {
        const line = text === undefined ? undefined : safeParse(text);
        if (!line || typeof line.k !== 'string') continue;
        if (line.ok === 1) failures.delete(line.k);
        else if (
          (line.c === 'permanent' || line.c === 'transient') &&
          typeof line.at === 'number' &&
          typeof line.n === 'number' &&
          // Earlier versions remembered the address policy's refusals as permanent: forget them.
          classifyFailure({ code: line.code as ErrorCode }) !== 'local'
        ) {
          failures.set(line.k, { k: line.k, c: line.c, code: line.code as ErrorCode, ...(typeof line.s === 'number' ? { s: line.s } : {}), at: line.at, n: line.n });
        }
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await mkdir(dirname(path), { recursive: true });
    const ledger = new FailureLedger(path, failures, options.now ?? Date.now);
    ledger.#log = await AppendLog.open(path);
    return ledger;
  }

  /** Failures remembered. */
  get size(): number {
    return this.#failures.size;
  }

  get(key: string): RememberedFailure | undefined {
    return this.#failures.get(key);
  }

  /** The remembered failure that puts `key` on hold now, or undefined when it may be tried. */
  onHold(key: string): RememberedFailure | undefined {
    const failure = this.#failures.get(key);
    return failure && nextCheckAt(failure) > this.#now() ? failure : undefined;
  }

  /**
   * Remember a failure of `key` (consecutive permanent failures lengthen the backoff). A `local`
   * failure — our own configuration refused the source — is not the source's and is not
   * remembered (returns undefined); what was remembered of the key before stays.
   */
  fail(key: string, failureClass: FailureClass, code: ErrorCode, status: number | undefined): RememberedFailure | undefined {
    if (failureClass === 'local') return undefined;
    const previous = this.#failures.get(key);
    const n = failureClass === 'permanent' && previous?.c === 'permanent' ? previous.n + 1 : 1;
    const failure: RememberedFailure = { k: key, c: failureClass, code, ...(status === undefined ? {} : { s: status }), at: this.#now(), n };
    this.#failures.set(key, failure);
    this.#log?.append(JSON.stringify(failure));
    return failure;
  }

  /** Forget `key`: it succeeded. */
  succeed(key: string): void {
    if (!this.#failures.delete(key)) return;
    this.#log?.append(JSON.stringify({ k: key, ok: 1 }));
  }

  flush(): Promise<void> {
    return this.#log?.flush() ?? Promise.resolve();
  }

  /** Close the append log and rewrite the file with only what is remembered (atomically). */
  async save(): Promise<void> {
    await this.#log?.close();
    this.#log = undefined;
    const temp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      const lines: string[] = [];
      for (const failure of this.#failures.values()) lines.push(JSON.stringify(failure));
      await writeFile(temp, lines.length === 0 ? '' : `${lines.join('\n')}\n`);
      await rename(temp, this.path);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }
}

function safeParse(text: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
