// Scale a rebuild out over BullMQ: one process enqueues the manifest, any number of machines run
// this worker, and anyone collects the report (the same report a single process would make).
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/bullmq-worker.js          # a worker, until SIGTERM
//   REDIS_URL=redis://127.0.0.1:6379 node examples/bullmq-worker.js --demo   # enqueue, work, report, exit
import { Queue } from 'bullmq';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRegenerator, FileStore } from 'rethumb';
import { collectReport, createFleetCoordination, createWorker, enqueueManifest } from 'rethumb/bullmq';
import { demoOrigin } from './support/demo-origin.js';

const demo = process.argv.includes('--demo');
const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const connection = { host: redis.hostname, port: Number(redis.port || 6379) };
const queueName = process.env.QUEUE ?? (demo ? `rethumb-demo-${process.pid}` : 'rethumb');
const origin = demo ? await demoOrigin() : undefined;

// The demo writes to a temp directory it removes; a real service to THUMBS_DIR.
const thumbsDir = process.env.THUMBS_DIR ?? (demo ? await mkdtemp(join(tmpdir(), 'rethumb-example-')) : './thumbs');
// Every worker shares each origin's cap, slow start, Retry-After pauses, circuit and failed URLs
// through Redis: ten workers are one polite client, not ten.
const coordination = createFleetCoordination({ connection });
const regen = createRegenerator({
  store: new FileStore(thumbsDir),
  variants: { small: { width: 150, height: 150, fit: 'cover' } },
  coordination,
  ...(origin ? { allowHosts: [origin.host] } : {}),
});
const worker = createWorker(regen, {
  connection,
  queueName,
  concurrency: 20,
  // At most 50 records a second across every worker of the queue.
  limiter: { max: 50, duration: 1000 },
  onResult: (result) => console.log(`${result.key}: ${result.outcome}${result.reason ? ` (${result.reason})` : ''}`),
});
const shutdown = async () => {
  await worker.close();
  await regen.close();
  await coordination.close();
};
process.once('SIGTERM', shutdown);

if (origin) {
  const queue = new Queue(queueName, { connection });
  const records = Array.from({ length: 10 }, (_, n) => ({ key: `photos/${n}`, url: origin.urlFor(`/photo-${n}.jpg`) }));
  records.push({ key: 'photos/gone', url: origin.urlFor('/gone.jpg') });
  await enqueueManifest(queue, records, { batchSize: 5 });
  // Bounded wait: 200 × 50 ms. Completed jobs are removed once folded into the queue's report.
  for (let i = 0; i < 200; i++) {
    const { report, failed } = await collectReport(queue);
    if (report.total + failed.length >= records.length) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const { report, failed, pending } = await collectReport(queue);
  console.log(`demo: ${report.total} records ${JSON.stringify(report.counts)}, failed ${failed.length}, pending ${pending}`);
  await queue.obliterate({ force: true });
  await queue.close();
  await shutdown();
  await origin.close();
  if (!process.env.THUMBS_DIR) await rm(thumbsDir, { recursive: true, force: true });
}
