/**
 * `createFleetCoordination({ connection })`: the `coordination` that makes every BullMQ worker
 * of a fleet one polite client to each origin. Pass it to `createRegenerator` in each worker:
 *
 *   const fleet = createFleetCoordination({ connection });
 *   const regen = createRegenerator({ store, variants, coordination: fleet });
 *   const worker = createWorker(regen, { connection, queueName });
 *
 * Shared through Redis, per origin host: the cap (`perHost.concurrency`) with its slow-start
 * ramp and halving, the rate (`perHost.intervalMs`/`intervalCap`), `Retry-After` pauses, the
 * circuit breaker with its single probe; and the negative cache. Per process: `concurrency`
 * and the order of its own downloads.
 *
 * Why scripts on the queue's Redis rather than one BullMQ queue per host with
 * `setGlobalConcurrency` / `setGlobalRateLimit` / `rateLimit()`:
 * - a job is a record, not a request: its `url` and its mirrors may be on different hosts,
 *   it retries inside the job, and it keeps its slot while it renders and stores; a
 *   `get()` on the request path has no job at all. The cap must hold for requests;
 * - a queue per host means a worker (and a blocking Redis connection) per host in every
 *   process: a manifest with thousands of hosts would open thousands of connections per
 *   worker; per-group concurrency, which would avoid it, is a BullMQ Pro feature;
 * - `setGlobalConcurrency` is a fixed number: a slow-start ramp that halves on 429 would be
 *   every worker rewriting it (lost updates without a script of our own anyway);
 * - a queue-wide `rateLimit()` for a `Retry-After` delays the queue's next jobs, not the
 *   retries already running inside jobs, and nothing in BullMQ is a circuit breaker whose
 *   records fall back at once.
 * So each host decision is one atomic Lua script (`host-scripts.ts`) on the same Redis, with
 * leases that expire when a worker dies; BullMQ still does what it is made for: the jobs,
 * stalled-job recovery, attempts, removal of completed jobs.
 */
import { isRedisInstance, RedisConnection, type ConnectionOptions, type RedisClient } from 'bullmq';
import { ConfigError } from '../../errors.js';
import { integer, nonEmptyString } from '../../options.js';
import type { Coordination } from '../../scheduling/coordination.js';
import type { HostCoordinator } from '../../scheduling/host-coordinator.js';
import { RedisFailureMemory } from './redis-failure-memory.js';
import { RedisHostCoordinator } from './redis-host-coordinator.js';
import { ReleaseNotices } from './release-notices.js';

export interface FleetCoordinationOptions {
  /** Redis connection (ioredis options or instance, as for BullMQ's `Queue` and `Worker`). */
  connection: ConnectionOptions;
  /**
   * Prefix of every key. Workers share politeness with everyone using the same prefix on the
   * same Redis — across queues and jobs too, as an origin should see one client.
   * @default 'rethumb'
   */
  prefix?: string;
  /**
   * Lease of one download's permit, in ms: renewed every third of it while the download runs;
   * a worker killed mid-download frees its permits this long after.
   * @default the regenerator's `timeoutMs` (30 s by default): a download never outlives it.
   */
  leaseMs?: number;
}

/** A `Coordination` over Redis; `close()` it after the regenerators that use it. */
export interface FleetCoordination extends Coordination {
  readonly scope: 'redis';
  /** Resolves once Redis answers (rejects when it cannot be reached). */
  ready(): Promise<void>;
  /** Close its Redis connections (a connection instance you passed stays open). */
  close(): Promise<void>;
}

export function createFleetCoordination(options: FleetCoordinationOptions): FleetCoordination {
  if (options === null || typeof options !== 'object') throw new ConfigError('options', 'an object `{ connection, prefix?, leaseMs? }`', options);
  const { connection } = options;
  if (connection === null || typeof connection !== 'object') throw new ConfigError('connection', 'Redis connection options or an ioredis instance (as for BullMQ)', connection);
  const prefix = nonEmptyString('prefix', options.prefix ?? 'rethumb');
  if (prefix.includes('{') || prefix.includes('}')) throw new ConfigError('prefix', 'a prefix without `{` or `}` (rethumb adds its own hash tags)', prefix);
  const leaseMs = options.leaseMs === undefined ? undefined : integer('leaseMs', options.leaseMs, 300, 3_600_000);

  // BullMQ's own connection class (its options object since 5.38, hence the peer range): the same
  // `connection` as the queue and workers, whatever the driver behind it.
  const redis = new RedisConnection(connection, { shared: isRedisInstance(connection), blocking: false });
  // Errors reach callers as failed commands; an unhandled 'error' event must not crash the worker.
  redis.on('error', () => {});
  const notices = new ReleaseNotices(`${prefix}:released`);
  let subscribed = false;
  const client = async (): Promise<RedisClient> => {
    const ready = await redis.client;
    if (!subscribed) {
      subscribed = true;
      void notices.start(ready).then((ok) => (noticesReady = ok));
    }
    return ready;
  };
  let noticesReady = false;
  const coordinators = new Set<HostCoordinator>();
  let closed: Promise<void> | undefined;

  return Object.freeze({
    scope: 'redis' as const,
    hosts(settings) {
      const coordinator = new RedisHostCoordinator(settings, { client, prefix, leaseMs: leaseMs ?? settings.timeoutMs, notices, noticesReady: () => noticesReady });
      coordinators.add(coordinator);
      return coordinator;
    },
    failures(settings) {
      return new RedisFailureMemory(settings, { client, prefix });
    },
    async ready() {
      await client();
    },
    close() {
      closed ??= (async () => {
        await Promise.all([...coordinators].map((c) => c.close()));
        await notices.close();
        await redis.close();
      })();
      return closed;
    },
  } satisfies FleetCoordination);
}
