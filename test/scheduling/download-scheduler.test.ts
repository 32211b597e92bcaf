/**
 * The download scheduler with synthetic tasks (no sockets): caps, priorities, breaker and pauses.
 * Origin-level behaviour (counted at real loopback servers) is in test/regenerator/politeness-*.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes, HttpStatusError } from '../../src/errors.js';
import { DownloadScheduler, type DownloadSchedulerOptions } from '../../src/scheduling/download-scheduler.js';
import { Priority } from '../../src/scheduling/priority.js';
import { Urgency } from '../../src/scheduling/urgency.js';

function scheduler(overrides: Partial<DownloadSchedulerOptions> = {}): DownloadScheduler {
  return new DownloadScheduler({
    concurrency: 4,
    perHost: { concurrency: 2, initialConcurrency: 2, intervalMs: undefined, intervalCap: undefined },
    circuitBreaker: { failures: 3, coolDownMs: 60_000 },
    maxRetryAfterMs: 30_000,
    ...overrides,
  });
}

/** Tasks that stay running until released, counting how many run at once. */
function gate() {
  const running = new Map<string, number>();
  let total = 0;
  let maxTotal = 0;
  const maxByHost = new Map<string, number>();
  const started: string[] = [];
  const releases: Array<() => void> = [];
  const task = (host: string, label: string) => () =>
    new Promise<string>((resolve) => {
      started.push(label);
      total += 1;
      maxTotal = Math.max(maxTotal, total);
      const now = (running.get(host) ?? 0) + 1;
      running.set(host, now);
      maxByHost.set(host, Math.max(maxByHost.get(host) ?? 0, now));
      releases.push(() => {
        total -= 1;
        running.set(host, (running.get(host) ?? 1) - 1);
        resolve(label);
      });
    });
  /** Let every running task finish, until none is left (bounded). */
  const drain = async (): Promise<void> => {
    for (let round = 0; round < 200 && (releases.length > 0 || total > 0); round += 1) {
      for (const release of releases.splice(0)) release();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  };
  const tick = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));
  return { task, drain, tick, started, releases, maxByHost, get maxTotal() { return maxTotal; } };
}

const opts = (url: string, priority: number = Priority.batch) => ({ url, priority });

