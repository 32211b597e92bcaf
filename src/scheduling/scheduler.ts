/**
 * The scheduler: one per regenerator, shared by `get()` and `rebuild()`. Downloads and sharp
 * work are separate stages with separate caps, so a slow origin never holds a CPU slot and a
 * big decode never holds a download slot. On-demand work (`get()`) is served ahead of batch
 * work so a running rebuild never starves the request path.
 */
import PQueue from 'p-queue';

/** Work priorities: greater runs first. */
export const Priority = Object.freeze({
  /** `get()` on the request path. */
  onDemand: 1,
  /** `rebuild()` and background completions. */
  batch: 0,
});

export interface SchedulerOptions {
  /** Sources downloading at once, across all hosts. */
  concurrency: number;
  /** Images in sharp at once. */
  renderConcurrency: number;
}

export interface ScheduleOptions {
  priority: number;
  signal?: AbortSignal;
}

export class Scheduler {
  readonly #downloads: PQueue;
  readonly #renders: PQueue;

  constructor(options: SchedulerOptions) {
    this.#downloads = new PQueue({ concurrency: options.concurrency });
    this.#renders = new PQueue({ concurrency: options.renderConcurrency });
  }

  /** Run a download for `host` within the download caps. */
  download<T>(_host: string, task: () => Promise<T>, options: ScheduleOptions): Promise<T> {
    return this.#downloads.add(task, { priority: options.priority, signal: options.signal }) as Promise<T>;
  }

  /** Run sharp work within the render cap. */
  render<T>(task: () => Promise<T>, options: ScheduleOptions): Promise<T> {
    return this.#renders.add(task, { priority: options.priority, signal: options.signal }) as Promise<T>;
  }

  /** In-flight and queued counts, for stats. */
  get counts(): { downloading: number; downloadsQueued: number; rendering: number; rendersQueued: number } {
    return {
      downloading: this.#downloads.pending,
      downloadsQueued: this.#downloads.size,
      rendering: this.#renders.pending,
      rendersQueued: this.#renders.size,
    };
  }

  /** Drop queued work (running work finishes on its own signals). */
  clear(): void {
    this.#downloads.clear();
    this.#renders.clear();
  }
}
