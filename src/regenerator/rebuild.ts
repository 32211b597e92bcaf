/**
 * `rebuild()`: walk any iterable or async iterable of records (so a manifest streams), with a
 * bounded number of records in progress, and report what happened to each. Memory stays flat
 * whatever the input's length: records are pulled only when a slot frees, and the report keeps
 * counts plus at most `maxReportedFallbacks` fallen-back records (all of them reach `onRecord`).
 */
import { ConfigError, ErrorCodes, type ErrorCode } from '../errors.js';
import { linkSignals } from '../linked-signal.js';
import type { ResolvedVariant } from '../options.js';
import { Priority } from '../scheduling/scheduler.js';
import type { Outcome, SourceFailure, ThumbRecord, Thumbnail } from '../types.js';
import type { RegeneratorContext } from './context.js';
import type { DeriveFailure } from './derive-variants.js';
import { normalizeRecord, type NormalizedRecord } from './normalize-record.js';
import type { Regeneration } from './regenerate-record.js';

export interface RebuildOptions {
  /**
   * Skip records whose every variant is already in the store.
   * @default true — a rebuild after an outage should only fill the holes.
   */
  onlyMissing?: boolean;
  /**
   * With `onlyMissing`, treat degraded (derived) entries as missing, so records whose source
   * came back get real thumbnails again.
   * @default false
   */
  retryDegraded?: boolean;
  /** Stop taking records; in-flight records are abandoned and not counted. The report says `aborted`. */
  signal?: AbortSignal;
  /** Called after each record with running totals. */
  onProgress?: (progress: RebuildProgress) => void;
  /** Called once per record with its result, fallbacks included (the report keeps only the first `maxReportedFallbacks`). */
  onRecord?: (result: RecordResult) => void;
  /**
   * Fallen-back records kept in the report's `fallbacks`; the rest are counted in `fallbacksDropped`.
   * @default 10_000 — enough to read; for a complete list, write them from `onRecord`.
   */
  maxReportedFallbacks?: number;
}

/** What happened to one record in a rebuild. `stored` means every variant was already there. */
export interface RecordResult {
  /** The record as given (for re-feeding as a manifest). */
  record: ThumbRecord;
  key: string;
  outcome: Exclude<Outcome, 'memory'>;
  reason?: ErrorCode;
  failures?: readonly SourceFailure[];
  /** Variants written to the store by this record. */
  written: number;
}

export interface RebuildProgress {
  /** Records finished so far. */
  done: number;
  counts: Readonly<Record<Exclude<Outcome, 'memory'>, number>>;
  bytesDownloaded: number;
  bytesWritten: number;
  elapsedMs: number;
}

export interface RebuildReport extends RebuildProgress {
  /** Records finished (same as `done`). */
  total: number;
  /** Records that ended `derived` or `placeholder`, with reasons (first `maxReportedFallbacks`). */
  fallbacks: RecordResult[];
  fallbacksDropped: number;
  durationMs: number;
  /** True when `signal` aborted the run before the input was exhausted. */
  aborted: boolean;
}

/** What rebuild needs from the regenerator. */
export interface RebuildEngine {
  readonly ctx: RegeneratorContext;
  /** Shared in-flight regeneration of a record (joins one already running for `get()`). */
  regenerate(record: NormalizedRecord, priority: number, signal: AbortSignal): Promise<Regeneration>;
  derive(key: string, wanted: readonly ResolvedVariant[], why: DeriveFailure, priority: number, signal: AbortSignal): Promise<Map<string, Thumbnail>>;
  /** Aborted when the regenerator closes. */
  readonly closeSignal: AbortSignal;
}

export async function runRebuild(
  engine: RebuildEngine,
  records: Iterable<unknown> | AsyncIterable<unknown>,
  options: RebuildOptions = {},
): Promise<RebuildReport> {
  if (records === null || typeof records !== 'object' || !(Symbol.iterator in records || Symbol.asyncIterator in records)) {
    throw new TypeError('Expected `records` to be an iterable or async iterable of records');
  }
  const maxReported = options.maxReportedFallbacks ?? 10_000;
  if (!Number.isInteger(maxReported) || maxReported < 0) throw new ConfigError('maxReportedFallbacks', 'an integer ≥ 0', maxReported);
  const linked = linkSignals([options.signal, engine.closeSignal]);
  try {
    return await rebuildAll(engine, records, options, linked.signal);
  } finally {
    linked.dispose();
  }
}

