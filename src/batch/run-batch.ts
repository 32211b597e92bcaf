/**
 * A batch job: stream a manifest through `rebuild()` — in this process, or in worker processes
 * (`processes`, see `ProcessPool`) — with a resume journal, failures remembered across runs, one
 * `RebuildTally` for the whole job (seeded from the journal on resume) and a fallback report at
 * the end. The `rethumb rebuild` command is this plus argument parsing and a progress display;
 * a batch script can call it directly.
 *
 * Memory stays flat whatever the manifest's length: the manifest streams, `rebuild()` keeps a
 * bounded window of records in flight, finished indices are bits, only failures are remembered,
 * and fallen-back records live in the journal on disk, not in memory.
 */
import { join } from 'node:path';
import { ErrorCodes, StoreError, type ErrorCode } from '../errors.js';
import { classifyFailure, type FailureClass } from '../failure-class.js';
import type { RegeneratorOptions } from '../options.js';
import { createRegenerator } from '../regenerator/regenerator.js';
import { RebuildTally } from '../regenerator/rebuild-tally.js';
import type { RebuildProgress, RecordOutcome, RecordResult } from '../regenerator/rebuild-types.js';
import { FileStore } from '../storage/file-store.js';
import { keyForRecord } from '../storage/store-key.js';
import type { ThumbRecord } from '../types.js';
import { checkStored } from './check-stored.js';
import { FailureLedger, nextCheckAt, type RememberedFailure } from './failure-ledger.js';
import { FallbackReasons, type FallbackReasonCounts, type ReasonFailure } from './fallback-reasons.js';
import { writeFallbackReport } from './fallback-report.js';
import { writeHashesFile } from './hashes-file.js';
import { Journal, type JobIdentity, type JournalEntry } from './journal.js';
import { fingerprintManifest } from './manifest-fingerprint.js';
import type { ManifestEntry, ManifestFormat, ManifestProblem } from './manifest-types.js';
import { readManifest } from './read-manifest.js';
import { pathBesideManifest } from './path-beside-manifest.js';
import { IndexBitmap } from './index-bitmap.js';
import { ProcessPool } from './process-pool.js';
import { inProcessRunner, type JobFlags, type RecordRunner } from './record-runner.js';

export interface BatchOptions {
  /** A manifest file path, or `-` for stdin (which cannot be resumed). */
  manifest: string;
  /** @default detected (see `readManifest`) */
  manifestFormat?: ManifestFormat;
  /** The regenerator to build: store, variants, format, limits. Closed when the job ends. */
  regenerator: RegeneratorOptions;
  /**
   * Directory of the job's journal (`journal.jsonl`) and failure memory (`failures.jsonl`).
   * @default `<FileStore root>/.rethumb` — inside the store, where no key can reach (keys never
   * start with `.`); required for other stores.
   */
  stateDir?: string;
  /** Continue the job in `stateDir` instead of starting anew. @default false */
  resume?: boolean;
  /**
   * How the caller started the job (any JSON value), recorded in a new journal's header and
   * read back with `readJournalHeader()`: the CLI records its flags there, so `--resume`
   * restores them. Ignored when resuming (the header keeps the first run's).
   */
  jobSettings?: unknown;
  /** @default true */
  onlyMissing?: boolean;
  /** @default false */
  retryDegraded?: boolean;
  /**
   * Read and check every stored entry (structure and sealed checksum, as `get()` does), so
   * damaged ones are rebuilt in the same pass. Records of a `scan --verify` list marked damaged
   * are always checked this way.
   * @default false
   */
  verify?: boolean;
  /** Try records whose failure is remembered, whatever the backoff says. @default false */
  retryFailed?: boolean;
  /** Where to write the fallback report. @default `<stateDir>/fallbacks.jsonl` */
  fallbackReport?: string;
  /**
   * Where to write the ThumbHash of every record rendered from its source, as JSON Lines
   * (`{"key":…,"thumbhash":…}`), at the end of the run — from the journal, so with `resume` it
   * holds every run's records, each once. Store them beside your records: a record's
   * `thumbhash` makes its placeholder a likeness of the image.
   * @default undefined — no file (the hashes are still journaled and on `onRecord`'s results)
   */
  hashes?: string;
  /** Stop taking new records; records in flight finish (see `signal` to abandon them). */
  stop?: AbortSignal;
  /** Abandon records in flight too (they are redone by `resume`). */
  signal?: AbortSignal;
  /** Journal batch size, lines. @default 256 */
  journalBatchLines?: number;
  /** Journal flush interval, ms. @default 1000 */
  journalIntervalMs?: number;
  /** The clock for failure memory, epoch ms. @default Date.now */
  now?: () => number;
  onProgress?: (progress: BatchProgress) => void;
  onRecord?: (result: RecordResult, entry: ManifestEntry) => void;
  onProblem?: (problem: ManifestProblem) => void;
  /**
   * Worker processes that rebuild the records (see `ProcessPool`); this process keeps the
   * manifest, the journal, the failure memory and the report, so a job has one of each however
   * many processes render. Needs a `FileStore`. `concurrency` and the per-host cap stay the
   * job's totals, split among the workers.
   * @default 1 — the records are rebuilt in this process.
   */
  processes?: number;
  /** Node options of each worker process, e.g. V8 flags. @default process.execArgv */
  workerExecArgv?: readonly string[];
}

