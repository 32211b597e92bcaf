/**
 * The download byte budget with synthetic tasks (no sockets): downloads start only while the
 * bytes of downloaded-but-unrendered sources are under the budget, on-demand ones first, and a
 * source larger than the whole budget still goes through.
 */
import { describe, expect, it } from 'vitest';
import type { ByteHold } from '../../src/scheduling/byte-budget.js';
import { DownloadScheduler } from '../../src/scheduling/download-scheduler.js';
import { Priority } from '../../src/scheduling/priority.js';

function scheduler(byteBudget: number, concurrency = 1): DownloadScheduler {
  return new DownloadScheduler({
    concurrency,
    perHost: { concurrency, initialConcurrency: concurrency, intervalMs: undefined, intervalCap: undefined },
    circuitBreaker: { failures: 3, coolDownMs: 60_000 },
    maxRetryAfterMs: 30_000,
    byteBudget,
  });
}

const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe('DownloadScheduler: byte budget', () => {
  it('starts nothing while held bytes fill the budget, then resumes on-demand work first', async () => {
    const s = scheduler(100);
    const started: string[] = [];
    const holds = new Map<string, ByteHold>();
    // A download: its body is allocated once its headers are in (a turn later), and held after it ends.
    const download = (label: string, bytes: number, priority: number = Priority.batch): Promise<void> =>
      s.run(
        'a',
        async () => {
          started.push(label);
          await tick();
          const hold = s.holdSource();
          hold.set(bytes);
          holds.set(label, hold);
        },
        { url: `http://a/${label}`, priority },
      );

    // Larger than the whole budget: it starts because nothing is held, and completes.
    await download('huge', 150);
    expect(s.sourceBytes).toBe(150);
    const queued = [download('batch-1', 60), download('batch-2', 60), download('get', 60, Priority.onDemand)];
    await tick();
    await tick();
    expect(started).toEqual(['huge']);

    // Its render ends: the on-demand download goes first, then batch work until the budget is full.
    holds.get('huge')!.release();
    await Promise.all(queued.slice(0, 1).concat(queued[2]!));
    await tick();
    expect(started).toEqual(['huge', 'get', 'batch-1']);
    expect(s.sourceBytes).toBe(120);

    holds.get('get')!.release();
    await Promise.all(queued);
    expect(started).toEqual(['huge', 'get', 'batch-1', 'batch-2']);
    for (const hold of holds.values()) hold.release();
    expect(s.sourceBytes).toBe(0);
  });

  it('never stops a download that has started: all in flight finish past the budget, then it waits', async () => {
    const s = scheduler(100, 4);
    const started: string[] = [];
    const holds: ByteHold[] = [];
    const run = (label: string): Promise<void> =>
      s.run(
        label,
        async () => {
          started.push(label);
          await tick();
          const hold = s.holdSource();
          hold.set(80);
          holds.push(hold);
        },
        { url: `http://${label}/`, priority: Priority.batch },
      );
    const first = ['a', 'b', 'c', 'd'].map(run);
    await Promise.all(first);
    // All four started while nothing was held; together they pass the budget, as the bound allows.
    expect(s.sourceBytes).toBe(320);
    const later = run('e');
    await tick();
    expect(started).not.toContain('e');
    for (const hold of holds.splice(0)) hold.release();
    await later;
    expect(started).toContain('e');
  });
});
