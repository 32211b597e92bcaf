/**
 * `rethumb/bullmq`: scale a rebuild out over BullMQ workers on Redis, as one polite client to
 * every origin. Requires the optional peer dependency `bullmq`.
 *
 * enqueueManifest(queue, records) → on each machine: createFleetCoordination({ connection }),
 * createRegenerator({ …, coordination }), createWorker(regen, …) → collectReport(queue).
 */
export { enqueueManifest, type EnqueueManifestOptions, type RebuildJobData } from './enqueue-manifest.js';
export { createWorker, type CreateWorkerOptions, type WorkerRegenerator } from './create-worker.js';
export { collectReport, type CollectReportOptions, type QueueReport, type FailedJob } from './collect-report.js';
export { jobIdFor } from './job-id.js';
export { createFleetCoordination, type FleetCoordination, type FleetCoordinationOptions } from './fleet-coordination.js';
