/**
 * The download stage: sources downloading at once, across all hosts. On-demand work (`get()`)
 * runs ahead of batch work so a running rebuild never starves the request path.
 */
import PQueue from 'p-queue';
import type { ScheduleOptions } from './priority.js';

export interface DownloadSchedulerOptions {
  /** Sources downloading at once, across all hosts. */
  concurrency: number;
}

export class DownloadScheduler {
  readonly #queue: PQueue;

  constructor(options: DownloadSchedulerOptions) {
    this.#queue = new PQueue({ concurrency: options.concurrency });
  }

  /** Run a download for `host` within the caps. */
  run<T>(_host: string, task: () => Promise<T>, options: ScheduleOptions): Promise<T> {
    return this.#queue.add(task, { priority: options.priority, signal: options.signal }) as Promise<T>;
  }

  get counts(): { downloading: number; downloadsQueued: number } {
    return { downloading: this.#queue.pending, downloadsQueued: this.#queue.size };
  }

  clear(): void {
    this.#queue.clear();
  }
}
