/**
 * The scheduler: one per regenerator, shared by `get()` and `rebuild()`. Downloads and sharp
 * work are separate stages with separate caps (see `download-scheduler.ts` and
 * `render-scheduler.ts`).
 */
import { DownloadScheduler, type DownloadScheduleOptions, type DownloadSchedulerOptions, type HostStats } from './download-scheduler.js';
import { RenderScheduler, type RenderScheduleOptions } from './render-scheduler.js';

export { Priority, type ScheduleOptions } from './priority.js';
export type { DownloadObserver, HostStats } from './download-scheduler.js';

export interface SchedulerOptions extends DownloadSchedulerOptions {
  /** Images in sharp at once. */
  renderConcurrency: number;
  /** Source pixels in sharp at once. @default Infinity */
  renderPixelBudget?: number;
}

export class Scheduler {
  readonly downloads: DownloadScheduler;
  readonly renders: RenderScheduler;

  constructor(options: SchedulerOptions) {
    this.downloads = new DownloadScheduler(options);
    this.renders = new RenderScheduler({ concurrency: options.renderConcurrency, pixelBudget: options.renderPixelBudget ?? Number.POSITIVE_INFINITY });
  }

  /** Run a download for `host` within the download caps (global, per host, slow start, breaker, pauses). */
  download<T>(host: string, task: () => Promise<T>, options: DownloadScheduleOptions): Promise<T> {
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

  /** Per-host download state, for metrics. */
  hostStats(): Record<string, HostStats> {
    return this.downloads.hostStats();
  }

  /** Drop queued work (running work finishes on its own signals). */
  clear(): void {
    this.downloads.clear();
    this.renders.clear();
  }

  /** Release the host coordinator (a shared one's connection). */
  close(): Promise<void> {
    return this.downloads.close();
  }
}
