/**
 * The render stage: images in sharp at once. Separate from downloads so a slow origin never
 * holds a CPU slot and a big decode never holds a download slot.
 */
import PQueue from 'p-queue';
import type { ScheduleOptions } from './priority.js';

export interface RenderSchedulerOptions {
  /** Images in sharp at once. */
  concurrency: number;
}

export interface RenderScheduleOptions extends ScheduleOptions {
  /** Decoded pixels this task will hold (from the image header), for admission by pixel budget. */
  pixels?: number;
}

export class RenderScheduler {
  readonly #queue: PQueue;

  constructor(options: RenderSchedulerOptions) {
    this.#queue = new PQueue({ concurrency: options.concurrency });
  }

  run<T>(task: () => Promise<T>, options: RenderScheduleOptions): Promise<T> {
    return this.#queue.add(task, { priority: options.priority, signal: options.signal }) as Promise<T>;
  }

  get counts(): { rendering: number; rendersQueued: number } {
    return { rendering: this.#queue.pending, rendersQueued: this.#queue.size };
  }

  clear(): void {
    this.#queue.clear();
  }
}
