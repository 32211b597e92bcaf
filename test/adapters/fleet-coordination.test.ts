/**
 * The fleet's coordination over a real redis-server: the HostCoordinator contract, two
 * coordinators (two workers) sharing one host's cap, leases of a dead worker expiring, and the
 * shared negative cache (one policy, TTLs, bounded entries, hashed keys).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from 'bullmq';
import { createFleetCoordination, type FleetCoordination } from '../../src/adapters/bullmq/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { describeHostCoordinator, settings, waitFor } from '../scheduling/host-coordinator-contract.js';
import { findRedisServer, MISSING_REDIS, redisRequired, startRedis, type TestRedis } from './redis-server.js';

const binary = findRedisServer();
if (!binary && redisRequired) {
  describe('fleet coordination', () => {
    it('needs redis-server (required here: CI or RETHUMB_REQUIRE_REDIS is set)', () => {
      throw new Error(MISSING_REDIS);
    });
  });
}

let redis: TestRedis;
const fleets: FleetCoordination[] = [];
let hostCount = 0;
const uniqueHost = () => `host-${process.pid}-${(hostCount += 1)}.test:80`;

function fleet(options: { leaseMs?: number; prefix?: string } = {}): FleetCoordination {
  const made = createFleetCoordination({ connection: { host: redis.host, port: redis.port }, ...options });
  fleets.push(made);
  return made;
}

const NEGATIVE = { permanentTtlMs: 600_000, transientTtlMs: 10_000, maxEntries: 10_000 };

describe.skipIf(!binary)('fleet coordination over Redis', () => {
  beforeAll(async () => {
    redis = await startRedis(binary as string);
  });
  afterAll(async () => {
    for (const made of fleets.splice(0)) await made.close();
    await redis?.stop();
  });
  afterEach(async () => {
    for (const made of fleets.splice(0)) await made.close();
  });

  describeHostCoordinator('RedisHostCoordinator', (s) => fleet().hosts(s), uniqueHost);

  it('two workers share one host: never more permits out than the cap, one ramp between them', async () => {
    const host = uniqueHost();
    const s = settings({ perHost: { concurrency: 3, initialConcurrency: 3, intervalMs: undefined, intervalCap: undefined } });
    const [a, b] = [fleet().hosts(s), fleet().hosts(s)];
    let out = 0;
    let max = 0;
    const work = async (c: typeof a, i: number) => {
      const permit = await c!.acquire(host, { url: `http://${host}/${i}` });
      out += 1;
      max = Math.max(max, out);
      await new Promise((resolve) => setTimeout(resolve, 15));
      out -= 1;
      permit.release({ signal: 'ok' });
    };
    await Promise.all(Array.from({ length: 24 }, (_, i) => work(i % 2 ? a : b, i)));
    expect(max).toBe(3);
    // A 429 seen by one pauses the host for the other.
    (await a!.acquire(host, { url: `http://${host}/x` })).release({ signal: 'overload', retryAfterMs: 500 });
    await waitFor(() => (a!.state(host)?.pausedUntil ?? 0) > 0);
    const started = Date.now();
    (await b!.acquire(host, { url: `http://${host}/y` })).release({ signal: 'ok' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(b!.state(host)?.limit).toBeLessThan(3);
  });

  it('a worker that dies holding permits frees them when their leases expire', async () => {
    const host = uniqueHost();
    const s = settings({ perHost: { concurrency: 2, initialConcurrency: 2, intervalMs: undefined, intervalCap: undefined } });
    const dying = fleet({ leaseMs: 600 });
    const held = dying.hosts(s);
    await held.acquire(host, { url: `http://${host}/1` });
    await held.acquire(host, { url: `http://${host}/2` });
    // Renewed while the worker lives: still full after two lease lengths.
    const other = fleet().hosts(s);
    const controller = new AbortController();
    const waiting = other.acquire(host, { url: `http://${host}/3`, signal: controller.signal });
    let granted = false;
    void waiting.then(() => (granted = true), () => {});
    await new Promise((resolve) => setTimeout(resolve, 1_300));
    expect(granted).toBe(false);
    // Killed: its connection closes without releasing; within a lease the slot is free.
    await dying.close();
    const permit = await waiting;
    permit.release({ signal: 'neutral' });
  });

  it('refuses bad options with RETHUMB_CONFIG', () => {
    expect(() => createFleetCoordination({ connection: null as never })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, option: 'connection' }));
    expect(() => fleet({ prefix: 'a{b}' })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, option: 'prefix' }));
    expect(() => fleet({ leaseMs: 5 })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, option: 'leaseMs' }));
  });

  describe('shared negative cache', () => {
    it('a failure remembered by one worker is recalled by another, with the original code, for its TTL', async () => {
      const [a, b] = [fleet().failures(NEGATIVE), fleet().failures({ ...NEGATIVE, transientTtlMs: 300 })];
      const url = `http://${uniqueHost()}/gone.jpg?${'x'.repeat(5_000)}`;
      a.remember(url, { source: url, code: ErrorCodes.HTTP_STATUS, status: 404, message: 'HTTP 404'.repeat(100) });
      await waitFor(() => a.size > 0);
      const recalled = await b.recall(url);
      expect(recalled).toMatchObject({ failureClass: 'permanent', failure: { source: url, code: ErrorCodes.HTTP_STATUS, status: 404 } });
      // Bounded in bytes: the message is cut, the key is a hash whatever the URL's length.
      expect(recalled?.failure.message.length).toBeLessThanOrEqual(200);
      const probe = new Queue('probe', { connection: { host: redis.host, port: redis.port } });
      const keys = (await (await probe.client).scan(0, { MATCH: 'rethumb:{failures}:*', COUNT: 1000 }))[1];
      await probe.close();
      expect(keys.length).toBeGreaterThan(1);
      expect(keys.every((key) => key.length < 60)).toBe(true);

      const flap = `http://${uniqueHost()}/flap.jpg`;
      b.remember(flap, { source: flap, code: ErrorCodes.HTTP_STATUS, status: 503, message: '503' });
      await waitFor(() => b.size > 1);
      expect(await a.recall(flap)).toMatchObject({ failureClass: 'transient' });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(await a.recall(flap)).toBeUndefined();

      b.forget(url);
      let gone = false;
      for (let i = 0; i < 100 && !gone; i += 1) gone = (await a.recall(url)) === undefined;
      expect(gone).toBe(true);
    });

    it('never remembers what is not the source\'s doing, and keeps at most maxEntries', async () => {
      const memory = fleet({ prefix: `bounded-${process.pid}` }).failures({ ...NEGATIVE, maxEntries: 3 });
      const host = uniqueHost();
      for (const code of [ErrorCodes.ORIGIN_UNAVAILABLE, ErrorCodes.ABORTED, ErrorCodes.CLOSED, ErrorCodes.DEADLINE]) {
        memory.remember(`http://${host}/${code}`, { source: 'x', code, message: '' });
      }
      for (let i = 0; i < 6; i += 1) memory.remember(`http://${host}/${i}`, { source: 'x', code: ErrorCodes.NOT_AN_IMAGE, message: '' });
      await waitFor(() => memory.size === 3);
      expect(await memory.recall(`http://${host}/${ErrorCodes.ORIGIN_UNAVAILABLE}`)).toBeUndefined();
      const kept = await Promise.all(Array.from({ length: 6 }, (_, i) => memory.recall(`http://${host}/${i}`)));
      expect(kept.filter(Boolean)).toHaveLength(3);
    });
  });
});
