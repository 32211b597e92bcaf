/**
 * One BullMQ worker process of the fleet bench (`bench/fleet.js`): the rebuild pipeline with the
 * fleet's coordination, as a user runs it. Prints `ready`, and on SIGTERM its CPU time as one
 * JSON line before it exits.
 *
 *   node bench/fleet-worker.js '<json: { port, queue, allowHost, out, prefix, concurrency }>'
 */
import { createFleetCoordination, createWorker } from '../dist/adapters/bullmq/index.js';
import { createRegenerator, FileStore } from '../dist/index.js';
import { tuneHeapForBatch } from '../dist/cli/tune-heap.js';
import { peakRssBytes } from './peak-rss.js';

// As the `rethumb` bin starts (the bench's single-process rows run with it too).
tuneHeapForBatch();
const config = JSON.parse(process.argv[2] ?? '{}');
const connection = { host: '127.0.0.1', port: config.port };
const coordination = createFleetCoordination({ connection, prefix: config.prefix });
const regen = createRegenerator({
  store: new FileStore(config.out),
  variants: { small: { width: 150, height: 150, fit: 'cover' }, large: { width: 800 } },
  format: 'webp',
  allowHosts: [config.allowHost],
  coordination,
});
const worker = createWorker(regen, { connection, queueName: config.queue, concurrency: config.concurrency ?? 20 });
await worker.waitUntilReady();
await coordination.ready();
process.stdout.write('ready\n');
process.once('SIGTERM', async () => {
  await worker.close();
  await regen.close();
  await coordination.close();
  const usage = process.resourceUsage();
  process.stdout.write(`${JSON.stringify({ cpuMs: Math.round((usage.userCPUTime + usage.systemCPUTime) / 1000), peakRssMb: Math.round(peakRssBytes() / 1024 / 1024) })}\n`);
  process.exit(0);
});
