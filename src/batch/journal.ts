/**
 * The resume journal of a batch job: an append-only JSON Lines file. The first line names the
 * job (manifest fingerprint, variants, format, quality); each later line is one finished
 * record, by its manifest index, with its outcome and bytes — and, for a record that fell back,
 * the record itself, the reason and the failure class, so the fallback report can be rebuilt
 * from the journal alone. Batches end with an `{"elapsed":ms}` marker so a resumed job's
 * duration and throughput count every run.
 *
 * A record is finished once its line is on disk. After `kill -9`, at most the unflushed batch is
 * lost and redone; a torn last line is ignored and cut off before appending again.
 */
import { mkdir, open, truncate } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { dirname } from 'node:path';
import { JournalError, type ErrorCode, type TimeoutPhase } from '../errors.js';
import type { FailureClass } from '../failure-class.js';
import type { RecordOutcome, RecordResult } from '../regenerator/rebuild-types.js';
import type { ThumbRecord } from '../types.js';
import { AppendLog, type AppendLogOptions } from './append-log.js';
import { IndexBitmap } from './index-bitmap.js';
import { fingerprintMismatch, type ManifestFingerprint } from './manifest-fingerprint.js';
import { readLines } from './read-lines.js';

/** What must match for a journal to be resumed: the same manifest, the same output. */
export interface JobIdentity {
  /** Undefined for a manifest read from stdin (which cannot be resumed). */
  manifest: ManifestFingerprint | undefined;
  /** Variants, format and quality, as a stable JSON value. */
  output: unknown;
  /**
   * The caller's own record of how the job was started (the CLI: its flags, restored by
   * `--resume`). Kept in the header, never compared here.
   */
  settings?: unknown;
}

/** The first line of a journal. */
export interface JournalHeader {
  rethumbJournal: 1;
  manifest?: ManifestFingerprint;
  output: unknown;
  settings?: unknown;
  createdAt: string;
}

/** A failure as kept in the journal and the fallback report. */
export interface JournalFailure {
  source: string;
  code: ErrorCode;
  status?: number;
  message?: string;
  /** The option that refused the source, for a refusal by configuration (see `SourceFailure`). */
  refusedBy?: string;
  /** The host the address policy refused (see `SourceFailure`). */
  refusedHost?: string;
  /** For `RETHUMB_TIMEOUT`: the deadline that passed and its limit (see `SourceFailure`). */
  phase?: TimeoutPhase;
  timeoutMs?: number;
}

/** One finished record, as a journal line. */
export interface JournalEntry {
  /** Manifest index. */
  i: number;
  o: RecordOutcome;
  /** Bytes downloaded. */
  d: number;
  /** Bytes written. */
  w: number;
  /** Manifest line (fallbacks only). */
  l?: number;
  /** Store key (fallbacks, and records with a ThumbHash). */
  k?: string;
  /** Reason (fallbacks only). */
  r?: ErrorCode;
  /** Failure class (fallbacks only). */
  c?: FailureClass;
  /** When it failed, epoch ms (fallbacks only). */
  t?: number;
  /** The record (fallbacks only). */
  rec?: ThumbRecord;
  /** Source failures (fallbacks only). */
  f?: JournalFailure[];
  /** The source's ThumbHash, base64 (records rendered from a source), for `--hashes`. */
  h?: string;
}

/** What a resumed journal says about the runs so far. */
export interface JournalState {
  /** Manifest indices already finished. */
  done: IndexBitmap;
  /** Active time of the runs so far, ms. */
  elapsedMs: number;
  /** Lines that could not be read (a torn last line after a crash): their records are redone. */
  unreadable: number;
}

const MAX_MESSAGE = 300;

export class Journal {
  readonly path: string;
  readonly #log: AppendLog;

  private constructor(path: string, log: AppendLog) {
    this.path = path;
    this.#log = log;
  }

