/**
 * The fleet figures of `npm run bench` (rethumb/bullmq over a real redis-server on loopback):
 *
 * - Redis memory (`INFO memory` used_memory) per 100 000 records queued by `enqueueManifest`,
 *   and once they are finished (results folded into the queue's running report, completed jobs
 *   removed): per 100 000 records, plus BullMQ's capped event stream, a constant;
 * - a fleet of 2 BullMQ worker processes against 1 on the same manifest: images/s (enqueue to
 *   last result) and CPU ms per image (every worker process's CPU, start-up included).
 *
 * Skipped, with the reason in the figures, when redis-server is not installed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { collectReport, createWorker, enqueueManifest } from '../dist/adapters/bullmq/index.js';

const WORKER = fileURLToPath(new URL('./fleet-worker.js', import.meta.url));

/**
 * @param {{ origin: { host: string, urlFor(path: string): string }, paths: string[], root: string, log: (line: string) => void, redisRecords: number, rounds: number }} options
 * @returns {Promise<Record<string, unknown>>}
 */
export async function fleetFigures(options) {
  const binary = process.env.REDIS_SERVER ?? 'redis-server';
  if (spawnSync(binary, ['--version']).status !== 0) return { fleet: 'skipped: redis-server not found' };
  const redis = await startRedis(binary);
  try {
    return { ...(await redisMemory(redis.port, options)), ...(await fleetVsOne(redis.port, options)) };
  } finally {
    redis.stop();
  }
}

/**
 * @param {number} port
 * @param {{ redisRecords: number, log: (line: string) => void }} options
 */
async function redisMemory(port, { redisRecords: n, log }) {
  const connection = { host: '127.0.0.1', port };
  const queue = new Queue('bench-memory', { connection });
  const client = await queue.client;
  const used = async () => Number(/used_memory:(\d+)/.exec(await client.info())?.[1]);
  try {
    // Records shaped like a photo site's: a key and a CDN URL of ~90 characters.
    const records = function* (count = n) {
      for (let i = 0; i < count; i += 1) yield { key: `photos/${String(i).padStart(9, '0')}`, url: `https://images.example-cdn.com/uploads/2019/${i % 12}/${(i * 2654435761) % 4294967296}-IMG_${i}.jpg` };
    };
    const before = await used();
    log(`fleet: enqueueing ${n.toLocaleString('en-US')} records into Redis…`);
    await enqueueManifest(queue, records());
    const queued = await used();
    // Finished: a worker with the real fold and removal, its rebuild replaced by an instant result
    // (1 % fall back, so the fallback list is in the figure too).
    log('fleet: finishing them (instant results, real fold and job removal)…');
    let finished = 0;
    const worker = createWorker(
      {
        coordination: 'bench',
        rebuildRecord: async (record) => {
          const i = Number(String(record.key).slice(7));
          const fallback = i % 100 === 0;
          return fallback
            ? { record, key: String(record.key), outcome: 'placeholder', reason: 'RETHUMB_HTTP_STATUS', failures: [{ source: record.url, code: 'RETHUMB_HTTP_STATUS', status: 404, message: `HTTP 404 from ${record.url}` }], written: 0, bytesDownloaded: 0, bytesWritten: 0 }
            : { record, key: String(record.key), outcome: 'stored', written: 0, bytesDownloaded: 0, bytesWritten: 0 };
        },
      },
      { connection, queueName: queue.name, concurrency: 200, onResult: () => (finished += 1) },
    );
    // Bounded: at most 20 minutes.
    for (let i = 0; i < 12_000 && (await collectReport(queue, { maxReportedFallbacks: 0 })).report.total < n; i += 1) await new Promise((r) => setTimeout(r, 100));
    await worker.close();
    const done = await used();
    // BullMQ's event stream is capped (~10 000 events): a constant, not a cost per record.
    const call = /** @type {(...args: string[]) => Promise<unknown>} */ (/** @type {any} */ (client).call.bind(client));
    const events = Number(await call('MEMORY', 'USAGE', `${queue.qualifiedName}:events`));
    const { report } = await collectReport(queue);
    if (report.total !== n) throw new Error(`expected ${n} folded results, got ${report.total}`);
    await queue.obliterate({ force: true });
    const mb = (/** @type {number} */ bytes) => Math.round((bytes / 1024 / 1024) * 10) / 10;
    return {
      redis_records: n,
      redis_mb_per_100k_queued: mb(((queued - before) / n) * 100_000),
      redis_mb_after_finished: mb(done - before),
      redis_mb_events_stream: mb(events),
      redis_mb_per_100k_finished: mb(((done - before - events) / n) * 100_000),
      redis_finished_fallbacks: report.fallbacks.length,
    };
  } finally {
    await queue.close();
  }
}