async function rebuildAll(
  engine: RebuildEngine,
  records: Iterable<unknown> | AsyncIterable<unknown>,
  options: RebuildOptions,
  signal: AbortSignal,
): Promise<RebuildReport> {
  const { ctx } = engine;
  const onlyMissing = options.onlyMissing ?? true;
  const retryDegraded = options.retryDegraded ?? false;
  const maxReported = options.maxReportedFallbacks ?? 10_000;
  const started = performance.now();
  const startBytes = { down: ctx.counters.bytesDownloaded, written: ctx.counters.bytesWritten };
  const counts = { stored: 0, regenerated: 0, mirror: 0, derived: 0, placeholder: 0 };
  const fallbacks: RecordResult[] = [];
  let done = 0;
  let fallbacksDropped = 0;

  const progress = (): RebuildProgress => ({
    done,
    counts: { ...counts },
    bytesDownloaded: ctx.counters.bytesDownloaded - startBytes.down,
    bytesWritten: ctx.counters.bytesWritten - startBytes.written,
    elapsedMs: performance.now() - started,
  });

  const finish = (result: RecordResult): void => {
    done += 1;
    counts[result.outcome] += 1;
    if (result.outcome === 'derived' || result.outcome === 'placeholder') {
      if (fallbacks.length < maxReported) fallbacks.push(result);
      else fallbacksDropped += 1;
    }
    options.onRecord?.(result);
    options.onProgress?.(progress());
  };

  // Enough records in progress to keep both stages busy: every download slot, plus records
  // waiting for or in sharp, plus store checks. Bounded, so the input is pulled lazily.
  const window = ctx.options.concurrency + ctx.options.renderConcurrency * 2;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  for await (const input of records as AsyncIterable<unknown>) {
    if (signal.aborted) break;
    const recordStarted = performance.now();
    const task = rebuildOne(engine, input, { onlyMissing, retryDegraded }, signal).then(
      (result) => {
        ctx.emit('outcome', {
          key: result.key,
          variant: undefined,
          outcome: result.outcome,
          reason: result.reason,
          degraded: result.outcome === 'derived' || result.outcome === 'placeholder',
          durationMs: performance.now() - recordStarted,
          via: 'rebuild',
        });
        finish(result);
      },
      (error: unknown) => {
        // An abort abandons the record (a resumed run redoes it); anything else is a bug we surface.
        if (!signal.aborted) failure ??= error;
      },
    );
    const tracked: Promise<void> = task.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    while (inFlight.size >= window) await Promise.race(inFlight);
    if (failure !== undefined) break;
  }
  await Promise.all(inFlight);
  if (failure !== undefined) throw failure;
  const end = progress();
  return {
    ...end,
    total: end.done,
    fallbacks,
    fallbacksDropped,
    durationMs: end.elapsedMs,
    aborted: signal.aborted,
  };
}

async function rebuildOne(
  engine: RebuildEngine,
  input: unknown,
  flags: { onlyMissing: boolean; retryDegraded: boolean },
  signal: AbortSignal,
): Promise<RecordResult> {
  const { ctx } = engine;
  const checked = normalizeRecord(input);
  if (!checked.ok) {
    const failure: SourceFailure = { source: 'record', code: checked.error.code, message: checked.error.message };
    return { record: input as ThumbRecord, key: checked.key, outcome: 'placeholder', reason: checked.error.code, failures: [failure], written: 0 };
  }
  const record = checked.value;
  if (flags.onlyMissing) {
    const missing = await missingVariants(ctx, record.key, flags.retryDegraded, signal);
    if (missing.length === 0) return { record: record.record, key: record.key, outcome: 'stored', written: 0 };
  }
  const regen = await engine.regenerate(record, Priority.batch, signal);
  if (regen.outcome !== 'failed') {
    return {
      record: record.record,
      key: record.key,
      outcome: regen.outcome,
      ...(regen.reason === undefined ? {} : { reason: regen.reason, failures: regen.failures }),
      written: regen.thumbnails.size,
    };
  }
  const why = { reason: regen.reason ?? ErrorCodes.DECODE_FAILED, failures: regen.failures };
  const base = { record: record.record, key: record.key, reason: why.reason, failures: why.failures };
  // Every source failed. What is in the store stays; only the holes are filled from survivors.
  const missing = await missingVariants(ctx, record.key, flags.retryDegraded, signal);
  if (missing.length === 0) return { ...base, outcome: 'stored', written: 0 };
  const derived = await engine.derive(record.key, missing, why, Priority.batch, signal);
  return { ...base, outcome: derived.size > 0 ? 'derived' : 'placeholder', written: derived.size };
}

/** Variants absent from the store (or degraded, when retrying those). A store error counts as missing. */
async function missingVariants(ctx: RegeneratorContext, key: string, retryDegraded: boolean, signal: AbortSignal): Promise<ResolvedVariant[]> {
  const { store, format } = ctx.options;
  const present = await Promise.all(
    ctx.variants.map(async (variant) => {
      try {
        const info = await store.head({ key, variant: variant.name, format }, { signal });
        return info !== undefined && !(retryDegraded && info.degraded);
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        ctx.counters.storeErrors += 1;
        ctx.emit('storeError', { key, variant: variant.name, operation: 'head', error });
        return false;
      }
    }),
  );
  return ctx.variants.filter((_, i) => !present[i]);
}