export interface BatchProgress extends RebuildProgress {
  /** Records finished by earlier runs of a resumed job (included in `done`). */
  resumed: number;
}

export interface BatchReport {
  manifest: string;
  /** Records finished, over every run of the job. */
  total: number;
  counts: Readonly<Record<RecordOutcome, number>>;
  /** Records that fell back (derived + placeholder): the lines of `fallbackReport`. */
  fallbacks: number;
  /** The fallbacks per reason, most frequent first, with the hosts behind each (over every run of the job). */
  fallbackReasons: FallbackReasonCounts;
  /**
   * The fallbacks per failure class: `permanent` ones are held by the failure memory at the next
   * run (`--retry-failed` forces them), `transient` ones are tried again, `local` ones were
   * refused by this run's own settings (address policy, allowSvg) and are never held.
   */
  fallbackClasses: Record<FailureClass, number>;
  bytesDownloaded: number;
  bytesWritten: number;
  /** Active time over every run of the job, ms. */
  durationMs: number;
  /** Records finished per second of active time. */
  recordsPerSecond: number;
  /** Records finished by earlier runs (resume). */
  resumed: number;
  /** Records not fetched because their remembered failure is still on backoff. */
  onHold: number;
  /** Malformed manifest lines skipped. */
  malformedLines: number;
  /** The first malformed lines, with reasons. */
  malformed: ManifestProblem[];
  /** True when stopped or aborted before the manifest was exhausted. */
  interrupted: boolean;
  journal: string;
  failureMemory: string;
  fallbackReport: string;
  /** The hashes file and its record count, when `hashes` was asked for. */
  hashes?: { file: string; records: number };
}

const MAX_MALFORMED_LISTED = 100;

