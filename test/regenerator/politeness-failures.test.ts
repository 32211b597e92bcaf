/**
 * Invariant 4 under failure, against real loopback origins: Retry-After obeyed as a host pause,
 * retries of what can succeed later (and never of a 404), the circuit breaker, the negative cache.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import type { CircuitEvent, HostPauseEvent, RetryEvent } from '../../src/regenerator/events.js';
import { makeImage } from '../helpers/images.js';
import { countedImage, newTraffic, numberedRoutes } from './politeness-support.js';
import { until, useHarness } from './support.js';

const { origin, regenerator } = useHarness({ small: { width: 32, height: 32, fit: 'cover' } });
let jpeg: Buffer;
const FAST_RETRIES = { baseDelayMs: 20, maxDelayMs: 50 };

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 64, 48);
});

describe('politeness: Retry-After and retries', () => {
  it('a host answering 429 with Retry-After: 1 receives no request for that second', async () => {
    const arrivals: number[] = [];
    let answered429At = 0;
    const server = await origin(
      numberedRoutes('img', 4, () => ({
        kind: 'handler',
        handle: (_req, res) => {
          arrivals.push(performance.now());
          if (arrivals.length === 1) {
            res.writeHead(429, { 'retry-after': '1', 'content-length': 0 }).end();
            answered429At = performance.now();
            return;
          }
          res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
        },
      })),
    );
    const regen = regenerator(server, { retry: FAST_RETRIES });
    const pauses: HostPauseEvent[] = [];
    const retries: RetryEvent[] = [];
    regen.on('hostPause', (e) => pauses.push(e));
    regen.on('retry', (e) => retries.push(e));

    const thumbs = await Promise.all(Array.from({ length: 4 }, (_, i) => regen.get({ key: `r${i}`, url: server.urlFor(`/img-${i}.jpg`) }, 'small')));

    expect(thumbs.map((t) => t.outcome)).toEqual(['regenerated', 'regenerated', 'regenerated', 'regenerated']);
    // Slow start sends the first request alone, so every other one was sent after the 429 arrived.
    expect(arrivals).toHaveLength(5);
    for (const at of arrivals.slice(1)) expect(at - answered429At).toBeGreaterThan(950);
    expect(pauses).toHaveLength(1);
    expect(pauses[0]).toMatchObject({ host: server.host, retryAfterMs: 1_000 });
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ status: 429, attempt: 1, code: ErrorCodes.HTTP_STATUS });
  });

  it('a flaky source (fails twice, then serves) ends regenerated', async () => {
    const server = await origin({
      '/flaky.jpg': { kind: 'flaky', failures: 2, status: 503, then: { kind: 'image', body: jpeg, contentType: 'image/jpeg' } },
      '/blip.jpg': { kind: 'flaky', failures: 1, status: 500, then: { kind: 'image', body: jpeg, contentType: 'image/jpeg' } },
    });
    const regen = regenerator(server, { retry: FAST_RETRIES });
    const thumb = await regen.get({ url: server.urlFor('/flaky.jpg') }, 'small');
    expect(thumb).toMatchObject({ outcome: 'regenerated', degraded: false });
    expect(thumb.reason).toBeUndefined();
    expect(server.hits('/flaky.jpg')).toBe(3);
    expect((await regen.get({ url: server.urlFor('/blip.jpg') }, 'small')).outcome).toBe('regenerated');
    expect(regen.stats().retries).toBe(3);
  });

  it('never retries a 404 or 410, and stops at the retry budget of the record', async () => {
    const server = await origin({
      '/gone.jpg': { kind: 'status', status: 410 },
      '/down.jpg': { kind: 'status', status: 502 },
      '/down-mirror.jpg': { kind: 'status', status: 504 },
    });
    const regen = regenerator(server, { retry: { ...FAST_RETRIES, retries: 3 }, circuitBreaker: { failures: 100 } });
    expect((await regen.get({ url: server.urlFor('/missing.jpg') }, 'small')).reason).toBe(ErrorCodes.HTTP_STATUS);
    expect((await regen.get({ url: server.urlFor('/gone.jpg') }, 'small')).reason).toBe(ErrorCodes.HTTP_STATUS);
    expect(server.hits('/missing.jpg')).toBe(1);
    expect(server.hits('/gone.jpg')).toBe(1);

    // One budget for the record, shared by its url and its mirror: 1 + 3 retries in all.
    const thumb = await regen.get({ url: server.urlFor('/down.jpg'), mirrors: [server.urlFor('/down-mirror.jpg')] }, 'small');
    expect(thumb).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS });
    expect(thumb.failures?.map((f) => f.status)).toEqual([502, 504]);
    expect(server.hits('/down.jpg') + server.hits('/down-mirror.jpg')).toBe(5);
  });

  it('a retry waiting for its backoff is cancelled by the caller\'s signal', async () => {
    const server = await origin({ '/busy.jpg': { kind: 'status', status: 503 } });
    const regen = regenerator(server, { retry: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    const controller = new AbortController();
    const pending = regen.get({ url: server.urlFor('/busy.jpg') }, 'small', { signal: controller.signal });
    expect(await until(() => server.hits('/busy.jpg') === 1, 10_000)).toBe(true);
    controller.abort(new Error('user left'));
    await expect(pending).rejects.toThrow('user left');
    expect(await until(() => regen.stats().regenerating === 0, 10_000)).toBe(true);
    expect(server.hits('/busy.jpg')).toBe(1);
  });
});

describe('politeness: circuit breaker', () => {
  it('a dead host trips the breaker; its records fall back without a request until the cool-down, then one probe decides', async () => {
    const traffic = newTraffic();
    const server = await origin({
      ...numberedRoutes('img', 12, () => countedImage(traffic, jpeg, 5, 500)),
      ...numberedRoutes('warm', 6, () => ({ kind: 'image', body: jpeg, contentType: 'image/jpeg' })),
    });
    const regen = regenerator(server, { retry: { retries: 0 }, circuitBreaker: { failures: 3, coolDownMs: 400 } });
    const circuits: CircuitEvent[] = [];
    const limits: number[] = [];
    regen.on('circuit', (e) => circuits.push(e));
    regen.on('hostLimit', (e) => limits.push(e.limit));
    const get = (i: number) => regen.get({ key: `r${i}`, url: server.urlFor(`/img-${i}.jpg`) }, 'small');

    // Healthy at first: the host ramps up to its cap.
    for (let i = 0; i < 6; i += 1) await regen.get({ key: `w${i}`, url: server.urlFor(`/warm-${i}.jpg`) }, 'small');
    expect(regen.stats().hosts[server.host]?.limit).toBe(6);
    server.resetCounts();

    for (const i of [0, 1, 2]) expect(await get(i)).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS });
    expect(server.hits()).toBe(3);
    expect(circuits.map((e) => e.state)).toEqual(['open']);
    expect(regen.stats().hosts[server.host]?.circuit).toBe('open');

    const refused = await Promise.all([3, 4, 5, 6, 7].map(get));
    for (const thumb of refused) {
      expect(thumb).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.ORIGIN_UNAVAILABLE, degraded: true });
      expect(thumb.failures?.[0]?.code).toBe(ErrorCodes.ORIGIN_UNAVAILABLE);
    }
    expect(server.hits()).toBe(3);
    expect(regen.stats().circuitRejections).toBe(5);

    // The host comes back; after the cool-down one probe goes first and closes the circuit.
    for (const i of [8, 9]) server.route(`/img-${i}.jpg`, countedImage(traffic, jpeg, 50));
    expect(await until(() => regen.stats().hosts[server.host]?.circuit === 'half-open', 3_000)).toBe(true);
    server.resetCounts();
    const [probe, next] = await Promise.all([get(8), get(9)]);
    expect(probe.outcome).toBe('regenerated');
    expect(next.outcome).toBe('regenerated');
    // One at a time: the second request waited for the probe's verdict.
    expect(server.maxInFlight).toBe(1);
    expect(circuits.map((e) => e.state)).toEqual(['open', 'closed']);
    // Slow start begins again for a host that just came back: down to 1 when the circuit closed, 2 after one more success.
    expect(limits).toEqual([2, 3, 4, 5, 6, 1, 2]);
    expect(regen.stats().hosts[server.host]).toMatchObject({ circuit: 'closed', limit: 2, cap: 6 });
  });

  it('a host answering 404s is healthy: the breaker stays closed', async () => {
    const server = await origin({});
    const regen = regenerator(server, { circuitBreaker: { failures: 2 } });
    for (let i = 0; i < 5; i += 1) await regen.get({ url: server.urlFor(`/missing-${i}.jpg`) }, 'small');
    expect(server.hits()).toBe(5);
    expect(regen.stats().hosts[server.host]?.circuit).toBe('closed');
  });
});

describe('politeness: negative cache', () => {
  it('a 404 source is fetched once across many get()s inside the TTL', async () => {
    const server = await origin({ '/gone.jpg': { kind: 'status', status: 404 } });
    const regen = regenerator(server);
    const url = server.urlFor('/gone.jpg');
    const first = await regen.get({ key: 'k0', url }, 'small');
    expect(first).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS });
    expect(first.failures?.[0]?.recentlyFailed).toBeUndefined();

    const sequential = [];
    for (let i = 0; i < 10; i += 1) sequential.push(await regen.get({ key: `k${i % 3}`, url }, 'small'));
    const concurrent = await Promise.all(Array.from({ length: 5 }, (_, i) => regen.get({ key: `c${i}`, url }, 'small')));
    for (const thumb of [...sequential, ...concurrent]) {
      // The reason stays the original failure's; the cache hit is a detail of the failure.
      expect(thumb).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS });
      expect(thumb.failures?.[0]).toMatchObject({ code: ErrorCodes.HTTP_STATUS, status: 404, recentlyFailed: true });
    }
    expect(server.hits('/gone.jpg')).toBe(1);
    expect(regen.stats().recentlyFailed).toBe(15);

    // A rebuild uses the cache too, unless asked to retry failed sources.
    const report = await regen.rebuild([{ key: 'k0', url }]);
    expect(report.counts.placeholder).toBe(1);
    expect(server.hits('/gone.jpg')).toBe(1);
    await regen.rebuild([{ key: 'k0', url }], { retryFailed: true });
    expect(server.hits('/gone.jpg')).toBe(2);
  });

  it('a transient failure is remembered for seconds only: a flapping origin is retried soon', async () => {
    const server = await origin({ '/flap.jpg': { kind: 'status', status: 503 } });
    const regen = regenerator(server, { retry: { retries: 0 }, negativeCache: { transientTtlMs: 150 } });
    const url = server.urlFor('/flap.jpg');
    await regen.get({ url }, 'small');
    await regen.get({ url }, 'small');
    expect(server.hits('/flap.jpg')).toBe(1);
    server.route('/flap.jpg', { kind: 'image', body: jpeg, contentType: 'image/jpeg' });
    let outcome = '';
    expect(
      await until(async () => {
        outcome = (await regen.get({ url }, 'small')).outcome;
        return outcome !== 'placeholder';
      }, 2_000),
    ).toBe(true);
    expect(outcome).toBe('regenerated');
    expect(server.hits('/flap.jpg')).toBe(2);
  });
});
