import { describe, expect, it } from 'vitest';
import { PixelBudget } from '../../src/scheduling/pixel-budget.js';
import { RenderScheduler } from '../../src/scheduling/render-scheduler.js';
import { Priority } from '../../src/scheduling/priority.js';
import { readImageHeader, renderVariants } from '../../src/imaging/render-variants.js';
import { makeImage } from '../helpers/images.js';

/** A task that stays running until released, recording what ran at once. */
function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

describe('PixelBudget', () => {
  it('admits while the sum fits, and one oversized holder alone', () => {
    const budget = new PixelBudget(100);
    expect(budget.fits(60)).toBe(true);
    budget.take(60);
    expect(budget.fits(40)).toBe(true);
    expect(budget.fits(41)).toBe(false);
    budget.give(60);
    expect(budget.held).toBe(0);
    expect(budget.fits(1_000)).toBe(true);
    budget.take(1_000);
    expect(budget.fits(1)).toBe(false);
    budget.give(1_000);
    expect(budget.fits(1)).toBe(true);
  });

  it('refuses a non-positive limit', () => {
    expect(() => new PixelBudget(0)).toThrow(RangeError);
  });
});

describe('RenderScheduler', () => {
  it('never holds more pixels than the budget, though slots are free', async () => {
    const scheduler = new RenderScheduler({ concurrency: 8, pixelBudget: 100 });
    const gates = Array.from({ length: 6 }, gate);
    let running = 0;
    let peak = 0;
    let peakPixels = 0;
    const done = gates.map((g) =>
      scheduler.run(
        async () => {
          running += 1;
          peak = Math.max(peak, running);
          peakPixels = Math.max(peakPixels, scheduler.pixelsRendering);
          await g.promise;
          running -= 1;
        },
        { priority: Priority.batch, pixels: 40 },
      ),
    );
    await flush();
    expect(scheduler.counts).toEqual({ rendering: 2, rendersQueued: 4 });
    for (const g of gates) {
      g.open();
      await flush();
    }
    await Promise.all(done);
    expect(peak).toBe(2);
    expect(peakPixels).toBeLessThanOrEqual(100);
    expect(scheduler.counts).toEqual({ rendering: 0, rendersQueued: 0 });
  });

  it('runs a source larger than the whole budget alone instead of deadlocking', async () => {
    const scheduler = new RenderScheduler({ concurrency: 4, pixelBudget: 100 });
    const big = gate();
    const order: string[] = [];
    const huge = scheduler.run(async () => {
      order.push('huge:start');
      await big.promise;
      order.push('huge:end');
    }, { priority: Priority.batch, pixels: 500 });
    const small = scheduler.run(async () => {
      order.push('small');
    }, { priority: Priority.batch, pixels: 10 });
    await flush();
    expect(scheduler.counts).toEqual({ rendering: 1, rendersQueued: 1 });
    big.open();
    await Promise.all([huge, small]);
    expect(order).toEqual(['huge:start', 'huge:end', 'small']);
  });

  it('does not let small work overtake a waiting huge source (no starvation)', async () => {
    const scheduler = new RenderScheduler({ concurrency: 4, pixelBudget: 100 });
    const first = gate();
    const order: string[] = [];
    const a = scheduler.run(async () => {
      await first.promise;
      order.push('a');
    }, { priority: Priority.batch, pixels: 60 });
    const huge = scheduler.run(async () => {
      order.push('huge');
    }, { priority: Priority.batch, pixels: 90 });
    const small = scheduler.run(async () => {
      order.push('small');
    }, { priority: Priority.batch, pixels: 10 });
    await flush();
    // `small` would fit beside `a`, but `huge` is ahead of it.
    expect(order).toEqual([]);
    first.open();
    await Promise.all([a, huge, small]);
    expect(order).toEqual(['a', 'huge', 'small']);
  });

  it('runs greater priority first, and caps by count', async () => {
    const scheduler = new RenderScheduler({ concurrency: 1 });
    const first = gate();
    const order: string[] = [];
    const tasks = [
      scheduler.run(async () => {
        await first.promise;
        order.push('running');
      }, { priority: Priority.batch }),
      scheduler.run(async () => void order.push('batch'), { priority: Priority.batch }),
      scheduler.run(async () => void order.push('onDemand'), { priority: Priority.onDemand }),
    ];
    await flush();
    expect(scheduler.counts).toEqual({ rendering: 1, rendersQueued: 2 });
    first.open();
    await Promise.all(tasks);
    expect(order).toEqual(['running', 'onDemand', 'batch']);
  });

  it('rejects a waiting task with its signal\'s reason and lets the next one in', async () => {
    const scheduler = new RenderScheduler({ concurrency: 1, pixelBudget: 100 });
    const first = gate();
    const running = scheduler.run(() => first.promise, { priority: Priority.batch, pixels: 100 });
    const controller = new AbortController();
    const waiting = scheduler.run(async () => 'never', { priority: Priority.batch, pixels: 100, signal: controller.signal });
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(scheduler.counts.rendersQueued).toBe(0);
    first.open();
    await running;
    await expect(scheduler.run(async () => 'late', { priority: Priority.batch, signal: controller.signal })).rejects.toBe(reason);
  });

  it('passes a task\'s failure through and frees its pixels', async () => {
    const scheduler = new RenderScheduler({ concurrency: 2, pixelBudget: 10 });
    await expect(scheduler.run(async () => {
      throw new Error('boom');
    }, { priority: Priority.batch, pixels: 10 })).rejects.toThrow('boom');
    expect(scheduler.pixelsRendering).toBe(0);
    await expect(scheduler.run(async () => 'ok', { priority: Priority.batch, pixels: 10 })).resolves.toBe('ok');
  });

  it('keeps real sharp renders of huge sources within the budget', async () => {
    // Three 12-megapixel sources, a 20-megapixel budget, four slots: one at a time.
    const source = await makeImage('png', 4000, 3000);
    const header = await readImageHeader(source, { maxPixels: 1e8 });
    const pixels = header.width * header.height;
    const scheduler = new RenderScheduler({ concurrency: 4, pixelBudget: 20_000_000 });
    const variants = [{ name: 'small', width: 64, height: 64, fit: 'cover' as const }];
    let concurrent = 0;
    let peak = 0;
    const renders = Array.from({ length: 3 }, () =>
      scheduler.run(async () => {
        concurrent += 1;
        peak = Math.max(peak, concurrent);
        try {
          return await renderVariants(source, variants, { format: 'webp', quality: 80, maxPixels: 1e8, header });
        } finally {
          concurrent -= 1;
        }
      }, { priority: Priority.batch, pixels }),
    );
    const results = await Promise.all(renders);
    expect(results.every((r) => r.get('small')?.width === 64)).toBe(true);
    expect(peak).toBe(1);
  });
});