export async function runBatch(options: BatchOptions): Promise<BatchReport> {
  const store = options.regenerator.store;
  const stateDir = options.stateDir ?? (store instanceof FileStore ? join(store.root, '.rethumb') : undefined);
  if (stateDir === undefined) throw new TypeError('Expected `stateDir` for a store other than a FileStore');
  const journalPath = join(stateDir, 'journal.jsonl');
  // Never over the manifest this job reads (the printed retry command reads the last report).
  const fallbackPath = pathBesideManifest(options.fallbackReport ?? join(stateDir, 'fallbacks.jsonl'), options.manifest);
  const onlyMissing = options.onlyMissing ?? true;
  const retryDegraded = options.retryDegraded ?? false;
  const now = options.now ?? Date.now;

  const flags: JobFlags = { onlyMissing, retryDegraded, retryFailed: options.retryFailed === true };
  const processes = options.processes ?? 1;
  const runner: RecordRunner =
    processes > 1
      ? new ProcessPool({ processes, regenerator: options.regenerator, flags, ...(options.workerExecArgv ? { execArgv: options.workerExecArgv } : {}) })
      : inProcessRunner(createRegenerator(options.regenerator), flags);
  const format = options.regenerator.format ?? 'webp';
  const job: JobIdentity = {
    manifest: options.manifest === '-' ? undefined : await fingerprintManifest(options.manifest),
    output: { variants: options.regenerator.variants, format, quality: options.regenerator.quality ?? null },
    ...(options.jobSettings === undefined ? {} : { settings: options.jobSettings }),
  };
  // Fallbacks live in the journal, not here: the tally keeps counts only.
  const tally = new RebuildTally({ maxReportedFallbacks: 0 });
  const reasons = new FallbackReasons();
  const classes: Record<FailureClass, number> = { permanent: 0, transient: 0, local: 0 };
  const countFallback = (reason: ErrorCode | undefined, failures: readonly ReasonFailure[] | undefined, failureClass: FailureClass | undefined): void => {
    reasons.add(reason, failures);
    if (failureClass !== undefined) classes[failureClass] += 1;
  };
  let done = new IndexBitmap();
  let resumed = 0;
  let journal: Journal;
  const journalOptions = {
    batchLines: options.journalBatchLines ?? 256,
    intervalMs: options.journalIntervalMs ?? 1000,
    trailer: () => Journal.elapsedMarker(activeMs()),
  };
  let priorMs = 0;
  const started = performance.now();
  const activeMs = (): number => priorMs + performance.now() - started;
  try {
    if (options.resume) {
      const opened = await Journal.resume(journalPath, job, (entry) => {
        tally.add(resultOfEntry(entry));
        if (entry.o === 'derived' || entry.o === 'placeholder') countFallback(entry.r, entry.f, entry.c);
        resumed += 1;
      }, journalOptions);
      journal = opened.journal;
      done = opened.state.done;
      priorMs = opened.state.elapsedMs;
    } else {
      journal = await Journal.create(journalPath, job, journalOptions);
    }
  } catch (error) {
    await runner.close();
    throw error;
  }
  const ledger = await FailureLedger.open(join(stateDir, 'failures.jsonl'), { now });
  const variantNames = runner.variants;

  const malformed: ManifestProblem[] = [];
  let malformedLines = 0;
  let onHold = 0;
  let exhausted = false;
  const inFlight = new Map<ThumbRecord, ManifestEntry>();
  // Records a scan list marks damaged, until they finish: `rebuild()` verifies these.
  const marked = new Set<ThumbRecord>();
  // Records whose thumbnails the store refused to write, and the first refusal.
  const refused: { records: number; message?: string } = { records: 0 };
  const stop = options.stop;
  const hard = options.signal;

  const progress = (): BatchProgress => ({ ...tally.progress(), elapsedMs: activeMs(), resumed });
  const finish = (entry: ManifestEntry, result: RecordResult, failureClass: FailureClass | undefined): void => {
    tally.add(result);
    if (result.outcome === 'derived' || result.outcome === 'placeholder') countFallback(result.reason, result.failures, failureClass);
    journal.add(entry.index, entry.line, result, failureClass, now());
    options.onRecord?.(result, entry);
    options.onProgress?.(progress());
  };

  const onRecord = (result: RecordResult): void => {
    const entry = inFlight.get(result.record);
    if (!entry) return;
    inFlight.delete(result.record);
    marked.delete(result.record);
    if (result.unstored) {
      // Rendered but not stored (a full disk, a read-only mount …): not done, so a resumed run
      // redoes it; and the next records would meet the same store, so take no more of them
      // rather than download their sources for nothing.
      refused.records += 1;
      refused.message ??= result.unstored.message;
      return;
    }
    const failureClass = failureClassOf(result);
    if (failureClass !== undefined && result.key !== '') {
      const first = result.failures?.[0];
      ledger.fail(result.key, failureClass, result.reason ?? first?.code ?? ErrorCodes.DECODE_FAILED, first?.status);
    } else if (result.outcome === 'regenerated' || result.outcome === 'mirror') {
      ledger.succeed(result.key);
    }
    finish(entry, result, failureClass);
  };

  async function* records(): AsyncGenerator<ThumbRecord> {
    const manifest = readManifest(options.manifest, {
      ...(options.manifestFormat ? { format: options.manifestFormat } : {}),
      onProblem: (problem) => {
        malformedLines += 1;
        if (malformed.length < MAX_MALFORMED_LISTED) malformed.push(problem);
        options.onProblem?.(problem);
      },
    });
    for await (const entry of manifest) {
      if (stop?.aborted || hard?.aborted || refused.records > 0) return;
      if (done.has(entry.index)) continue;
      const held = options.retryFailed ? undefined : heldFailure(ledger, entry.record);
      if (held) {
        const result = await heldResult(entry.record, held, entry.verify === true);
        if (result.outcome !== 'stored') onHold += 1;
        finish(entry, result, result.outcome === 'stored' ? undefined : held.c);
        continue;
      }
      inFlight.set(entry.record, entry);
      if (entry.verify) marked.add(entry.record);
      yield entry.record;
    }
    exhausted = true;
  }

  /** A record on hold is not fetched: it is what the store holds of it. */
  async function heldResult(record: ThumbRecord, held: RememberedFailure, markedDamaged: boolean): Promise<RecordResult> {
    const base = { record, key: held.k, written: 0, bytesDownloaded: 0, bytesWritten: 0 };
    const state = await checkStored(store, held.k, variantNames, format, { ...(hard ? { signal: hard } : {}), verify: options.verify === true || markedDamaged });
    const wanted = state.missing.length + state.damaged.length + (retryDegraded ? state.degraded.length : 0);
    if (onlyMissing && wanted === 0) return { ...base, outcome: 'stored' };
    const message =
      `failed ${held.n} time(s) (${held.c}), last at ${new Date(held.at).toISOString()}; ` +
      `re-checked after ${new Date(nextCheckAt(held)).toISOString()} (--retry-failed forces it)`;
    return {
      ...base,
      outcome: state.missing.length + state.damaged.length < variantNames.length ? 'derived' : 'placeholder',
      reason: ErrorCodes.RECENTLY_FAILED,
      failures: [{ source: record.url, code: held.code, ...(held.s === undefined ? {} : { status: held.s }), message }],
    };
  }

  let failure: unknown;
  try {
    // Whether each record's stored entries are checked: all with `verify`, else those a list marked damaged.
    const verify = (record: ThumbRecord): boolean => options.verify === true || marked.has(record);
    await runner.rebuild(records(), { onRecord, verify, ...(hard ? { signal: hard } : {}) });
  } catch (error) {
    failure = error;
  } finally {
    await runner.close();
    await Promise.allSettled([journal.close(), ledger.save()]).then((results) => {
      for (const r of results) if (r.status === 'rejected') failure ??= r.reason;
    });
  }
  if (failure === undefined && refused.records > 0) {
    failure = new StoreError(
      `The store refused to write the thumbnails of ${refused.records} record(s) (${refused.message}); the job stopped and they are not marked done: ` +
        'fix the store (free space, permissions, whatever is in the way), then resume the job to redo them',
    );
  }
  if (failure !== undefined) throw failure;
  const fallbacks = await writeFallbackReport(journalPath, fallbackPath);
  const hashesPath = options.hashes === undefined ? undefined : pathBesideManifest(options.hashes, options.manifest);
  const hashes = hashesPath === undefined ? undefined : { file: hashesPath, records: await writeHashesFile(journalPath, hashesPath) };
  const final = progress();
  return {
    manifest: options.manifest,
    total: final.done,
    counts: final.counts,
    fallbacks,
    fallbackReasons: reasons.toJSON(),
    fallbackClasses: { ...classes },
    bytesDownloaded: final.bytesDownloaded,
    bytesWritten: final.bytesWritten,
    durationMs: final.elapsedMs,
    recordsPerSecond: final.elapsedMs > 0 ? (final.done / final.elapsedMs) * 1000 : 0,
    resumed,
    onHold,
    malformedLines,
    malformed,
    // Abandoned records (a hard abort) are redone by a resumed run.
    interrupted: !exhausted || inFlight.size > 0,
    journal: journalPath,
    failureMemory: join(stateDir, 'failures.jsonl'),
    fallbackReport: fallbackPath,
    ...(hashes === undefined ? {} : { hashes }),
  };
}

