/**
 * `rebuild()`: walk any iterable or async iterable of records (so a manifest streams), with a
 * bounded number of records in progress, and report what happened to each. Memory stays flat
 * whatever the input's length: records are pulled only when a slot frees, and the report keeps
 * counts plus at most `maxReportedFallbacks` fallen-back records in at most
 * `maxReportedFallbackBytes` (all of them reach `onRecord`).
 */
import { ConfigError, ErrorCodes } from '../errors.js';
import { linkSignals } from '../linked-signal.js';
import type { ResolvedVariant } from '../options.js';
import { Priority } from '../scheduling/scheduler.js';
import type { SourceFailure, ThumbRecord, Thumbnail } from '../types.js';
import type { RegeneratorContext } from './context.js';
import type { DeriveFailure } from './derive-variants.js';
import { withHintsThumbHash } from './ignored-thumbhash.js';
import { normalizeRecord, type NormalizedRecord } from './normalize-record.js';
import { restoreFromBackups } from './backup-stores.js';
import { discardDamaged } from './discard-damaged.js';
import { readEntry } from './read-stored.js';
import type { RegenerateOptions, Regeneration, ThumbnailWrites } from './regenerate-record.js';
import { DEFAULT_REPORTED_FALLBACK_BYTES, RebuildTally } from './rebuild-tally.js';
import type { RebuildOptions, RebuildReport, RecordResult } from './rebuild-types.js';

export type { RebuildOptions, RebuildProgress, RebuildReport, RecordOutcome, RecordResult } from './rebuild-types.js';

/** What rebuild needs from the regenerator. */
export interface RebuildEngine {
  readonly ctx: RegeneratorContext;
  /** Shared in-flight regeneration of a record (joins one already running for `get()`). */
  regenerate(record: NormalizedRecord, priority: number, signal: AbortSignal, options?: RegenerateOptions): Promise<Regeneration>;
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
  const maxReportedBytes = options.maxReportedFallbackBytes ?? DEFAULT_REPORTED_FALLBACK_BYTES;
  if (!Number.isInteger(maxReportedBytes) || maxReportedBytes < 0) throw new ConfigError('maxReportedFallbackBytes', 'an integer ≥ 0', maxReportedBytes);
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
  const flags = rebuildFlags(options);
  const tally = new RebuildTally({
    maxReportedFallbacks: options.maxReportedFallbacks ?? 10_000,
    maxReportedFallbackBytes: options.maxReportedFallbackBytes ?? DEFAULT_REPORTED_FALLBACK_BYTES,
  });

  // Enough records in progress to keep both stages busy: every download slot, plus records
  // waiting for or in sharp, plus store checks. Bounded, so the input is pulled lazily.
  const window = ctx.options.concurrency + ctx.options.renderConcurrency * 2;
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;

