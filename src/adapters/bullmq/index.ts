/**
 * `rethumb/bullmq`: scale a rebuild out over BullMQ workers on Redis. Requires the optional
 * peer dependency `bullmq`.
 *
 * enqueueManifest(queue, records) → createWorker(regen, …) on each machine → collectReport(queue).
 */
export { enqueueManifest, type EnqueueManifestOptions, type RebuildJobData } from './enqueue-manifest.js';
export { createWorker, type CreateWorkerOptions, type WorkerRegenerator } from './create-worker.js';
export { collectReport, type CollectReportOptions, type QueueReport, type FailedJob } from './collect-report.js';
export { jobIdFor } from './job-id.js';
export { createFleetCoordination, type FleetCoordination, type FleetCoordinationOptions } from './fleet-coordination.js';
