/**
 * rethumb/bullmq over a real redis-server on loopback: two workers rebuild a manifest with
 * faults and their combined report equals a single-process rebuild; a worker killed mid-run
 * (a real child process, SIGKILL) has its jobs recovered by BullMQ's stalled-job check, and
 * every record is in the final report exactly once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Queue, type Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { collectReport, createWorker, enqueueManifest, jobIdFor } from '../../src/adapters/bullmq/index.js';
import { ErrorCodes } from '../../src/errors.js';
import { FileStore, type RebuildReport, type RecordResult, type ThumbRecord } from '../../src/index.js';
import type { TestOrigin } from '../../src/testing/index.js';
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
  });

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

  /** The parts of a report that must not depend on how the work was spread. */
  function comparable(report: RebuildReport) {
    return {
      total: report.total,
      counts: report.counts,
      bytesDownloaded: report.bytesDownloaded,
      bytesWritten: report.bytesWritten,
      fallbacksDropped: report.fallbacksDropped,
      aborted: report.aborted,
      fallbacks: report.fallbacks
        .map((f) => ({ key: f.key, outcome: f.outcome, reason: f.reason, written: f.written, failures: f.failures?.map((x) => [x.source, x.code, x.status]) }))
        .sort((a, b) => a.key.localeCompare(b.key)),
    };
  }

  async function singleProcess(server: TestOrigin, records: ThumbRecord[]): Promise<RebuildReport> {
    const regen = regenerator(server, { store: new FileStore(await tempRoot('bullmq-single')) });
    return regen.rebuild(records);
  }

  async function allFinished(queue: Queue, total: number, timeoutMs = 20_000): Promise<boolean> {
    return until(async () => {
      const counts = await queue.getJobCounts('completed', 'failed');
      return (counts.completed ?? 0) + (counts.failed ?? 0) >= total;
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
    for (const index of [0, 1]) {
      // Two regenerators on one file store: two machines sharing a volume.
      const regen = regenerator(server, { store: new FileStore(root) });
      const worker = createWorker(regen, {
        connection: connection(),
        queueName: queue.name,
        concurrency: 3,
        onResult: (result) => seenBy[index]?.push(result.key),
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
    // Job results are RecordResults: every record rendered from a source carries its ThumbHash.
    const results = (await queue.getJobs(['completed'], 0, -1)).map((job) => job.returnvalue as RecordResult);
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

    const child = spawn(process.execPath, [FIXTURE, String(redis.port), queue.name, server.host, root, '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
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

    const regen = regenerator(server, { store: new FileStore(root) });
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
    const completed = await queue.getJobs(['completed'], 0, -1);
    expect(completed.map((job) => job.id).sort()).toEqual(records.map(jobIdFor).sort());
    expect(new Set(completed.map((job) => (job.returnvalue as { key: string }).key)).size).toBe(records.length);
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
  });
});