/**
 * @param {number} port
 * @param {{ origin: { host: string, urlFor(path: string): string }, paths: string[], root: string, log: (line: string) => void, rounds: number }} options
 */
async function fleetVsOne(port, { origin, paths, root, log, rounds }) {
  const records = paths.map((path, i) => ({ key: `f/${i}`, url: origin.urlFor(path) }));
  /** @type {Record<number, Array<{ perSecond: number, cpuMsPerImage: number }>>} */
  const runs = { 1: [], 2: [] };
  let id = 0;
  for (let round = 0; round < rounds; round += 1) {
    for (const processes of [1, 2]) {
      id += 1;
      const result = await fleetRun(port, { processes, records, origin, out: join(root, `fleet-store-${id}`), queueName: `bench-fleet-${id}`, prefix: `bench-${id}` });
      log(`  fleet of ${processes}: ${records.length} in ${result.ms} ms = ${result.perSecond}/s, ${result.cpuMsPerImage} CPU ms per image`);
      runs[processes]?.push(result);
    }
  }
  const best = (/** @type {Array<{ perSecond: number, cpuMsPerImage: number }>} */ list) => list.reduce((x, y) => (y.perSecond > x.perSecond ? y : x));
  const one = best(runs[1] ?? []);
  const two = best(runs[2] ?? []);
  return {
    fleet_records: records.length,
    fleet_1_images_per_s: one.perSecond,
    fleet_2_images_per_s: two.perSecond,
    fleet_2_vs_1: Math.round((two.perSecond / one.perSecond) * 1000) / 1000,
    fleet_1_cpu_ms_per_image: Math.min(...(runs[1] ?? []).map((r) => r.cpuMsPerImage)),
    fleet_2_cpu_ms_per_image: Math.min(...(runs[2] ?? []).map((r) => r.cpuMsPerImage)),
  };
}

/**
 * @param {number} port
 * @param {{ processes: number, records: Array<{ key: string, url: string }>, origin: { host: string }, out: string, queueName: string, prefix: string }} options
 */
async function fleetRun(port, { processes, records, origin, out, queueName, prefix }) {
  const connection = { host: '127.0.0.1', port };
  const queue = new Queue(queueName, { connection });
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, [WORKER, JSON.stringify({ port, queue: queueName, allowHost: origin.host, out, prefix, concurrency: 20 })], { stdio: ['ignore', 'pipe', 'inherit'] }),
  );
  const outputs = children.map(() => '');
  children.forEach((child, i) => child.stdout?.on('data', (chunk) => (outputs[i] += chunk.toString())));
  try {
    await waitFor(() => outputs.every((o) => o.includes('ready')), 60_000, 'workers ready');
    const started = performance.now();
    await enqueueManifest(queue, records);
    await waitFor(async () => (await collectReport(queue, { maxReportedFallbacks: 0 })).report.total >= records.length, 600_000, 'all records', 20);
    const ms = performance.now() - started;
    const { report } = await collectReport(queue);
    if (report.counts.regenerated !== records.length) throw new Error(`fleet of ${processes}: ${JSON.stringify(report.counts)}`);
    const exits = children.map((child) => new Promise((resolve) => child.once('exit', resolve)));
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(exits);
    const cpuMs = outputs.reduce((sum, o) => sum + (JSON.parse(o.trim().split('\n').at(-1) ?? '{}').cpuMs ?? 0), 0);
    return { ms: Math.round(ms), perSecond: Math.round((records.length / ms) * 1000 * 10) / 10, cpuMsPerImage: Math.round((cpuMs / records.length) * 10) / 10 };
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/**
 * Poll until `condition` holds (bounded).
 * @param {() => boolean | Promise<boolean>} condition
 * @param {number} timeoutMs
 * @param {string} what
 * @param {number} [everyMs]
 */
async function waitFor(condition, timeoutMs, what, everyMs = 50) {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** @param {string} binary */
async function startRedis(binary) {
  const port = await new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(free));
    });
  });
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
    child.stdout?.on('data', (chunk) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
  });
  child.stdout?.resume();
  return { port: /** @type {number} */ (port), stop: () => child.kill('SIGTERM') };
}
