/**
 * An append-only text file written in batches: lines are buffered and written with one
 * `write` every `batchLines` lines or `intervalMs`, whichever comes first, then `fdatasync`ed.
 * A line counts as durable once `durable` says so; a crash loses at most the unflushed batch,
 * and a torn last line is the reader's to ignore.
 */
import { open, type FileHandle } from 'node:fs/promises';

export interface AppendLogOptions {
  /** @default 256 */
  batchLines?: number;
  /** @default 1000 */
  intervalMs?: number;
  /** fdatasync after each batch (durable across power loss, not only `kill -9`). @default true */
  sync?: boolean;
  /** Truncate the file first. @default false (append) */
  truncate?: boolean;
  /** A line to end each batch with (e.g. a progress marker), or undefined. */
  trailer?: () => string | undefined;
}

export class AppendLog {
  readonly path: string;
  readonly #handle: FileHandle;
  readonly #batchLines: number;
  readonly #sync: boolean;
  readonly #timer: NodeJS.Timeout;
  readonly #trailer: (() => string | undefined) | undefined;
  #pending: string[] = [];
  #writing: Promise<void> = Promise.resolve();
  #failure: unknown;
  #closed = false;
  /** Lines written and synced so far. */
  #durable = 0;

  private constructor(path: string, handle: FileHandle, options: AppendLogOptions) {
    this.path = path;
    this.#handle = handle;
    this.#batchLines = options.batchLines ?? 256;
    this.#sync = options.sync ?? true;
    this.#trailer = options.trailer;
    this.#timer = setInterval(() => void this.flush().catch(() => {}), options.intervalMs ?? 1000);
    // A batch timer must not keep a finished process alive.
    this.#timer.unref();
  }

  static async open(path: string, options: AppendLogOptions = {}): Promise<AppendLog> {
    const handle = await open(path, options.truncate ? 'w' : 'a');
    return new AppendLog(path, handle, options);
  }

  /** Lines appended so far that are on disk. */
  get durable(): number {
    return this.#durable;
  }

  /** Queue one line (without its newline). Throws if an earlier write failed. */
  append(line: string): void {
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new Error(`${this.path} is closed`);
    this.#pending.push(line);
    if (this.#pending.length >= this.#batchLines) void this.flush().catch(() => {});
  }

  /** Write and sync everything queued so far. Rejects if a write fails. */
  flush(): Promise<void> {
    if (this.#pending.length > 0) {
      const lines = this.#pending;
      this.#pending = [];
      const trailer = this.#trailer?.();
      this.#writing = this.#writing.then(async () => {
        if (this.#failure !== undefined) return;
        try {
          await this.#handle.write(`${lines.join('\n')}\n${trailer === undefined ? '' : `${trailer}\n`}`);
          if (this.#sync) await this.#handle.datasync();
          this.#durable += lines.length;
        } catch (error) {
          this.#failure = error;
        }
      });
    }
    return this.#writing.then(() => {
      if (this.#failure !== undefined) throw this.#failure;
    });
  }

  /** Flush, then close the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return this.#writing;
    clearInterval(this.#timer);
    try {
      await this.flush();
    } finally {
      this.#closed = true;
      await this.#handle.close();
    }
  }
}
