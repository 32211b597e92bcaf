import { describe, expect, it } from 'vitest';
import { SharedWork } from '../../src/regenerator/shared-work.js';

/** A work function whose completion the test controls, recording the signals it was given. */
function controllable(): { work: (signal: AbortSignal) => Promise<string>; signals: AbortSignal[]; finish(value: string): void } {
  const signals: AbortSignal[] = [];
  const resolvers: Array<(value: string) => void> = [];
  return {
    signals,
    work: (signal) =>
      new Promise<string>((resolve, reject) => {
        signals.push(signal);
        resolvers.push(resolve);
        signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      }),
    finish: (value) => resolvers.forEach((resolve) => resolve(value)),
  };
}

describe('SharedWork', () => {
  it('runs one work for concurrent callers of one key and forgets it when done', async () => {
    const shared = new SharedWork<string>();
    const w = controllable();
    const all = Promise.all([shared.run('k', w.work), shared.run('k', w.work), shared.run('k', w.work)]);
    expect(w.signals).toHaveLength(1);
    expect(shared.size).toBe(1);
    w.finish('done');
    expect(await all).toEqual(['done', 'done', 'done']);
    expect(shared.size).toBe(0);
  });

  it("one caller's abort leaves the work running for the others", async () => {
    const shared = new SharedWork<string>();
    const w = controllable();
    const impatient = new AbortController();
    const first = shared.run('k', w.work, impatient.signal);
    const second = shared.run('k', w.work);
    impatient.abort(new Error('left'));
    await expect(first).rejects.toThrow('left');
    expect(w.signals[0]!.aborted).toBe(false);
    w.finish('done');
    expect(await second).toBe('done');
  });

  it('cancels the work when its last waiter leaves, and a newcomer starts afresh', async () => {
    const shared = new SharedWork<string>();
    const w = controllable();
    const a = new AbortController();
    const b = new AbortController();
    const first = shared.run('k', w.work, a.signal);
    const second = shared.run('k', w.work, b.signal);
    a.abort(new Error('a left'));
    b.abort(new Error('b left'));
    expect(w.signals[0]!.aborted).toBe(true);
    // Arrives in the same tick, while the cancelled work is still settling: it must not inherit that abort.
    const third = shared.run('k', w.work);
    expect(w.signals).toHaveLength(2);
    await expect(first).rejects.toThrow('a left');
    await expect(second).rejects.toThrow('b left');
    w.finish('fresh');
    expect(await third).toBe('fresh');
    expect(shared.size).toBe(0);
  });

  it('abortAll cancels work that nobody waits on with a signal', async () => {
    const shared = new SharedWork<string>();
    const w = controllable();
    const pending = shared.run('k', w.work);
    shared.abortAll(new Error('closing'));
    await expect(pending).rejects.toThrow('closing');
    await shared.settled();
    expect(shared.size).toBe(0);
  });
});
