/**
 * The in-process coordinator: the shared contract, and one coordinator shared by several
 * download schedulers (what `rethumb rebuild --processes N` does through its parent) holds the
 * per-host cap across all of them, in priority order.
 */
import { describe, expect, it } from 'vitest';
import { DownloadScheduler } from '../../src/scheduling/download-scheduler.js';
import { LocalHostCoordinator } from '../../src/scheduling/local-host-coordinator.js';
import { Priority } from '../../src/scheduling/priority.js';
import { describeHostCoordinator, settings } from './host-coordinator-contract.js';

let hosts = 0;
describeHostCoordinator('LocalHostCoordinator', (s) => new LocalHostCoordinator(s), () => `h${(hosts += 1)}`);

describe('LocalHostCoordinator shared by several schedulers', () => {
  it('holds the per-host cap across every scheduler sharing it', async () => {
    const shared = new LocalHostCoordinator(settings({ perHost: { concurrency: 3, initialConcurrency: 3, intervalMs: undefined, intervalCap: undefined } }));
    const schedulers = [0, 1, 2].map(
      () =>
        new DownloadScheduler({
          concurrency: 10,
          perHost: { concurrency: 3, initialConcurrency: 3, intervalMs: undefined, intervalCap: undefined },
          circuitBreaker: { failures: 3, coolDownMs: 1_000 },
          maxRetryAfterMs: 1_000,
          coordinator: () => shared,
        }),
    );
    let inFlight = 0;
    let max = 0;
    const task = async () => {
      inFlight += 1;
      max = Math.max(max, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 20));
      inFlight -= 1;
    };
    await Promise.all(schedulers.flatMap((s, n) => Array.from({ length: 6 }, (_, i) => s.run('a', task, { url: `http://a/${n}-${i}`, priority: Priority.batch }))));
    expect(max).toBe(3);
    expect(shared.state('a')).toMatchObject({ inFlight: 0, limit: 3 });
  });

  it('orders waiters from different schedulers by priority', async () => {
    const shared = new LocalHostCoordinator(settings({ perHost: { concurrency: 1, initialConcurrency: 1, intervalMs: undefined, intervalCap: undefined } }));
    const first = await shared.acquire('a', { url: 'http://a/0' });
    const order: string[] = [];
    const batch = shared.acquire('a', { url: 'http://a/batch', priority: Priority.batch }).then((p) => (order.push('batch'), p));
    const get = shared.acquire('a', { url: 'http://a/get', priority: Priority.onDemand }).then((p) => (order.push('get'), p));
    first.release({ signal: 'neutral' });
    (await get).release({ signal: 'neutral' });
    (await batch).release({ signal: 'neutral' });
    expect(order).toEqual(['get', 'batch']);
  });
});
