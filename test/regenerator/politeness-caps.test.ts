/**
 * Invariant 4 (polite), counted at real loopback origins: the global cap, the per-host cap while
 * other hosts get their share, slow start, and the per-host rate.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { HostLimitEvent } from '../../src/regenerator/events.js';
import { makeImage } from '../helpers/images.js';
import { countedImage, newTraffic, numberedRoutes } from './politeness-support.js';
import { useHarness } from './support.js';

const { origin, regenerator } = useHarness({ small: { width: 32, height: 32, fit: 'cover' } });
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 64, 48);
});

describe('politeness: caps', () => {
  it('never more than the global cap in flight across hosts', async () => {
    const traffic = newTraffic();
    const servers = await Promise.all([0, 1, 2].map(() => origin(numberedRoutes('img', 10, () => countedImage(traffic, jpeg, 60)))));
    const regen = regenerator(servers[0]!, {
      allowHosts: servers.map((s) => s.host),
      concurrency: 4,
      perHost: { concurrency: 3, initialConcurrency: 3 },
    });
    const records = Array.from({ length: 30 }, (_, i) => ({ key: `r${i}`, url: servers[i % 3]!.urlFor(`/img-${Math.floor(i / 3)}.jpg`) }));
    const report = await regen.rebuild(records);

    expect(report.counts.regenerated).toBe(30);
    expect(traffic.arrivals).toHaveLength(30);
    expect(traffic.max).toBe(4);
    for (const server of servers) expect(server.maxInFlight).toBeLessThanOrEqual(3);
  });

  it('never more than the per-host cap to one host, while another host still gets its share', async () => {
    const busy = newTraffic();
    const quiet = newTraffic();
    const a = await origin(numberedRoutes('img', 20, () => countedImage(busy, jpeg, 80)));
    const b = await origin(numberedRoutes('img', 6, () => countedImage(quiet, jpeg, 20)));
    const regen = regenerator(a, { allowHosts: [a.host, b.host], concurrency: 10, perHost: { concurrency: 3, initialConcurrency: 3 } });

    const busyGets = Array.from({ length: 20 }, (_, i) => regen.get({ key: `a${i}`, url: a.urlFor(`/img-${i}.jpg`) }, 'small'));
    const quietGets = Array.from({ length: 6 }, (_, i) => regen.get({ key: `b${i}`, url: b.urlFor(`/img-${i}.jpg`) }, 'small'));
    const thumbs = await Promise.all([...busyGets, ...quietGets]);

    expect(thumbs.every((t) => t.outcome === 'regenerated')).toBe(true);
    expect(a.maxInFlight).toBe(3);
    expect(b.maxInFlight).toBe(3);
    // The quiet host was served while the busy one still had work queued.
    expect(quiet.completions.at(-1)!).toBeLessThan(busy.completions.at(-1)!);
    expect(busy.arrivals.filter((x) => x.at > quiet.completions.at(-1)!).length).toBeGreaterThan(0);
  });

  it('slow start: the first wave to a host is smaller than the cap and grows to it', async () => {
    const traffic = newTraffic();
    const server = await origin(numberedRoutes('img', 16, () => countedImage(traffic, jpeg, 60)));
    const regen = regenerator(server, { perHost: { concurrency: 4 } });
    const limits: HostLimitEvent[] = [];
    regen.on('hostLimit', (event) => limits.push(event));

    const thumbs = await Promise.all(Array.from({ length: 16 }, (_, i) => regen.get({ key: `r${i}`, url: server.urlFor(`/img-${i}.jpg`) }, 'small')));

    expect(thumbs.every((t) => t.outcome === 'regenerated')).toBe(true);
    const firstDone = traffic.completions[0]!;
    const firstWave = traffic.arrivals.filter((x) => x.at < firstDone).length;
    expect(firstWave).toBe(1);
    expect(server.maxInFlight).toBe(4);
    expect(limits.map((e) => e.limit)).toEqual([2, 3, 4]);
    expect(limits.every((e) => e.host === server.host && e.cap === 4)).toBe(true);
    expect(regen.stats().hosts[server.host]).toMatchObject({ limit: 4, cap: 4, circuit: 'closed', downloading: 0, queued: 0 });
  });

  it('a per-host rate: at most intervalCap requests start in any intervalMs', async () => {
    const traffic = newTraffic();
    const server = await origin(numberedRoutes('img', 6, () => countedImage(traffic, jpeg, 5)));
    const regen = regenerator(server, { perHost: { concurrency: 4, initialConcurrency: 4, intervalMs: 300, intervalCap: 2 } });

    await Promise.all(Array.from({ length: 6 }, (_, i) => regen.get({ key: `r${i}`, url: server.urlFor(`/img-${i}.jpg`) }, 'small')));

    const at = traffic.arrivals.map((x) => x.at).sort((x, y) => x - y);
    expect(at).toHaveLength(6);
    // Loose margins: the window is 300 ms; arrival times jitter by a few ms on loopback.
    for (let i = 2; i < at.length; i += 1) expect(at[i]! - at[i - 2]!).toBeGreaterThan(200);
  });
});