describe('DownloadScheduler', () => {
  it('holds the global cap across hosts and the per-host cap per host', async () => {
    const s = scheduler({ concurrency: 5 });
    const g = gate();
    const all = ['a', 'b', 'c'].flatMap((host) => Array.from({ length: 6 }, (_, i) => s.run(host, g.task(host, `${host}${i}`), opts(`http://${host}/${i}`))));
    await g.tick();
    expect(g.started).toHaveLength(5);
    await g.drain();
    await Promise.all(all);
    expect(g.maxTotal).toBe(5);
    for (const host of ['a', 'b', 'c']) expect(g.maxByHost.get(host)).toBe(2);
  });

  it('a paused host does not hold global slots: others keep going', async () => {
    const s = scheduler({ concurrency: 2, maxRetryAfterMs: 60_000 });
    // Host a answers 429 with a long Retry-After: it is paused.
    await expect(s.run('a', async () => Promise.reject(new HttpStatusError('http://a/0', 429, '60')), opts('http://a/0'))).rejects.toMatchObject({ status: 429 });
    expect(s.hostStats().a?.pausedUntil).toBeGreaterThan(Date.now() + 50_000);
    const g = gate();
    const controller = new AbortController();
    const waiting = Array.from({ length: 3 }, (_, i) => s.run('a', g.task('a', `a${i}`), { ...opts(`http://a/${i}`), signal: controller.signal }));
    const others = Array.from({ length: 4 }, (_, i) => s.run('b', g.task('b', `b${i}`), opts(`http://b/${i}`)));
    await g.tick();
    expect(g.started.filter((l) => l.startsWith('b'))).toHaveLength(2);
    await g.drain();
    expect(await Promise.all(others)).toHaveLength(4);
    expect(g.started.some((l) => l.startsWith('a'))).toBe(false);
    controller.abort(new Error('done'));
    await Promise.allSettled(waiting);
  });

  it('runs on-demand work before queued batch work, and a raised urgency jumps the queue', async () => {
    const s = scheduler({ concurrency: 1, perHost: { concurrency: 1, initialConcurrency: 1, intervalMs: undefined, intervalCap: undefined } });
    const g = gate();
    const first = s.run('a', g.task('a', 'batch-0'), opts('http://a/0'));
    const batch = [1, 2, 3].map((i) => s.run('a', g.task('a', `batch-${i}`), opts(`http://a/${i}`)));
    const urgency = new Urgency(Priority.batch);
    const joined = s.run('a', g.task('a', 'joined'), { ...opts('http://a/j'), urgency });
    const onDemand = s.run('a', g.task('a', 'get'), opts('http://a/g', Priority.onDemand));
    urgency.raise(Priority.onDemand);
    await g.tick();
    await g.drain();
    await Promise.all([first, ...batch, joined, onDemand]);
    expect(g.started).toEqual(['batch-0', 'get', 'joined', 'batch-1', 'batch-2', 'batch-3']);
  });

  it('opens the circuit after N consecutive transient failures and refuses at once, without running the task', async () => {
    const s = scheduler({ circuitBreaker: { failures: 2, coolDownMs: 60_000 } });
    const circuits: string[] = [];
    const observed = new DownloadScheduler({
      concurrency: 4,
      perHost: { concurrency: 2, initialConcurrency: 2, intervalMs: undefined, intervalCap: undefined },
      circuitBreaker: { failures: 2, coolDownMs: 60_000 },
      maxRetryAfterMs: 30_000,
      observer: { circuit: (e) => circuits.push(`${e.host}:${e.state}`) },
    });
    for (const sched of [s, observed]) {
      for (let i = 0; i < 2; i += 1) {
        await expect(sched.run('a', async () => Promise.reject(new HttpStatusError('http://a/x', 502)), opts('http://a/x'))).rejects.toMatchObject({ status: 502 });
      }
      let ran = false;
      await expect(
        sched.run('a', async () => {
          ran = true;
        }, opts('http://a/y')),
      ).rejects.toMatchObject({ code: ErrorCodes.ORIGIN_UNAVAILABLE, host: 'a' });
      expect(ran).toBe(false);
      expect(sched.hostStats().a?.circuit).toBe('open');
      // Other hosts are unaffected.
      await expect(sched.run('b', async () => 'fine', opts('http://b/1'))).resolves.toBe('fine');
    }
    expect(circuits).toEqual(['a:open']);
  });

  it('a host answering 404s is healthy and ramps up', async () => {
    const limits: number[] = [];
    const s = scheduler({
      circuitBreaker: { failures: 2, coolDownMs: 60_000 },
      perHost: { concurrency: 3, initialConcurrency: 1, intervalMs: undefined, intervalCap: undefined },
      observer: { hostLimit: (e) => limits.push(e.limit) },
    });
    for (let i = 0; i < 5; i += 1) {
      await expect(s.run('a', async () => Promise.reject(new HttpStatusError('http://a/x', 404)), opts('http://a/x'))).rejects.toMatchObject({ status: 404 });
    }
    expect(s.hostStats().a).toMatchObject({ circuit: 'closed', limit: 3, cap: 3 });
    expect(limits).toEqual([2, 3]);
  });

  it('caps a Retry-After pause at maxRetryAfterMs', async () => {
    const s = scheduler({ maxRetryAfterMs: 100 });
    const failed = Date.now();
    await expect(s.run('a', async () => Promise.reject(new HttpStatusError('http://a/0', 503, '3600')), opts('http://a/0'))).rejects.toMatchObject({ status: 503 });
    const pausedUntil = s.hostStats().a?.pausedUntil ?? 0;
    expect(pausedUntil).toBeGreaterThan(failed);
    expect(pausedUntil).toBeLessThanOrEqual(Date.now() + 100);
    let ranAt = 0;
    await s.run('a', async () => {
      ranAt = Date.now();
    }, opts('http://a/1'));
    expect(ranAt).toBeGreaterThanOrEqual(pausedUntil);
  });
});
