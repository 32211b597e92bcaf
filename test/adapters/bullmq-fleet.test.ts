/**
 * A fleet of four BullMQ worker processes (real children on the built dist, a real redis-server,
 * real loopback origins counting what they receive) behaves as ONE polite client: the origin
 * never has more than `perHost.concurrency` requests in flight; one 429 with `Retry-After: 2`
 * keeps every worker away for 2 s; a 503 storm costs one circuit breaker's worth of requests
 * (then one probe per cool-down), not one per worker; a dead URL is fetched once per TTL by the
 * fleet; and a worker killed with SIGKILL loses no record: the report equals a single process's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectReport, enqueueManifest, jobIdFor } from '../../src/adapters/bullmq/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { FileStore, type ThumbRecord } from '../../src/index.js';
import { startTestOrigin, type OriginRoute, type TestOrigin } from '../../src/testing/test-origin.js';
import { comparable } from './comparable-report.js';
import { makeImage } from '../helpers/images.js';
import { countedImage, newTraffic, numberedRoutes } from '../regenerator/politeness-support.js';
import { tempRoot, until } from '../regenerator/support.js';
import { createRegenerator } from '../../src/index.js';
import { findRedisServer, MISSING_REDIS, redisRequired, startRedis, type TestRedis } from './redis-server.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/bullmq-worker.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/adapters/bullmq/index.js', import.meta.url));
const VARIANTS = { small: { width: 64, height: 64, fit: 'cover' }, large: { width: 240 } } as const;
const binary = findRedisServer();
const WORKERS = 4;
const CAP = 3;
const FAILURES = 5;
const COOL_DOWN_MS = 3_000;
/** The politeness every worker (and the single-process baseline) runs with. */
const POLITENESS = {
  perHost: { concurrency: CAP, initialConcurrency: 1 },
  circuitBreaker: { failures: FAILURES, coolDownMs: COOL_DOWN_MS },
  retry: { retries: 1, baseDelayMs: 20, maxDelayMs: 50 },
};

if (!binary && redisRequired) {
  describe('rethumb/bullmq fleet', () => {
    it('needs redis-server (required here: CI or RETHUMB_REQUIRE_REDIS is set)', () => {
      throw new Error(MISSING_REDIS);
    });
  });
}

interface Fleet {
  children: ChildProcess[];
  /** stderr of each child. */
  errors: string[];
  /** stdout of each child. */
  outputs: string[];
  /** jobId → outcome, from every child's `done` lines. */
  done(): Map<string, string>;
  /** Which child ran each finished job. */
  ranBy(): Map<string, number>;
  stop(): Promise<void>;
}