  for await (const input of records as AsyncIterable<unknown>) {
    if (signal.aborted) break;
    const task = rebuildRecord(engine, input, flags, signal).then(
      (result) => {
        tally.add(result);
        options.onRecord?.(result);
        options.onProgress?.(tally.progress());
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
  return tally.report(signal.aborted);
}

/** How a rebuild treats what is already there (see `RebuildOptions`). */
export interface RebuildFlags {
  onlyMissing: boolean;
  retryDegraded: boolean;
  /** Bypass the negative cache. Optional for callers that predate it. */
  retryFailed?: boolean;
  /** Read and check stored entries instead of only asking whether they exist. Optional for callers that predate it. */
  verify?: NonNullable<RebuildOptions['verify']>;
}

/** The flags of `options` with their defaults (see `RebuildOptions`). */
export function rebuildFlags(options: Pick<RebuildOptions, 'onlyMissing' | 'retryDegraded' | 'retryFailed' | 'verify'>): Required<RebuildFlags> {
  const onlyMissing = options.onlyMissing ?? true;
  const retryDegraded = options.retryDegraded ?? false;
  return { onlyMissing, retryDegraded, retryFailed: options.retryFailed ?? (retryDegraded || !onlyMissing), verify: options.verify ?? false };
}

/** Rebuild one record and emit its `outcome` event. Rejects only when `signal` aborts. */
export async function rebuildRecord(
  engine: RebuildEngine,
  input: unknown,
  flags: RebuildFlags,
  signal: AbortSignal,
): Promise<RecordResult> {
  const started = performance.now();
  const result = await rebuildOne(engine, input, flags, signal);
  engine.ctx.emit('outcome', {
    key: result.key,
    variant: undefined,
    outcome: result.outcome,
    reason: result.reason,
    degraded: result.outcome === 'derived' || result.outcome === 'placeholder',
    durationMs: performance.now() - started,
    via: 'rebuild',
  });
  return result;
}

async function rebuildOne(
  engine: RebuildEngine,
  input: unknown,
  flags: RebuildFlags,
  signal: AbortSignal,
): Promise<RecordResult> {
  const { ctx } = engine;
  const checked = normalizeRecord(input);
  if (!checked.ok) {
    const failure: SourceFailure = { source: 'record', code: checked.error.code, message: checked.error.message };
    const failures = withHintsThumbHash([failure], checked.hints);
    return { record: input as ThumbRecord, key: checked.key, outcome: 'placeholder', reason: checked.error.code, failures, ...NOTHING_WRITTEN };
  }
  const record = checked.value;
  const verify = typeof flags.verify === 'function' ? flags.verify(record.record) === true : flags.verify === true;
  if (flags.onlyMissing) {
    const { missing, degraded } = await storedState(ctx, record.key, flags.retryDegraded, verify, signal, true);
    if (missing.length === 0) return { record: record.record, key: record.key, outcome: 'stored', ...(degraded ? { degraded: true } : {}), ...NOTHING_WRITTEN };
    // A backup that holds every missing variant is copied, not fetched.
    const writes = { written: 0, bytesWritten: 0, refused: 0 } as ThumbnailWrites;
    const restored = await restoreFromBackups(ctx, record.key, missing, signal, { acceptDegraded: !flags.retryDegraded, writes });
    if (restored.size === missing.length) {
      return { record: record.record, key: record.key, outcome: 'mirror', bytesDownloaded: 0, ...writtenOf(writes) };
    }
  }
  const regen = await engine.regenerate(record, Priority.batch, signal, { retryFailed: flags.retryFailed ?? false });
  if (regen.outcome !== 'failed' && regen.variantFailures.size > 0) return rebuildFailedVariants(engine, record, regen, signal);
  if (regen.outcome !== 'failed') {
    return {
      record: record.record,
      key: record.key,
      outcome: regen.outcome,
      ...(regen.reason === undefined ? {} : { reason: regen.reason, failures: regen.failures }),
      bytesDownloaded: regen.bytesDownloaded,
      ...writtenOf(regen.writes),
      ...(regen.thumbhash === undefined ? {} : { thumbhash: regen.thumbhash }),
    };
  }
  const why = { reason: regen.reason ?? ErrorCodes.DECODE_FAILED, failures: regen.failures };
  const base = { record: record.record, key: record.key, reason: why.reason, failures: why.failures };
  // Every source failed. What is in the store stays; only the holes are filled from survivors.
  // (Damage found by the first look was reported then: this second look only counts.)
  const { missing, damaged } = await storedState(ctx, record.key, flags.retryDegraded, verify, signal, !flags.onlyMissing);
  if (missing.length === 0) return { ...base, outcome: 'stored', ...NOTHING_WRITTEN };
  const derived = await engine.derive(record.key, missing, why, Priority.batch, signal);
  if (derived.size > 0) return { ...base, outcome: 'derived', written: derived.size, bytesDownloaded: 0, bytesWritten: bodyBytes(derived) };
  // Nothing replaced the damaged entries: they must not stay where web servers serve them.
  if (damaged.length > 0) await discardDamaged(ctx, record.key, damaged, signal);
  // Its placeholders will be drawn from the record's hints: say now if its ThumbHash cannot be.
  return { ...base, failures: withHintsThumbHash(why.failures, record.hints), outcome: 'placeholder', ...NOTHING_WRITTEN };
}

/**
 * The source rendered but some variants could not be encoded: the others are stored; the failed
 * ones are derived from them (degraded) like missing variants, and the record reports the
 * fallback so that a later run retries it.
 */
async function rebuildFailedVariants(engine: RebuildEngine, record: NormalizedRecord, regen: Regeneration, signal: AbortSignal): Promise<RecordResult> {
  const failed = [...regen.variantFailures.values()];
  const why = { reason: failed[0]!.code, failures: [...regen.failures, ...failed] };
  const derived = await engine.derive(record.key, engine.ctx.variants.filter((v) => regen.variantFailures.has(v.name)), why, Priority.batch, signal);
  return {
    record: record.record,
    key: record.key,
    outcome: derived.size === regen.variantFailures.size ? 'derived' : 'placeholder',
    reason: why.reason,
    failures: why.failures,
    bytesDownloaded: regen.bytesDownloaded,
    ...writtenOf({ ...regen.writes, written: regen.writes.written + derived.size, bytesWritten: regen.writes.bytesWritten + bodyBytes(derived) }),
    ...(regen.thumbhash === undefined ? {} : { thumbhash: regen.thumbhash }),
  };
}

/** Which variants a rebuild must (re)make, and which of those are damaged. */
interface StoredState {
  /** Absent, unreadable or damaged (or degraded, when retrying those). */
  missing: ResolvedVariant[];
  /** The damaged ones among `missing` (found only with `verify`). */
  damaged: ResolvedVariant[];
  /** True when a variant that counts as present is a degraded stand-in. */
  degraded: boolean;
}

/**
 * What the store holds of `key`'s variants. Without `verify`, only whether each exists (`head`,
 * no bytes read); with it, each is read and checked like a `get()` reads it, so a damaged entry
 * counts as missing in the same pass. A store error counts as missing.
 */
async function storedState(ctx: RegeneratorContext, key: string, retryDegraded: boolean, verify: boolean, signal: AbortSignal, report: boolean): Promise<StoredState> {
  const { store, format } = ctx.options;
  let degraded = false;
  const states = await Promise.all(
    ctx.variants.map(async (variant): Promise<'present' | 'missing' | 'damaged'> => {
      if (verify) {
        const read = await readEntry(ctx, store, key, variant.name, signal, { report });
        if (read.state === 'damaged') return 'damaged';
        if (read.state !== 'whole' || (retryDegraded && read.entry.degraded)) return 'missing';
        degraded ||= read.entry.degraded;
        return 'present';
      }
      try {
        const info = await store.head({ key, variant: variant.name, format }, { signal });
        if (info === undefined || (retryDegraded && info.degraded)) return 'missing';
        degraded ||= info.degraded;
        return 'present';
      } catch (error) {
        if (signal.aborted) throw signal.reason;
        if (report) {
          ctx.counters.storeErrors += 1;
          ctx.emit('storeError', { key, variant: variant.name, operation: 'head', error });
        }
        return 'missing';
      }
    }),
  );
  return {
    missing: ctx.variants.filter((_, i) => states[i] !== 'present'),
    damaged: ctx.variants.filter((_, i) => states[i] === 'damaged'),
    degraded,
  };
}

const NOTHING_WRITTEN = Object.freeze({ written: 0, bytesDownloaded: 0, bytesWritten: 0 });

/** A result's write fields: what the store took, and what it refused (so a batch does not count the record as done). */
function writtenOf(writes: ThumbnailWrites): Pick<RecordResult, 'written' | 'bytesWritten' | 'unstored'> {
  return {
    written: writes.written,
    bytesWritten: writes.bytesWritten,
    ...(writes.refused === 0 ? {} : { unstored: { variants: writes.refused, message: writes.refusal ?? 'the store refused the write' } }),
  };
}

function bodyBytes(thumbnails: ReadonlyMap<string, Thumbnail>): number {
  let bytes = 0;
  for (const thumb of thumbnails.values()) bytes += thumb.body.length;
  return bytes;
}
