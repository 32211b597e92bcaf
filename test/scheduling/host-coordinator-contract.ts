/**
 * The contract of every `HostCoordinator` (in-process, Redis, IPC): the same sequence of acquires
 * and releases gives the same decisions. Real time with short durations (a shared coordinator
 * uses its store's clock), generous margins.
 */
import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { HostCoordinator, HostCoordinatorSettings, HostPermit } from '../../src/scheduling/host-coordinator.js';

export type MakeCoordinator = (settings: HostCoordinatorSettings) => HostCoordinator | Promise<HostCoordinator>;

export function settings(overrides: Partial<HostCoordinatorSettings> = {}): HostCoordinatorSettings {
  return {
    perHost: { concurrency: 4, initialConcurrency: 1, intervalMs: undefined, intervalCap: undefined },
    circuitBreaker: { failures: 3, coolDownMs: 300 },
    maxRetryAfterMs: 30_000,
    timeoutMs: 5_000,
    ...overrides,
  };
}

/** Resolves with whether `promise` settled within `ms` (it keeps running either way). */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const end = Date.now() + ms;
  while (!settled && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 10));
  return settled;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function describeHostCoordinator(name: string, make: MakeCoordinator, uniqueHost: () => string): void {
  describe(`HostCoordinator contract: ${name}`, () => {
    it('slow start: one permit at first, one more per round of successes, up to the cap', async () => {
      const limits: number[] = [];
      const c = await make(settings({ observer: { hostLimit: (e) => limits.push(e.limit) } }));
      const host = uniqueHost();
      const first = await c.acquire(host, { url: `http://${host}/1` });
      // The second waits for the first: the limit is 1.
      const second = c.acquire(host, { url: `http://${host}/2` });
      expect(await settlesWithin(second, 150)).toBe(false);
      first.release({ signal: 'ok' });
      const p2 = await second;
      expect(c.state(host)).toMatchObject({ limit: 2, cap: 4, circuit: 'closed' });
      const p3 = await c.acquire(host, { url: `http://${host}/3` });
      p2.release({ signal: 'ok' });
      p3.release({ signal: 'ok' });
      await waitFor(() => c.state(host)?.limit === 4);
      expect(limits).toEqual([2, 3, 4]);
      // At the cap: four out, a fifth waits.
      const out = await Promise.all([1, 2, 3, 4].map((i) => c.acquire(host, { url: `http://${host}/c${i}` })));
      const fifth = c.acquire(host, { url: `http://${host}/c5` });
      expect(await settlesWithin(fifth, 150)).toBe(false);
      out[0]?.release({ signal: 'neutral' });
      (await fifth).release({ signal: 'neutral' });
      for (const permit of out.slice(1)) permit.release({ signal: 'neutral' });
      await c.close();
    });

    it('an overload halves the limit; a Retry-After pauses the host for its duration', async () => {
      const pauses: number[] = [];
      const c = await make(settings({ perHost: { concurrency: 4, initialConcurrency: 4, intervalMs: undefined, intervalCap: undefined }, observer: { hostPause: (e) => pauses.push(e.retryAfterMs) } }));
      const host = uniqueHost();
      const permit = await c.acquire(host, { url: `http://${host}/a` });
      permit.release({ signal: 'overload', retryAfterMs: 400 });
      const released = Date.now();
      await waitFor(() => (c.state(host)?.pausedUntil ?? 0) > 0);
      expect(c.state(host)).toMatchObject({ limit: 2, circuit: 'closed' });
      const next = await c.acquire(host, { url: `http://${host}/b` });
      // Loose margin: the pause is 400 ms, timers and the store's clock jitter by a few ms.
      expect(Date.now() - released).toBeGreaterThanOrEqual(330);
      next.release({ signal: 'ok' });
      expect(pauses).toHaveLength(1);
      expect(pauses[0]).toBeGreaterThan(300);
      await c.close();
    });

    it('a Retry-After longer than maxRetryAfterMs is capped', async () => {
      const c = await make(settings({ maxRetryAfterMs: 200 }));
      const host = uniqueHost();
      (await c.acquire(host, { url: `http://${host}/a` })).release({ signal: 'overload', retryAfterMs: 3_600_000 });
      await waitFor(() => (c.state(host)?.pausedUntil ?? 0) > 0);
      expect(c.state(host)?.pausedUntil).toBeLessThanOrEqual(Date.now() + 250);
      const next = c.acquire(host, { url: `http://${host}/b` });
      expect(await settlesWithin(next, 2_000)).toBe(true);
      (await next).release({ signal: 'ok' });
      await c.close();
    });

    it('the circuit opens after N consecutive failures, refuses at once, then lets exactly one probe through', async () => {
      const circuits: string[] = [];
      const c = await make(settings({ perHost: { concurrency: 4, initialConcurrency: 2, intervalMs: undefined, intervalCap: undefined }, observer: { circuit: (e) => circuits.push(e.state) } }));
      const host = uniqueHost();
      for (let i = 0; i < 3; i += 1) (await c.acquire(host, { url: `http://${host}/f${i}` })).release({ signal: 'failure' });
      await waitFor(() => c.state(host)?.circuit === 'open');
      await expect(c.acquire(host, { url: `http://${host}/x` })).rejects.toMatchObject({ code: ErrorCodes.ORIGIN_UNAVAILABLE, host });
      // Opening restarts the ramp (here from 2), so the load comes back in stages.
      expect(c.state(host)).toMatchObject({ refusing: true, limit: 2 });
      await sleep(350);
      const probe = await c.acquire(host, { url: `http://${host}/probe` });
      expect(probe.probe).toBe(true);
      // While the probe is out, everyone else is refused at once.
      await expect(c.acquire(host, { url: `http://${host}/y` })).rejects.toMatchObject({ code: ErrorCodes.ORIGIN_UNAVAILABLE });
      probe.release({ signal: 'ok' });
      await waitFor(() => c.state(host)?.circuit === 'closed');
      const after = await c.acquire(host, { url: `http://${host}/z` });
      expect(after.probe).toBe(false);
      after.release({ signal: 'ok' });
      expect(circuits).toEqual(['open', 'closed']);
      await c.close();
    });

    it('a failed probe reopens the circuit; a neutral probe lets another one go', async () => {
      const c = await make(settings({ circuitBreaker: { failures: 1, coolDownMs: 200 } }));
      const host = uniqueHost();
      (await c.acquire(host, { url: `http://${host}/a` })).release({ signal: 'failure' });
      await sleep(250);
      const aborted = await c.acquire(host, { url: `http://${host}/b` });
      expect(aborted.probe).toBe(true);
      aborted.release({ signal: 'neutral' });
      const probe = await c.acquire(host, { url: `http://${host}/c` });
      expect(probe.probe).toBe(true);
      probe.release({ signal: 'failure' });
      await expect(c.acquire(host, { url: `http://${host}/d` })).rejects.toMatchObject({ code: ErrorCodes.ORIGIN_UNAVAILABLE });
      await c.close();
    });

    it('an aborted wait rejects with the reason and holds nothing', async () => {
      const c = await make(settings());
      const host = uniqueHost();
      const first = await c.acquire(host, { url: `http://${host}/1` });
      const controller = new AbortController();
      const waiting = c.acquire(host, { url: `http://${host}/2`, signal: controller.signal });
      await sleep(30);
      controller.abort(new Error('gone'));
      await expect(waiting).rejects.toThrow('gone');
      first.release({ signal: 'neutral' });
      // The aborted waiter took nothing: the next acquire goes at once.
      const next = c.acquire(host, { url: `http://${host}/3` });
      expect(await settlesWithin(next, 1_000)).toBe(true);
      (await next).release({ signal: 'neutral' });
      await c.close();
    });

    it('releasing twice frees one permit', async () => {
      const c = await make(settings({ perHost: { concurrency: 2, initialConcurrency: 2, intervalMs: undefined, intervalCap: undefined } }));
      const host = uniqueHost();
      const a = await c.acquire(host, { url: `http://${host}/a` });
      const b = await c.acquire(host, { url: `http://${host}/b` });
      a.release({ signal: 'neutral' });
      a.release({ signal: 'neutral' });
      const c1 = await c.acquire(host, { url: `http://${host}/c` });
      const d = c.acquire(host, { url: `http://${host}/d` });
      expect(await settlesWithin(d, 150)).toBe(false);
      for (const p of [b, c1, await afterRelease(d, b)]) p.release({ signal: 'neutral' });
      await c.close();
    });
  });
}

/** `pending` once `other` has been released (it was waiting for that). */
async function afterRelease(pending: Promise<HostPermit>, other: HostPermit): Promise<HostPermit> {
  other.release({ signal: 'neutral' });
  return pending;
}

/** Poll until `condition` holds (bounded: 3 s). */
export async function waitFor(condition: () => boolean): Promise<void> {
  const end = Date.now() + 3_000;
  while (!condition() && Date.now() < end) await sleep(10);
  expect(condition()).toBe(true);
}
