/**
 * rethumb/bullmq over a real redis-server on loopback: two workers rebuild a manifest with
 * faults and their combined report equals a single-process rebuild; a worker killed mid-run
 * (a real child process, SIGKILL) has its jobs recovered by BullMQ's stalled-job check, and
 * every record is in the final report exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue, type Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectReport, createFleetCoordination, createWorker, enqueueManifest, jobIdFor, type FleetCoordination } from '../../src/adapters/bullmq/index.js';
import { doneSlots, foldResult, summaryKeys } from '../../src/adapters/bullmq/report-summary.js';
import { ErrorCodes } from '../../src/errors.js';
import { FileStore, type RebuildReport, type RecordResult, type ThumbRecord } from '../../src/index.js';
import type { TestOrigin } from '../../src/testing/index.js';
import { comparable } from './comparable-report.js';
import { makeImage, truncate } from '../helpers/images.js';
import { until, useHarness } from '../regenerator/support.js';
import { findRedisServer, MISSING_REDIS, redisRequired, startRedis, type TestRedis } from './redis-server.js';

const VARIANTS = { small: { width: 64, height: 64, fit: 'cover' }, large: { width: 240 } } as const;
const FIXTURE = fileURLToPath(new URL('../fixtures/bullmq-worker.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../dist/adapters/bullmq/index.js', import.meta.url));
const binary = findRedisServer();

if (!binary) {
  if (redisRequired) {
    describe('rethumb/bullmq', () => {
      it('needs redis-server (required here: CI or RETHUMB_REQUIRE_REDIS is set)', () => {
        throw new Error(MISSING_REDIS);
      });
    });
  } else {
    console.warn(`\n*** SKIPPING the BullMQ tests: ${MISSING_REDIS} ***\n`);
  }
}

describe.skipIf(!binary)('rethumb/bullmq', () => {
  const { origin, regenerator, tempRoot } = useHarness(VARIANTS);
  let redis: TestRedis;
  let jpeg: Buffer;
  let queueCount = 0;
  const queues: Queue[] = [];
  const workers: Worker[] = [];
  const children: ChildProcess[] = [];
  const fleets: FleetCoordination[] = [];

  beforeAll(async () => {
    redis = await startRedis(binary as string);
    jpeg = await makeImage('jpeg', 480, 320, { noise: true });
  });
  afterAll(async () => {
    await redis?.stop();
  });
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    for (const worker of workers.splice(0)) await worker.close();
    for (const queue of queues.splice(0)) await queue.close();
    for (const fleet of fleets.splice(0)) await fleet.close();
  });

  /** Each test its own key prefix: no host state or negative cache leaks between tests. */
  let prefixes = 0;
  function fleetCoordination(): FleetCoordination {
    const fleet = createFleetCoordination({ connection: connection(), prefix: `rethumb-test-${process.pid}-${queueCount}-${(prefixes += 1)}` });
    fleets.push(fleet);
    return fleet;
  }

  const connection = () => ({ host: redis.host, port: redis.port });
  function newQueue(): Queue {
    const queue = new Queue(`rethumb-test-${process.pid}-${++queueCount}`, { connection: connection() });
    queues.push(queue);
    return queue;
  }

  /** A manifest with every kind of fault, each record on its own path (no shared negative cache). */
  async function faultyOrigin(delayMs = 0): Promise<{ server: TestOrigin; records: ThumbRecord[] }> {
    const server = await origin({
      ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`/ok-${i}.jpg`, { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs }] as const)),
      '/404.jpg': { kind: 'status', status: 404 },
      '/500.jpg': { kind: 'status', status: 500 },
      '/html.jpg': { kind: 'html' },
      '/reset.jpg': { kind: 'reset' },
      '/truncated.jpg': { kind: 'image', body: truncate(jpeg, 0.5), contentType: 'image/jpeg' },
      '/gone.jpg': { kind: 'status', status: 410 },
      '/mirror.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' },
    });
    const records: ThumbRecord[] = [
      ...Array.from({ length: 8 }, (_, i) => ({ key: `ok/${i}`, url: server.urlFor(`/ok-${i}.jpg`) })),
      { key: 'bad/404', url: server.urlFor('/404.jpg') },
      { key: 'bad/500', url: server.urlFor('/500.jpg') },
      { key: 'bad/html', url: server.urlFor('/html.jpg') },
      { key: 'bad/reset', url: server.urlFor('/reset.jpg') },
      { key: 'bad/truncated', url: server.urlFor('/truncated.jpg') },
      { key: 'bad/not-a-url', url: 'not a url' },
      { key: 'mirrored', url: server.urlFor('/gone.jpg'), mirrors: [server.urlFor('/mirror.jpg')] },
    ];
    return { server, records };
  }

  async function singleProcess(server: TestOrigin, records: ThumbRecord[]): Promise<RebuildReport> {
    const regen = regenerator(server, { store: new FileStore(await tempRoot('bullmq-single')) });
    return regen.rebuild(records);
  }

  async function allFinished(queue: Queue, total: number, timeoutMs = 20_000): Promise<boolean> {
    return until(async () => {
      const { report, failed } = await collectReport(queue);
      return report.total + failed.length >= total;
    }, timeoutMs);
  }

  it('two workers rebuild a manifest with faults; the combined report equals a single-process rebuild', async () => {
    const { server, records } = await faultyOrigin();
    const expected = await singleProcess(server, records);
    expect(expected.counts.regenerated).toBe(8);
    expect(expected.counts.mirror).toBe(1);
    expect(expected.counts.placeholder).toBe(6);

    const queue = newQueue();
    const root = await tempRoot('bullmq-shared');
    const progress: number[] = [];
    const seenBy: string[][] = [[], []];
    const results: RecordResult[] = [];
    const coordination = fleetCoordination();
    for (const index of [0, 1]) {
      // Two regenerators on one file store: two machines sharing a volume.
      const regen = regenerator(server, { store: new FileStore(root), coordination });
      const worker = createWorker(regen, {
        connection: connection(),
        queueName: queue.name,
        concurrency: 3,
        onResult: (result) => {
          seenBy[index]?.push(result.key);
          results.push(result);
        },
      });
      worker.on('progress', (_job, value) => progress.push(Number(value)));
      workers.push(worker);
    }
    // Enqueued twice (a re-run of the enqueue step): job ids are record keys, so no duplicates.
    expect(await enqueueManifest(queue, records, { batchSize: 4 })).toBe(records.length);
    expect(await enqueueManifest(queue, (async function* () {
      yield* records;
    })(), { batchSize: 100 })).toBe(records.length);
    expect(await allFinished(queue, records.length)).toBe(true);

    const { report, failed, pending } = await collectReport(queue);
    expect(failed).toEqual([]);
    expect(pending).toBe(0);
    expect(comparable(report)).toEqual(comparable(expected));
    // Both workers took part, and each record ran once.
    expect(seenBy[0]?.length).toBeGreaterThan(0);
    expect(seenBy[1]?.length).toBeGreaterThan(0);
    expect([...(seenBy[0] ?? []), ...(seenBy[1] ?? [])].sort()).toEqual(records.map((r) => r.key as string).sort());
    expect(progress.filter((p) => p === 100)).toHaveLength(records.length);
    const reasons = new Map(report.fallbacks.map((f) => [f.key, f.reason]));
    expect(reasons.get('bad/404')).toBe(ErrorCodes.HTTP_STATUS);
    // Job results are RecordResults (completed jobs are removed once folded: read them as they
    // come): every record rendered from a source carries its ThumbHash.
    const rendered = results.filter((r) => r.outcome === 'regenerated' || r.outcome === 'mirror');
    expect(rendered).toHaveLength(9);
    for (const r of rendered) expect(r.thumbhash, r.key).toMatch(/^[A-Za-z0-9+/]{22,36}={0,2}$/);
    expect(reasons.get('bad/not-a-url')).toBe(ErrorCodes.INVALID_URL);
  });

  it.skipIf(!existsSync(DIST))('a worker killed mid-run has its jobs recovered; every record is reported exactly once', async () => {
    const { server, records } = await faultyOrigin(400);
    const expected = await singleProcess(server, records);
    server.resetCounts();
    const queue = newQueue();
    const root = await tempRoot('bullmq-kill');

    // The survivor shares the killed worker's host state; short leases free the killed worker's permits soon.
    const prefix = `kill-${process.pid}-${queueCount}`;
    const coordination = createFleetCoordination({ connection: connection(), prefix, leaseMs: 1_000 });
    fleets.push(coordination);
    const child = spawn(process.execPath, [FIXTURE, String(redis.port), queue.name, server.host, root, '2', JSON.stringify({ prefix, leaseMs: 1_000 })], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let output = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    expect(await until(() => output.includes('ready'), 10_000), stderr).toBe(true);

    await enqueueManifest(queue, records);
    // Kill it while two slow downloads are in flight: their jobs hold locks nobody renews.
    expect(await until(() => (output.match(/^active /gm) ?? []).length >= 2, 10_000)).toBe(true);
    const killedJobs = [...output.matchAll(/^active (\S+)$/gm)].map((m) => m[1]);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    expect(await queue.getActiveCount()).toBeGreaterThanOrEqual(1);

    const regen = regenerator(server, { store: new FileStore(root), coordination });
    const survivor = createWorker(regen, {
      connection: connection(),
      queueName: queue.name,
      concurrency: 4,
      workerOptions: { lockDuration: 1_000, stalledInterval: 500 },
    });
    const stalled: string[] = [];
    survivor.on('stalled', (jobId) => stalled.push(jobId));
    workers.push(survivor);
    expect(await allFinished(queue, records.length, 25_000)).toBe(true);

    const { report, failed, pending } = await collectReport(queue);
    expect(failed).toEqual([]);
    expect(pending).toBe(0);
    expect(report.total).toBe(records.length);
    // The killed worker's jobs came back through the stalled-job check.
    for (const id of killedJobs) expect(stalled).toContain(id);
    // Completed jobs are removed once folded: nothing of them is left in Redis.
    expect(await queue.getJobCounts('completed', 'waiting', 'active')).toMatchObject({ completed: 0, waiting: 0, active: 0 });
    // Every record once: enqueuing the manifest again adds nothing (each one's bit is set).
    await enqueueManifest(queue, records);
    expect(await queue.getJobCounts('waiting', 'prioritized')).toMatchObject({ waiting: 0, prioritized: 0 });
    expect(records.map(jobIdFor)).toHaveLength(records.length);
    // The killed downloads never finished, so nothing was stored twice: the report is the single-process one.
    expect(comparable(report)).toEqual(comparable(expected));
  });

  it('refuses bad options with RETHUMB_CONFIG', async () => {
    const queue = newQueue();
    await expect(enqueueManifest(queue, [], { batchSize: 0 })).rejects.toMatchObject({ code: ErrorCodes.CONFIG });
    const server = await origin({});
    const regen = regenerator(server);
    expect(() => createWorker(regen, { connection: connection(), queueName: '' })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
    expect(() => createWorker(regen, { connection: connection(), queueName: 'q', concurrency: 0 })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
    // A regenerator whose politeness is its own process's would multiply the load by the number of workers.
    expect(regen.coordination).toBe('process');
    expect(() => createWorker(regen, { connection: connection(), queueName: 'q' })).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG, option: 'regen' }));
    const single = createWorker(regen, { connection: connection(), queueName: 'q', requireFleetCoordination: false, workerOptions: { autorun: false } });
    workers.push(single);
    const fleet = regenerator(server, { coordination: fleetCoordination() });
    expect(fleet.coordination).toBe('redis');
    workers.push(createWorker(fleet, { connection: connection(), queueName: 'q', workerOptions: { autorun: false } }));
  });

  it('maxQueued: enqueuing waits for workers, so Redis never holds more than that many waiting jobs', async () => {
    const queue = newQueue();
    const records = Array.from({ length: 12 }, (_, i) => ({ key: `q/${i}`, url: `http://127.0.0.1:9/${i}.jpg` }));
    let resolved = false;
    const enqueuing = enqueueManifest(queue, records, { batchSize: 2, maxQueued: 4 }).then((n) => ((resolved = true), n));
    expect(await until(async () => (await queue.count()) === 4, 5_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(resolved).toBe(false);
    expect(await queue.count()).toBe(4);
    // A worker (its rebuild stubbed: this is about the queue) drains it, and the rest comes in.
    let most = 0;
    const stub = { coordination: 'redis', rebuildRecord: async (record: ThumbRecord) => ({ record, key: String(record.key), outcome: 'stored' as const, written: 0, bytesDownloaded: 0, bytesWritten: 0 }) };
    const worker = createWorker(stub, { connection: connection(), queueName: queue.name, concurrency: 2, onResult: () => void queue.count().then((n) => (most = Math.max(most, n))) });
    workers.push(worker);
    expect(await enqueuing).toBe(12);
    expect(await allFinished(queue, 12)).toBe(true);
    expect(most).toBeLessThanOrEqual(4);
    expect((await collectReport(queue)).report.counts.stored).toBe(12);
    await expect(enqueueManifest(queue, [], { maxQueued: 0 })).rejects.toMatchObject({ code: ErrorCodes.CONFIG, option: 'maxQueued' });
  });

  it('a job whose thumbnails the store refused to write fails (BullMQ retries it) instead of counting as rebuilt', async () => {
    const server = await origin({
      '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' },
      '/b.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' },
    });
    const root = await tempRoot('bullmq-refused');
    // A directory where `a`'s small thumbnail goes: the store refuses that write (as a full disk would).
    await mkdir(join(root, 'a', 'small.webp', 'x'), { recursive: true });
    const queue = newQueue();
    const regen = regenerator(server, { store: new FileStore(root), coordination: fleetCoordination() });
    workers.push(createWorker(regen, { connection: connection(), queueName: queue.name, concurrency: 2 }));
    await enqueueManifest(queue, [
      { key: 'a', url: server.urlFor('/a.jpg') },
      { key: 'b', url: server.urlFor('/b.jpg') },
    ]);
    expect(await allFinished(queue, 2)).toBe(true);
    const { report, failed } = await collectReport(queue);
    expect(report.counts.regenerated).toBe(1);
    expect(failed).toEqual([expect.objectContaining({ record: expect.objectContaining({ key: 'a' }), reason: expect.stringContaining('small.webp') })]);
  });

  it('the running report counts a record once, even when its job runs again after a crash', async () => {
    const queue = newQueue();
    const client = await queue.client;
    const keys = summaryKeys(queue.qualifiedName);
    const result = { record: { key: 'k', url: 'http://x/k.jpg' }, key: 'k', outcome: 'placeholder' as const, reason: ErrorCodes.HTTP_STATUS, written: 0, bytesDownloaded: 0, bytesWritten: 0 };
    const fold = (index: number | undefined, jobId = 'rethumb-AAAAjob') => foldResult(client, keys, { index, jobId, result, maxFallbacks: 1, startedAt: 1_000, finishedAt: 2_000 });
    expect(await fold(7)).toBe(true);
    expect(await fold(7)).toBe(false);
    expect(await fold(8, 'rethumb-BBBBjob')).toBe(true);
    expect(await fold(undefined, 'by-hand')).toBe(true);
    expect(await fold(undefined, 'by-hand')).toBe(false);
    const { report } = await collectReport(queue);
    expect(report).toMatchObject({ total: 3, counts: { placeholder: 3 }, fallbacksDropped: 2, durationMs: 1_000 });
    expect(report.fallbacks).toHaveLength(1);
    expect(await doneSlots(client, keys, [6, 7, 8].map((index) => ({ index, jobId: 'rethumb-BBBBjob' })))).toEqual(['free', 'other', 'done']);
    // A different manifest in this queue is refused (its records would take the same indexes).
    await expect(enqueueManifest(queue, Array.from({ length: 9 }, (_, i) => ({ key: `other/${i}`, url: `http://x/${i}.jpg` })))).rejects.toMatchObject({ code: ErrorCodes.CONFIG, option: 'queue' });
  });
});