  /** Start a new journal at `path` (replacing any), for `job`. */
  static async create(path: string, job: JobIdentity, options: Omit<AppendLogOptions, 'truncate'> = {}): Promise<Journal> {
    await mkdir(dirname(path), { recursive: true });
    const header: JournalHeader = {
      rethumbJournal: 1,
      ...(job.manifest ? { manifest: job.manifest } : {}),
      output: job.output,
      ...(job.settings === undefined ? {} : { settings: job.settings }),
      createdAt: new Date().toISOString(),
    };
    const log = await AppendLog.open(path, { ...options, truncate: true });
    log.append(JSON.stringify(header));
    await log.flush();
    return new Journal(path, log);
  }

  /**
   * Open the journal at `path` to continue its job. Calls `onEntry` for every finished record
   * (to seed a report) and returns the finished indices. Throws `JournalError` when there is no
   * journal, or it belongs to another manifest or another output.
   */
  static async resume(
    path: string,
    job: JobIdentity,
    onEntry: (entry: JournalEntry) => void,
    options: Omit<AppendLogOptions, 'truncate'> = {},
  ): Promise<{ journal: Journal; state: JournalState }> {
    const state = await readJournalState(path, job, onEntry);
    await cutTornTail(path);
    const log = await AppendLog.open(path, options);
    return { journal: new Journal(path, log), state };
  }

  /** Journal a finished record. `failureClass` and `now` matter for fallbacks only. */
  add(index: number, line: number, result: RecordResult, failureClass: FailureClass | undefined, now: number): void {
    const entry: JournalEntry = { i: index, o: result.outcome, d: result.bytesDownloaded, w: result.bytesWritten };
    // Always journaled (~80 bytes), so a hashes file written by any later run of the job, a
    // resumed one included, holds every record rendered so far.
    if (result.thumbhash !== undefined) {
      entry.k = result.key;
      entry.h = result.thumbhash;
    }
    if (result.outcome === 'derived' || result.outcome === 'placeholder') {
      entry.l = line;
      entry.k = result.key;
      if (result.reason !== undefined) entry.r = result.reason;
      if (failureClass !== undefined) entry.c = failureClass;
      entry.t = now;
      entry.rec = result.record;
      entry.f = (result.failures ?? []).map((f) => ({
        source: f.source,
        code: f.code,
        ...(f.status === undefined ? {} : { status: f.status }),
        ...(f.refusedBy === undefined ? {} : { refusedBy: f.refusedBy }),
        ...(f.refusedHost === undefined ? {} : { refusedHost: f.refusedHost }),
        ...(f.phase === undefined ? {} : { phase: f.phase }),
        ...(f.timeoutMs === undefined ? {} : { timeoutMs: f.timeoutMs }),
        message: f.message.length > MAX_MESSAGE ? `${f.message.slice(0, MAX_MESSAGE - 3)}...` : f.message,
      }));
    }
    this.#log.append(JSON.stringify(entry));
  }

  /** Records journaled by this run that are on disk. */
  get durable(): number {
    return this.#log.durable;
  }

  flush(): Promise<void> {
    return this.#log.flush();
  }

  close(): Promise<void> {
    return this.#log.close();
  }

  /** An `{"elapsed":ms}` marker line, for `AppendLogOptions.trailer`. */
  static elapsedMarker(elapsedMs: number): string {
    return JSON.stringify({ elapsed: Math.round(elapsedMs) });
  }
}

/**
 * The header of the journal at `path`, or undefined when there is none (no file, or not a
 * journal). Reads the first line only.
 */
