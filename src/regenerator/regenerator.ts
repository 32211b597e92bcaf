/**
 * The regenerator: composes the layers into `get()` and `rebuild()`.
 *
 * get(record, variant): memory LRU → store → one shared in-flight regeneration per record
 * (`url`, then mirrors) → derived from the largest surviving variant (degraded) → placeholder.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClosedError, ConfigError, ErrorCodes, type ErrorCode, UnknownVariantError } from '../errors.js';
import { createGuardedAgent } from '../fetching/guarded-agent.js';
import { AddressPolicy } from '../fetching/address-policy.js';
import { restrictDecoders } from '../imaging/decoder-policy.js';
import { readThumbHashHint } from '../imaging/parse-thumbhash.js';
import { PlaceholderRenderer, type PlaceholderHints } from '../imaging/placeholder.js';
import { linkSignals, sharedAbortController } from '../linked-signal.js';
import { resolveOptions, type RegeneratorOptions, type ResolvedVariant } from '../options.js';
import { Priority, Scheduler, type HostStats } from '../scheduling/scheduler.js';
import { Urgency } from '../scheduling/urgency.js';
import type { Outcome, SourceFailure, ThumbRecord, Thumbnail } from '../types.js';
import { restoreFromBackups } from './backup-stores.js';
import type { Counters, RegeneratorContext } from './context.js';
import { deriveVariants, type DeriveFailure } from './derive-variants.js';
import type { Emit, RegeneratorEvents } from './events.js';
import { withIgnoredThumbHash } from './ignored-thumbhash.js';
import { MemoryCache } from './memory-cache.js';
import { normalizeRecord, type NormalizedRecord } from './normalize-record.js';
import { discardDamaged } from './discard-damaged.js';
import { processCoordination } from './process-coordination.js';
import { readStoredThumbnail, type StoredThumbnailRead } from './read-stored.js';
import { rebuildFlags, rebuildRecord, runRebuild, type RebuildEngine, type RebuildOptions, type RebuildReport, type RecordResult } from './rebuild.js';
import { regenerateRecord, type RegenerateOptions, type Regeneration } from './regenerate-record.js';
import { SharedWork } from './shared-work.js';

export interface GetOptions {
  /** Abort this caller's wait. Work that other callers share goes on. */
  signal?: AbortSignal;
  /**
   * Answer within this many ms: when regeneration has not finished by then, resolve at once
   * with the best stand-in (derived from a surviving variant, else a placeholder; reason
   * `RETHUMB_DEADLINE`) and let the regeneration finish in the background, landing in the
   * store and the memory cache for the next request.
   * @default undefined — wait for the regeneration (bounded by `timeoutMs` per source).
   */
  deadlineMs?: number;
}

/** Counts since creation, for metrics. */
export interface RegeneratorStats extends Counters {
  /** Records being regenerated right now. */
  regenerating: number;
  downloading: number;
  downloadsQueued: number;
  rendering: number;
  rendersQueued: number;
  /** Bytes of source bodies held right now: downloading, waiting for sharp or in sharp (see `downloadByteBudget`). */
  sourceBytes: number;
  memoryCache: { entries: number; bytes: number };
  /** Source URLs remembered as failed (expired ones may count until evicted), and the bytes they hold (estimated). */
  negativeCache: { entries: number; bytes: number };
  /** Per origin host (`host:port`): in flight, queued, current slow-start limit, circuit, pause. */
  hosts: Record<string, HostStats>;
}

export class Regenerator extends EventEmitter<RegeneratorEvents> {
  readonly #ctx: RegeneratorContext;
  readonly #records = new SharedWork<Regeneration>();
  readonly #derivations = new SharedWork<Map<string, Thumbnail>>();
  /** The priority of each record in flight, raised when a `get()` joins a batch regeneration. */
  readonly #urgencies = new Map<string, Urgency>();
  readonly #closing = sharedAbortController();
  readonly #scope: string;
  #closed: Promise<void> | undefined;