/**
 * The class of a fallen-back record's failure: transient if any source may recover soon, else
 * local if our own configuration refused any source (other settings may reach it: never held),
 * else permanent.
 */
export function failureClassOf(result: RecordResult): FailureClass | undefined {
  if (result.outcome !== 'derived' && result.outcome !== 'placeholder') return undefined;
  const failures = result.failures ?? [];
  if (failures.length === 0) return result.reason === undefined ? 'permanent' : classifyFailure({ code: result.reason });
  const classes = new Set(failures.map((f) => classifyFailure(f)));
  return classes.has('transient') ? 'transient' : classes.has('local') ? 'local' : 'permanent';
}

function heldFailure(ledger: FailureLedger, record: ThumbRecord): RememberedFailure | undefined {
  if (ledger.size === 0) return undefined;
  let key: string;
  try {
    key = keyForRecord(record);
  } catch {
    return undefined;
  }
  return ledger.onHold(key);
}

/** A journal entry as the result the tally counts (what it needs: outcome and bytes). */
function resultOfEntry(entry: JournalEntry): RecordResult {
  return {
    record: entry.rec ?? { url: '' },
    key: entry.k ?? '',
    outcome: entry.o,
    written: 0,
    bytesDownloaded: entry.d,
    bytesWritten: entry.w,
  };
}