export async function readJournalHeader(path: string): Promise<JournalHeader | undefined> {
  try {
    for await (const { text } of readLines(createReadStream(path), 16 * 1_048_576)) {
      const header = text === undefined ? undefined : (safeParse(text) as JournalHeader | undefined);
      return header?.rethumbJournal === 1 ? header : undefined;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return undefined;
}

/** Every finished-record line of the journal at `path`, in order (header, markers and unreadable lines skipped). */
export async function* readJournal(path: string): AsyncGenerator<JournalEntry> {
  let first = true;
  for await (const { text } of readLines(createReadStream(path), 16 * 1_048_576)) {
    if (first) {
      first = false;
      continue;
    }
    const entry = parseEntry(text);
    if (entry) yield entry;
  }
}

async function readJournalState(path: string, job: JobIdentity, onEntry: (entry: JournalEntry) => void): Promise<JournalState> {
  const done = new IndexBitmap();
  let elapsedMs = 0;
  let unreadable = 0;
  let header: JournalHeader | undefined;
  try {
    for await (const { text } of readLines(createReadStream(path), 16 * 1_048_576)) {
      if (header === undefined) {
        header = parseHeader(path, text);
        checkJob(path, header, job);
        continue;
      }
      if (text === undefined || text === '') continue;
      if (text.startsWith('{"elapsed"')) {
        const marker = safeParse(text) as { elapsed?: unknown } | undefined;
        if (typeof marker?.elapsed === 'number') elapsedMs = marker.elapsed;
        continue;
      }
      const entry = parseEntry(text);
      if (!entry) {
        unreadable += 1;
        continue;
      }
      if (done.has(entry.i)) continue;
      done.add(entry.i);
      onEntry(entry);
    }
  } catch (error) {
    if (error instanceof JournalError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new JournalError(path, 'there is no journal to resume (run without --resume first)', error);
    throw new JournalError(path, `it cannot be read: ${(error as Error).message}`, error);
  }
  if (header === undefined) throw new JournalError(path, 'the journal is empty');
  return { done, elapsedMs, unreadable };
}

function parseHeader(path: string, text: string | undefined): JournalHeader {
  const header = text === undefined ? undefined : (safeParse(text) as JournalHeader | undefined);
  if (header?.rethumbJournal !== 1) throw new JournalError(path, 'it is not a rethumb journal');
  return header;
}

function checkJob(path: string, header: JournalHeader, job: JobIdentity): void {
  if (!job.manifest || !header.manifest) throw new JournalError(path, 'a manifest read from stdin cannot be resumed; pass it as a file');
  if (header.manifest.path !== job.manifest.path) {
    throw new JournalError(path, `it belongs to another manifest (${header.manifest.path}, not ${job.manifest.path})`);
  }
  const why = fingerprintMismatch(header.manifest, job.manifest);
  if (why) throw new JournalError(path, `the manifest is not the one the journal was started with: ${why}`);
  if (JSON.stringify(header.output) !== JSON.stringify(job.output)) {
    throw new JournalError(path, `it was started with other output settings (${describeOutput(header.output)}, not ${describeOutput(job.output)})`);
  }
}

/** `variants small=150x150:cover large=800x, format webp, quality 80` for an output identity. */
function describeOutput(output: unknown): string {
  const { variants, format, quality } = (output ?? {}) as { variants?: Record<string, { width?: number; height?: number; fit?: string }>; format?: string; quality?: number | null };
  const sizes = Object.entries(variants ?? {}).map(([name, v]) => `${name}=${v.width ?? ''}x${v.height ?? ''}${v.fit ? `:${v.fit}` : ''}`);
  return `variants ${sizes.join(' ')}, format ${format ?? 'webp'}, quality ${quality ?? 'default'}`;
}

function parseEntry(text: string | undefined): JournalEntry | undefined {
  if (text === undefined || !text.startsWith('{"i":')) return undefined;
  const entry = safeParse(text) as JournalEntry | undefined;
  return entry && Number.isInteger(entry.i) && entry.i >= 0 && typeof entry.o === 'string' ? entry : undefined;
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Cut a torn last line (a crash mid-write), so the next append starts on a line of its own. */
async function cutTornTail(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return;
    const tail = Buffer.alloc(Math.min(size, 1_048_576));
    await handle.read(tail, 0, tail.length, size - tail.length);
    if (tail[tail.length - 1] === 0x0a) return;
    const lastNewline = tail.lastIndexOf(0x0a);
    const keep = lastNewline === -1 ? size - tail.length : size - tail.length + lastNewline + 1;
    await handle.close();
    await truncate(path, keep);
    return;
  } finally {
    await handle.close().catch(() => {});
  }
}