describe.skipIf(!binary || !existsSync(DIST))('rethumb/bullmq: a fleet of four worker processes is one polite client', () => {
  let redis: TestRedis;
  let jpeg: Buffer;
  const cleanups: Array<() => Promise<void>> = [];
  let queueCount = 0;

  beforeAll(async () => {
    redis = await startRedis(binary as string);
    jpeg = await makeImage('jpeg', 480, 320, { noise: true });
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await redis?.stop();
  });

  const connection = () => ({ host: redis.host, port: redis.port });

  async function newQueue(): Promise<Queue> {
    const queue = new Queue(`fleet-${process.pid}-${(queueCount += 1)}`, { connection: connection() });
    cleanups.push(() => queue.close());
    return queue;
  }

  async function origin(routes: Record<string, OriginRoute>): Promise<TestOrigin> {
    const server = await startTestOrigin({ routes });
    cleanups.push(() => server.close());
    return server;
  }

  /** Four worker processes on `queues` (one BullMQ worker per queue in each), sharing host state under `prefix`. */
  async function startFleet(queues: Queue[], root: string, prefix: string, options: { leaseMs?: number; lockDuration: number }): Promise<Fleet> {
    const { leaseMs = 30_000, lockDuration } = options;
    // BullMQ's stalled-job check runs every half lock: a killed worker's jobs come back within about 1.5 locks.
    const config = JSON.stringify({ prefix, leaseMs, lockDuration, stalledInterval: lockDuration / 2, regenerator: { ...POLITENESS, allowPrivateNetworks: true } });
    const names = queues.map((q) => q.name).join(',');
    const children = Array.from({ length: WORKERS }, () => spawn(process.execPath, [FIXTURE, String(redis.port), names, '127.0.0.1', root, '4', config], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const outputs = children.map(() => '');
    const errors = children.map(() => '');
    children.forEach((child, i) => {
      child.stdout?.on('data', (chunk: Buffer) => (outputs[i] += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (errors[i] += chunk.toString()));
    });
    const fleet: Fleet = {
      children,
      errors,
      outputs,
      done: () => new Map(outputs.flatMap((out) => [...out.matchAll(/^done (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as const))),
      ranBy: () => new Map(outputs.flatMap((out, i) => [...out.matchAll(/^done (\S+) \S+$/gm)].map((m) => [m[1]!, i] as const))),
      async stop() {
        await Promise.all(
          children.map(async (child) => {
            if (child.exitCode !== null || child.signalCode !== null) return;
            const exited = new Promise((resolve) => child.once('exit', resolve));
            child.kill('SIGTERM');
            // Bounded: a child that does not stop in 10 s is killed.
            const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
            await exited;
            clearTimeout(timer);
          }),
        );
      },
    };
    cleanups.push(() => fleet.stop());
    // Loaded machines start four Node processes with sharp slowly: a generous bound.
    expect(await until(() => outputs.every((out) => out.includes('ready')), 30_000), errors.join('\n')).toBe(true);
    return fleet;
  }

  /** Wait until every record's job has a `done` line (bounded). */
  async function finished(fleet: Fleet, records: readonly ThumbRecord[], timeoutMs = 30_000): Promise<Map<string, string>> {
    const ids = records.map(jobIdFor);
    const ok = await until(() => ids.every((id) => fleet.done().has(id)), timeoutMs);
    const missing = ids.filter((id) => !fleet.done().has(id));
    expect(ok, `not finished: ${missing.join(' ')}\n${fleet.outputs.map((o, i) => `--- worker ${i}\n${o.slice(-1500)}\n${fleet.errors[i]?.slice(-3000)}`).join('\n')}`).toBe(true);
    const done = fleet.done();
    return new Map(records.map((r) => [r.key as string, done.get(jobIdFor(r)) ?? '']));
  }

  describe('one fleet, several origins', () => {
    /** A queue per manifest (a queue's report is one manifest's), all served by the same four processes. */
    const queues: Record<'cap' | 'pause' | 'storm' | 'storm2' | 'dead' | 'dead2', Queue> = {} as never;
    let fleet: Fleet;

    beforeAll(async () => {
      for (const name of ['cap', 'pause', 'storm', 'storm2', 'dead', 'dead2'] as const) queues[name] = await newQueue();
      const { root, cleanup } = await tempRoot('fleet-shared');
      cleanups.push(cleanup);
      // A long lock: on a loaded machine a short one can expire under a live worker, and BullMQ
      // then runs that job twice (at least once, as documented), which would blur the counts here.
      fleet = await startFleet(Object.values(queues), root, `fleet-${process.pid}`, { lockDuration: 30_000 });
    }, 60_000);

    it('the origin never has more than perHost.concurrency requests in flight, whatever the number of workers', async () => {
      const traffic = newTraffic();
      const server = await origin(numberedRoutes('img', 30, () => countedImage(traffic, jpeg, 150)));
      const records = Array.from({ length: 30 }, (_, i) => ({ key: `cap/${i}`, url: server.urlFor(`/img-${i}.jpg`) }));
      await enqueueManifest(queues.cap, records);
      const outcomes = await finished(fleet, records);

      expect([...outcomes.values()].every((o) => o === 'regenerated')).toBe(true);
      expect(traffic.arrivals).toHaveLength(30);
      // Sixteen jobs at once across the fleet (four workers × four), three requests at most.
      expect(server.maxInFlight).toBeLessThanOrEqual(CAP);
      expect(server.maxInFlight).toBe(CAP);
      // The work was spread: more than one worker took part.
      const ranBy = fleet.ranBy();
      expect(new Set(records.map((r) => ranBy.get(jobIdFor(r)))).size).toBeGreaterThan(1);
    });

    it('after one 429 with Retry-After: 2, no worker sends that host a request for 2 s', async () => {
      const arrivals: number[] = [];
      let answered429At = 0;
      const server = await origin(
        numberedRoutes('img', 8, () => ({
          kind: 'handler',
          handle: (_req, res) => {
            arrivals.push(performance.now());
            if (arrivals.length === 1) {
              res.writeHead(429, { 'retry-after': '2', 'content-length': 0 }).end();
              answered429At = performance.now();
              return;
            }
            res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
          },
        })),
      );
      const records = Array.from({ length: 8 }, (_, i) => ({ key: `pause/${i}`, url: server.urlFor(`/img-${i}.jpg`) }));
      await enqueueManifest(queues.pause, records);
      const outcomes = await finished(fleet, records);

      expect([...outcomes.values()].every((o) => o === 'regenerated')).toBe(true);
      // The fleet's slow start sends the first request alone, so every other request was sent
      // after the 429 arrived, and none within its 2 s (a few ms of timer and clock slack).
      expect(arrivals).toHaveLength(9);
      for (const at of arrivals.slice(1)) expect(at - answered429At).toBeGreaterThan(1_950);
    });

    it('under a 503 storm the fleet sends one circuit breaker\'s worth of requests, then one probe per cool-down', async () => {
      const server = await origin(numberedRoutes('img', 40, () => ({ kind: 'status', status: 503 })));
      const first = Array.from({ length: 20 }, (_, i) => ({ key: `storm/${i}`, url: server.urlFor(`/img-${i}.jpg`) }));
      await enqueueManifest(queues.storm, first);
      const outcomes = await finished(fleet, first);

      expect([...outcomes.values()].every((o) => o === 'placeholder')).toBe(true);
      // One breaker for the fleet: `failures` requests open it for everyone (each worker with its
      // own breaker would have sent at least 4 × 5 = 20). 503 halves the ramp, so they went one by one.
      expect(server.hits()).toBe(FAILURES);

      // After the cool-down, one probe for the fleet (it fails and reopens the circuit); the
      // other records fall back at once. Any further request is another cool-down later.
      const arrivals: number[] = [];
      server.resetCounts();
      await new Promise((resolve) => setTimeout(resolve, COOL_DOWN_MS + 200));
      const second = Array.from({ length: 20 }, (_, i) => ({ key: `storm/${20 + i}`, url: server.urlFor(`/img-${20 + i}.jpg`) }));
      for (const path of second.map((_, i) => `/img-${20 + i}.jpg`)) {
        server.route(path, { kind: 'handler', handle: (_req, res) => (arrivals.push(performance.now()), res.writeHead(503, { 'content-length': 0 }).end()) });
      }
      await enqueueManifest(queues.storm2, second);
      const after = await finished(fleet, second);
      expect([...after.values()].every((o) => o === 'placeholder')).toBe(true);
      expect(arrivals.length).toBeGreaterThanOrEqual(1);
      for (let i = 1; i < arrivals.length; i += 1) expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThan(COOL_DOWN_MS - 100);
    });

    it('a dead URL one worker saw is not fetched again by any worker within its TTL', async () => {
      const server = await origin({ '/gone.jpg': { kind: 'status', status: 404 } });
      const url = server.urlFor('/gone.jpg');
      const firstRecord = [{ key: 'dead/0', url }];
      await enqueueManifest(queues.dead, firstRecord);
      await finished(fleet, firstRecord);
      expect(server.hits('/gone.jpg')).toBe(1);

      const more = Array.from({ length: 16 }, (_, i) => ({ key: `dead/${i + 1}`, url }));
      await enqueueManifest(queues.dead2, more);
      const outcomes = await finished(fleet, more);
      expect([...outcomes.values()].every((o) => o === 'placeholder')).toBe(true);
      // Sixteen records across four workers: each would have fetched it once with its own cache.
      expect(server.hits('/gone.jpg')).toBe(1);
      const ranBy = fleet.ranBy();
      expect(new Set(more.map((r) => ranBy.get(jobIdFor(r)))).size).toBeGreaterThan(1);
    });
  });

  it('a worker killed with SIGKILL loses no record: the report equals a single-process rebuild', async () => {
    // Images are slow and tracked per path; faults answer at once and write nothing. The kill
    // lands while the victim's downloads are in flight, never between a store write and its
    // fold (a record rerun after that would honestly report `stored`).
    const slow = 600;
    const downloading = new Map<string, number>();
    const downloaded = new Set<string>();
    const tracked = (): OriginRoute => ({
      kind: 'handler',
      handle: (req, res) => {
        const path = req.url ?? '';
        downloading.set(path, performance.now());
        const timer = setTimeout(() => res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg), slow);
        res.once('close', () => {
          clearTimeout(timer);
          downloading.delete(path);
          if (res.writableFinished) downloaded.add(path);
        });
      },
    });
    const server = await origin({
      ...numberedRoutes('ok', 16, tracked),
      '/404.jpg': { kind: 'status', status: 404 },
      '/html.jpg': { kind: 'html' },
      '/gone.jpg': { kind: 'status', status: 410 },
      '/mirror.jpg': tracked(),
    });
    const records: ThumbRecord[] = [
      ...Array.from({ length: 16 }, (_, i) => ({ key: `ok/${i}`, url: server.urlFor(`/ok-${i}.jpg`) })),
      { key: 'bad/404', url: server.urlFor('/404.jpg') },
      { key: 'bad/html', url: server.urlFor('/html.jpg') },
      { key: 'bad/not-a-url', url: 'not a url' },
      { key: 'mirrored', url: server.urlFor('/gone.jpg'), mirrors: [server.urlFor('/mirror.jpg')] },
    ];
    const imagePath = new Map(records.map((r) => [jobIdFor(r), r.key === 'mirrored' ? '/mirror.jpg' : r.key?.startsWith('ok/') ? new URL(r.url).pathname : undefined]));
    const single = await tempRoot('fleet-single');
    cleanups.push(single.cleanup);
    const baseline = createRegenerator({ store: new FileStore(single.root), variants: VARIANTS, allowHosts: [server.host], ...POLITENESS });
    const expected = await baseline.rebuild(records);
    await baseline.close();
    server.resetCounts();
    downloaded.clear();

    const queue = await newQueue();
    const shared = await tempRoot('fleet-kill');
    cleanups.push(shared.cleanup);
    // Short leases: the killed worker's permits free themselves within 1.5 s.
    const fleet = await startFleet([queue], shared.root, `fleet-kill-${process.pid}`, { leaseMs: 1_500, lockDuration: 2_000 });
    await enqueueManifest(queue, records);

    // Kill worker 0 while at least one of its downloads is in flight (with time left) and none
    // of its records is past its download.
    const safeToKill = (): boolean => {
      const out = fleet.outputs[0] ?? '';
      const done = new Set([...out.matchAll(/^done (\S+) /gm)].map((m) => m[1]));
      const active = [...out.matchAll(/^active (\S+)$/gm)].map((m) => m[1]!).filter((id) => !done.has(id));
      const paths = active.map((id) => imagePath.get(id)).filter((p): p is string => p !== undefined);
      const now = performance.now();
      const midDownload = paths.filter((p) => downloading.has(p) && now - downloading.get(p)! < slow - 250);
      return midDownload.length > 0 && paths.every((p) => !downloaded.has(p) && (!downloading.has(p) || now - downloading.get(p)! < slow - 250));
    };
    expect(await until(safeToKill, 20_000)).toBe(true);
    const victim = fleet.children[0]!;
    const exited = new Promise((resolve) => victim.once('exit', resolve));
    victim.kill('SIGKILL');
    await exited;

    await finished(fleet, records, 40_000);
    expect(await until(async () => (await collectReport(queue)).pending === 0, 10_000)).toBe(true);
    const { report, failed, pending } = await collectReport(queue);
    expect(failed).toEqual([]);
    expect(pending).toBe(0);
    expect(comparable(report)).toEqual(comparable(expected));
    expect(server.maxInFlight).toBeLessThanOrEqual(CAP);
    const reasons = new Map(report.fallbacks.map((f) => [f.key, f.reason]));
    expect(reasons.get('bad/404')).toBe(ErrorCodes.HTTP_STATUS);
    // No capacity leaked: the killed worker's permits expired with their leases.
    const client = await queue.client;
    const leases = `fleet-kill-${process.pid}:host:{${server.host}}:leases`;
    expect(await until(async () => (await client.zcard(leases)) === 0, 5_000)).toBe(true);
  }, 120_000);
});

