/**
 * The scheduler: one per regenerator, shared by `get()` and `rebuild()`. Downloads and sharp
 * work are separate stages with separate caps (see `download-scheduler.ts` and
 * `render-scheduler.ts`).
 */
import { DownloadScheduler } from './download-scheduler.js';
import type { ScheduleOptions } from './priority.js';
import { RenderScheduler, type RenderScheduleOptions } from './render-scheduler.js';

export { Priority, type ScheduleOptions } from './priority.js';

export interface SchedulerOptions {
  /** Sources downloading at once, across all hosts. */
  concurrency: number;
  /** Images in sharp at once. */
  renderConcurrency: number;
  /** Source pixels in sharp at once. @default Infinity */
  renderPixelBudget?: number;
}

export class Scheduler {
  readonly downloads: DownloadScheduler;
  readonly renders: RenderScheduler;

  constructor(options: SchedulerOptions) {
    this.downloads = new DownloadScheduler({ concurrency: options.concurrency });
    this.renders = new RenderScheduler({ concurrency: options.renderConcurrency, pixelBudget: options.renderPixelBudget ?? Number.POSITIVE_INFINITY });
  }

  /** Run a download for `host` within the download caps. */
  download<T>(host: string, task: () => Promise<T>, options: ScheduleOptions): Promise<T> {
    return this.downloads.run(host, task, options);
  }

  /** Run sharp work within the render caps. */
  render<T>(task: () => Promise<T>, options: RenderScheduleOptions): Promise<T> {
    return this.renders.run(task, options);
  }

  /** In-flight and queued counts, for stats. */
  get counts(): { downloading: number; downloadsQueued: number; rendering: number; rendersQueued: number } {
    return { ...this.downloads.counts, ...this.renders.counts };
  }

  /** Drop queued work (running work finishes on its own signals). */
  clear(): void {
    this.downloads.clear();
    this.renders.clear();
  }
}
