/**
 * The render stage: images in sharp at once. Separate from downloads so a slow origin never
 * holds a CPU slot and a big decode never holds a download slot. Work is admitted by count
 * (`concurrency`) and by decoded pixels (`pixelBudget`, see `pixel-budget.ts`), greater
 * priority first and in arrival order within a priority.
 *
 * Not p-queue: its admission is by count only. Here the head of the line waits until its
 * pixels fit, and nothing behind it overtakes, so a huge source is delayed but never starved.
 */
import { PixelBudget } from './pixel-budget.js';
import type { ScheduleOptions } from './priority.js';

export interface RenderSchedulerOptions {
  /** Images in sharp at once. */
  concurrency: number;
  /** Source pixels (width × height) in sharp at once. @default Infinity (count only) */
  pixelBudget?: number;
}

export interface RenderScheduleOptions extends ScheduleOptions {
  /** Decoded pixels this task will hold (from the image header), for admission by pixel budget. */
  pixels?: number;
}

interface Waiter {
  priority: number;
  pixels: number;
  start(): void;
}

export class RenderScheduler {
  readonly #concurrency: number;
  readonly #budget: PixelBudget;
  /** Sorted by priority, descending; arrival order within a priority. */
  #waiting: Waiter[] = [];
  #running = 0;

  constructor(options: RenderSchedulerOptions) {
    this.#concurrency = options.concurrency;
    this.#budget = new PixelBudget(options.pixelBudget ?? Number.POSITIVE_INFINITY);
  }

  /** Run `task` once a slot and its pixels are free. Rejects with the signal's reason if it aborts first. */
  run<T>(task: () => Promise<T>, options: RenderScheduleOptions): Promise<T> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const pixels = Math.max(0, options.pixels ?? 0);
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiting = this.#waiting.filter((w) => w !== waiter);
        reject(signal?.reason);
        // The head may have been the one blocking the line.
        this.#admit();
      };
      const waiter: Waiter = {
        priority: options.priority,
        pixels,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          this.#running += 1;
          this.#budget.take(pixels);
          let settled: Promise<T>;
          try {
            settled = task();
          } catch (error) {
            settled = Promise.reject(error);
          }
          settled
            .finally(() => {
              this.#running -= 1;
              this.#budget.give(pixels);
              this.#admit();
            })
            .then(resolve, reject);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#enqueue(waiter);
      this.#admit();
    });
  }

  #enqueue(waiter: Waiter): void {
    let at = this.#waiting.length;
    while (at > 0 && this.#waiting[at - 1]!.priority < waiter.priority) at -= 1;
    this.#waiting.splice(at, 0, waiter);
  }

  #admit(): void {
    while (this.#running < this.#concurrency) {
      const head = this.#waiting[0];
      if (!head || !this.#budget.fits(head.pixels)) return;
      this.#waiting.shift();
      head.start();
    }
  }

  get counts(): { rendering: number; rendersQueued: number } {
    return { rendering: this.#running, rendersQueued: this.#waiting.length };
  }

  /** Source pixels held by running work right now. */
  get pixelsRendering(): number {
    return this.#budget.held;
  }

  /** Drop queued work: its promises never settle, as with p-queue's `clear()` (callers' signals end them). */
  clear(): void {
    this.#waiting = [];
  }
}
