/**
 * How the processes downloading for one job share their politeness: a factory of host
 * coordinators and failure memories, given to `createRegenerator({ coordination })`. The
 * default coordinates within one process; `rethumb/bullmq`'s `createFleetCoordination()` across
 * BullMQ workers over Redis; `rethumb rebuild --processes N` across its worker processes.
 */
import type { FailureMemoryFactory } from './failure-memory.js';
import type { HostCoordinatorFactory } from './host-coordinator.js';

export interface Coordination {
  /**
   * What the state is shared across: `'process'` for the default, e.g. `'redis'` or `'ipc'` for
   * others. `rethumb/bullmq`'s `createWorker` refuses a regenerator whose scope is `'process'`.
   */
  readonly scope: string;
  /** A host coordinator with one regenerator's politeness settings (called once per regenerator). */
  readonly hosts: HostCoordinatorFactory;
  /** A failure memory with one regenerator's negative-cache settings (called once per regenerator). */
  readonly failures: FailureMemoryFactory;
}
