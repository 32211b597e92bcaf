/**
 * The default `coordination`: host state and failure memory of one process (one regenerator's
 * own `LocalHostCoordinator` and `NegativeCache`). Processes that download for the same job
 * share nothing with it: use `rethumb/bullmq`'s `createFleetCoordination()` for BullMQ workers.
 */
import type { Coordination } from '../scheduling/coordination.js';
import { LocalHostCoordinator } from '../scheduling/local-host-coordinator.js';
import { NegativeCache } from './negative-cache.js';

export const processCoordination: Coordination = Object.freeze<Coordination>({
  scope: 'process',
  hosts: (settings) => new LocalHostCoordinator(settings),
  failures: (settings) => new NegativeCache(settings, settings.now),
});