  constructor(options: RegeneratorOptions) {
    super();
    const resolved = resolveOptions(options);
    restrictDecoders({ allowSvg: resolved.allowSvg });
    const coordination = resolved.coordination ?? processCoordination;
    this.#scope = coordination.scope;
    this.#ctx = Object.freeze({
      options: resolved,
      variants: Object.freeze([...resolved.variants.values()]),
      agent: createGuardedAgent({
        policy: new AddressPolicy({ allowHosts: resolved.allowHosts, allowPrivateNetworks: resolved.allowPrivateNetworks }),
        connectTimeoutMs: resolved.connectTimeoutMs,
        headersTimeoutMs: resolved.headersTimeoutMs,
        bodyTimeoutMs: resolved.timeoutMs,
      }),
      scheduler: new Scheduler({
        concurrency: resolved.concurrency,
        renderConcurrency: resolved.renderConcurrency,
        perHost: resolved.perHost,
        circuitBreaker: resolved.circuitBreaker,
        maxRetryAfterMs: resolved.retry.maxRetryAfterMs,
        timeoutMs: resolved.timeoutMs,
        coordinator: coordination.hosts,
        observer: {
          circuit: (event) => this.#ctx.emit('circuit', event),
          hostLimit: (event) => this.#ctx.emit('hostLimit', event),
          hostPause: (event) => this.#ctx.emit('hostPause', event),
        },
        renderPixelBudget: resolved.renderPixelBudget,
        byteBudget: resolved.downloadByteBudget,
      }),
      placeholders: new PlaceholderRenderer({ format: resolved.format, quality: resolved.quality, defaultColor: resolved.placeholderColor }),
      cache: new MemoryCache(resolved.memoryCacheBytes),
      negativeCache: coordination.failures({ ...resolved.negativeCache }),
      counters: {
        fetches: 0,
        decodes: 0,
        bytesDownloaded: 0,
        bytesWritten: 0,
        storeErrors: 0,
        retries: 0,
        recentlyFailed: 0,
        circuitRejections: 0,
        backupHits: 0,
        corruptEntries: 0,
        outcomes: { memory: 0, stored: 0, regenerated: 0, mirror: 0, derived: 0, placeholder: 0 },
      },
      emit: ((name: keyof RegeneratorEvents, ...args: RegeneratorEvents[keyof RegeneratorEvents]) => {
        // Every answer passes here once, so counting outcomes here keeps stats and events in step.
        if (name === 'outcome') this.#ctx.counters.outcomes[(args[0] as { outcome: Outcome }).outcome] += 1;
        try {
          (this.emit as (name: string, ...args: unknown[]) => boolean)(name, ...args);
        } catch (error) {
          // An observer's bug must not turn into a failed request.
          process.emitWarning(`rethumb: a '${name}' listener threw: ${error instanceof Error ? error.message : String(error)}`);
        }
      }) as Emit,
    });
  }

  /**
   * What this regenerator's politeness (host caps, pauses, circuits, negative cache) is shared
   * across: `'process'` by default, `'redis'` with `rethumb/bullmq`'s fleet coordination.
   */
  get coordination(): string {
    return this.#scope;
  }

  /** Configured variant names, in configuration order. */
  get variants(): readonly string[] {
    return this.#ctx.variants.map((v) => v.name);
  }

  /**
   * The thumbnail of `record` at `variant`. Resolves with an image for every record and every
   * origin behaviour; rejects only for a programmer's error (unknown variant, closed
   * regenerator) or when `signal` aborts.
   */
  async get(record: ThumbRecord, variant: string, options: GetOptions = {}): Promise<Thumbnail> {
    if (this.#closed) throw new ClosedError();
    const spec = this.#variant(variant);
    const { deadlineMs } = options;
    if (deadlineMs !== undefined && (typeof deadlineMs !== 'number' || !(deadlineMs >= 0) || !Number.isFinite(deadlineMs))) {
      throw new ConfigError('deadlineMs', 'a finite number of milliseconds ≥ 0', deadlineMs);
    }
    options.signal?.throwIfAborted();
    const started = performance.now();
    const linked = linkSignals([options.signal, this.#closing.signal]);
    let thumb: Thumbnail;
    try {
      thumb = await this.#resolve(record, spec, linked.signal, deadlineMs === undefined ? undefined : { at: started + deadlineMs, ms: deadlineMs });
    } finally {
      linked.dispose();
    }
    this.#ctx.emit('outcome', {
      key: thumb.key,
      variant: thumb.variant,
      outcome: thumb.outcome,
      reason: thumb.reason,
      degraded: thumb.degraded,
      durationMs: performance.now() - started,
      via: 'get',
    });
    return thumb;
  }

  async #resolve(record: ThumbRecord, spec: ResolvedVariant, signal: AbortSignal, deadline: { at: number; ms: number } | undefined): Promise<Thumbnail> {
    const checked = normalizeRecord(record);
    if (!checked.ok) {
      const failure: SourceFailure = { source: 'record', code: checked.error.code, message: checked.error.message };
      return this.#placeholder(checked.key, spec, checked.hints, checked.error.code, [failure]);
    }
    const { key, hints } = checked.value;
    const cached = this.#ctx.cache.get(key, spec.name);
    if (cached) return { ...cached, outcome: 'memory' };
    // A damaged entry is a miss like an absent one: the paths below replace it.
    const { thumb: stored, damaged } = await this.#readStored(key, spec, signal);
    if (stored) {
      this.#ctx.cache.set(stored);
      return stored;
    }
    const restored = (await restoreFromBackups(this.#ctx, key, [spec], signal, { acceptDegraded: true })).get(spec.name);
    if (restored) {
      this.#ctx.cache.set(restored);
      return restored;
    }
    const pending = this.#regenerate(checked.value, Priority.onDemand, signal).then((regen) => {
      // Cache every variant: pages that show one size usually show the others next.
      for (const thumb of regen.thumbnails.values()) this.#ctx.cache.set(thumb);
      return regen;
    });
    const regen = deadline === undefined ? await pending : await this.#beforeDeadline(pending, deadline.at, signal);
    if (!regen) {
      // The deadline passed: serve a stand-in now; the regeneration lands in the store and cache later.
      pending.catch(() => {});
      // Named like every other deadline: which one, and its limit.
      const late: SourceFailure = {
        source: checked.value.record.url,
        code: ErrorCodes.DEADLINE,
        message: `deadlineMs of ${deadline!.ms} ms passed before the regeneration ended; it goes on in the background`,
        timeoutMs: deadline!.ms,
      };
      const why = { reason: ErrorCodes.DEADLINE, failures: [late] };
      const standIn = await this.#derive(key, [spec], why, Priority.onDemand, signal, false);
      return standIn.get(spec.name) ?? this.#placeholder(key, spec, hints, ErrorCodes.DEADLINE, [late]);
    }
    const fresh = regen.thumbnails.get(spec.name);
    if (fresh) return fresh;
    // The source rendered, but not this variant: fall back for it alone, saying why.
    const variantFailure = regen.variantFailures.get(spec.name);
    const why = variantFailure
      ? { reason: variantFailure.code, failures: [...regen.failures, variantFailure] }
      : { reason: regen.reason ?? ErrorCodes.DECODE_FAILED, failures: regen.failures };
    const derived = await this.#derive(key, [spec], why, Priority.onDemand, signal);
    const thumb = derived.get(spec.name);
    if (thumb) {
      this.#ctx.cache.set(thumb);
      return thumb;
    }
    // Nothing replaced the damaged entry: it must not stay where web servers serve it.
    if (damaged !== undefined) await discardDamaged(this.#ctx, key, [spec], signal);
    return this.#placeholder(key, spec, hints, why.reason, why.failures);
  }

  /** The regeneration if it settles before `deadline` (a `performance.now()` time), else undefined. */
  async #beforeDeadline(pending: Promise<Regeneration>, deadline: number, signal: AbortSignal): Promise<Regeneration | undefined> {
    const timer = new AbortController();
    const onAbort = (): void => timer.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await Promise.race([
        pending,
        sleep(Math.max(0, deadline - performance.now()), undefined, { signal: timer.signal }).then(
          () => undefined,
          () => {
            signal.throwIfAborted();
            return undefined;
          },
        ),
      ]);
    } finally {
      signal.removeEventListener('abort', onAbort);
      timer.abort();
    }
  }

  /**
   * Rebuild every record of `records` (any iterable or async iterable), at most `concurrency`
   * sources downloading at once. Resolves with counts per outcome and the records that fell back.
   */
  rebuild(records: Iterable<ThumbRecord> | AsyncIterable<ThumbRecord>, options: RebuildOptions = {}): Promise<RebuildReport> {
    if (this.#closed) return Promise.reject(new ClosedError());
    return runRebuild(this.#engine, records, options);
  }

  /**
   * Rebuild one record exactly as `rebuild()` does (for job queues that hand out one record at a
   * time). Resolves with its result for every record; rejects only when `signal` aborts or the
   * regenerator is closed.
   */
  async rebuildRecord(record: ThumbRecord, options: Pick<RebuildOptions, 'onlyMissing' | 'retryDegraded' | 'retryFailed' | 'verify' | 'signal'> = {}): Promise<RecordResult> {
    if (this.#closed) throw new ClosedError();
    const linked = linkSignals([options.signal, this.#closing.signal]);
    try {
      return await rebuildRecord(this.#engine, record, rebuildFlags(options), linked.signal);
    } finally {
      linked.dispose();
    }
  }

  get #engine(): RebuildEngine {
    return {
      ctx: this.#ctx,
      closeSignal: this.#closing.signal,
      regenerate: (record, priority, signal, options) => this.#regenerate(record, priority, signal, options),
      derive: (key, wanted, why, priority, signal) => this.#derive(key, wanted, why, priority, signal),
    };
  }

  /** Counters and queue depths, for metrics. */
  stats(): RegeneratorStats {
    return {
      ...this.#ctx.counters,
      regenerating: this.#records.size,
      outcomes: { ...this.#ctx.counters.outcomes },
      ...this.#ctx.scheduler.counts,
      memoryCache: this.#ctx.cache.stats,
      negativeCache: { entries: this.#ctx.negativeCache.size, bytes: this.#ctx.negativeCache.bytes ?? 0 },
      hosts: this.#ctx.scheduler.hostStats(),
    };
  }

  /** Abort in-flight work, wait for it to settle, release sockets and caches. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      const closed = new ClosedError();
      this.#closing.abort(closed);
      // Also work nobody waits for any more (a deadline's background completion).
      this.#records.abortAll(closed);
      this.#derivations.abortAll(closed);
      this.#ctx.scheduler.clear();
      await Promise.all([this.#records.settled(), this.#derivations.settled()]);
      await this.#ctx.agent.close();
      await this.#ctx.scheduler.close();
      await this.#ctx.negativeCache.close?.();
      this.#ctx.cache.clear();
    })();
    return this.#closed;
  }

  /**
   * A placeholder of `variant`'s box, as `get()` would serve it when every source fails: drawn
   * from `hints.thumbhash` when valid (else flat, tinted by `hints.color`, with a
   * `RETHUMB_INVALID_THUMBHASH` failure when a hash was given), shaped by `hints.width`/`height`,
   * cached in memory, never stored, no event.
   * For answers that have no record at all, such as an unknown key in an HTTP handler.
   * Rejects only for an unknown variant or a closed regenerator.
   */
  async placeholder(variant: string, hints: PlaceholderHints & { key?: string; reason?: ErrorCode } = {}): Promise<Thumbnail> {
    if (this.#closed) throw new ClosedError();
    const spec = this.#variant(variant);
    const { key = '', reason = ErrorCodes.UNKNOWN_KEY, ...shape } = hints;
    return this.#placeholder(key, spec, shape, reason, []);
  }

  #variant(name: string): ResolvedVariant {
    const spec = typeof name === 'string' ? this.#ctx.options.variants.get(name) : undefined;
    if (!spec) throw new UnknownVariantError(name, this.variants);
    return spec;
  }

  #regenerate(record: NormalizedRecord, priority: number, signal: AbortSignal, options: RegenerateOptions = {}): Promise<Regeneration> {
    const { key } = record;
    // Joining a regeneration queued by a rebuild: its download must not wait behind batch work.
    if (this.#records.has(key)) this.#urgencies.get(key)?.raise(priority);
    return this.#records.run(
      key,
      async (shared) => {
        const urgency = new Urgency(priority);
        this.#urgencies.set(key, urgency);
        try {
          return await regenerateRecord(this.#ctx, record, urgency, shared, options);
        } finally {
          if (this.#urgencies.get(key) === urgency) this.#urgencies.delete(key);
        }
      },
      signal,
    );
  }

  #derive(
    key: string,
    wanted: readonly ResolvedVariant[],
    why: DeriveFailure,
    priority: number,
    signal: AbortSignal,
    persist = true,
  ): Promise<Map<string, Thumbnail>> {
    const id = `${key}\u0000${wanted.map((v) => v.name).join(',')}\u0000${persist ? 'persist' : 'stand-in'}`;
    return this.#derivations.run(id, (shared) => deriveVariants(this.#ctx, key, wanted, why, priority, shared, persist), signal);
  }

  /** The stored entry as a thumbnail, or none when absent, unreadable or damaged (a miss: the record is regenerated and the entry overwritten). */
  #readStored(key: string, variant: ResolvedVariant, signal: AbortSignal): Promise<StoredThumbnailRead> {
    return readStoredThumbnail(this.#ctx, this.#ctx.options.store, key, variant, 'stored', signal);
  }

  async #placeholder(
    key: string,
    variant: ResolvedVariant,
    hints: PlaceholderHints,
    reason: ErrorCode,
    failures: readonly SourceFailure[],
  ): Promise<Thumbnail> {
    const hash = readThumbHashHint(hints.thumbhash);
    const image = await this.#ctx.placeholders.render(variant, hints, hash);
    return {
      body: image.body,
      contentType: image.contentType,
      width: image.width,
      height: image.height,
      outcome: 'placeholder',
      degraded: true,
      key,
      variant: variant.name,
      reason,
      failures: withIgnoredThumbHash(failures, hash),
      ...(hash?.ok ? { thumbhash: hash.hash.base64 } : {}),
    };
  }
}

/** Create a regenerator. Throws `ConfigError` for an invalid option. */
export function createRegenerator(options: RegeneratorOptions): Regenerator {
  return new Regenerator(options);
}
