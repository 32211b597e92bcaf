/**
 * The negative cache of a fleet, in Redis: a URL that failed in one worker is skipped by every
 * worker until its TTL ends, so a dead URL is fetched once per TTL by the whole fleet. The same
 * policy as one process (`retentionOf`: what is the source's doing, which class, which TTL).
 *
 * Bounded in bytes: a key is a hash of the URL (22 base64url characters, whatever the URL's
 * length), a value is the failure without its URL and with its message cut to 200 characters,
 * and at most `maxEntries` are kept: an index sorted by expiry drops the expired ones and then
 * those nearest to expiry. Every key expires on its own TTL.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from 'bullmq';
import type { FailureClass } from '../../failure-class.js';
import { retentionOf } from '../../regenerator/negative-cache.js';
import type { FailureMemory, FailureMemorySettings, RecentFailure } from '../../scheduling/failure-memory.js';
import type { SourceFailure } from '../../types.js';
import { runScript, type Script } from './redis-scripts.js';

/** KEYS: index, entry. ARGV: value, ttlMs, maxEntries. Returns the entries kept. */
const REMEMBER: Script = {
  name: 'rethumbFailureRemember',
  keys: 2,
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local max = tonumber(ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ttl)
redis.call('ZADD', KEYS[1], now + ttl, KEYS[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local over = redis.call('ZCARD', KEYS[1]) - max
if over > 0 then
  local gone = redis.call('ZPOPMIN', KEYS[1], over)
  for i = 1, #gone, 2 do redis.call('DEL', gone[i]) end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return redis.call('ZCARD', KEYS[1])
`,
};

/** KEYS: index, entry. */
const FORGET: Script = {
  name: 'rethumbFailureForget',
  keys: 2,
  lua: `
redis.call('ZREM', KEYS[1], KEYS[2])
return redis.call('DEL', KEYS[2])
`,
};

const MAX_MESSAGE = 200;

interface StoredFailure {
  c: FailureClass;
  f: Omit<SourceFailure, 'source'>;
}

export interface RedisFailureMemoryOptions {
  client: () => Promise<RedisClient>;
  /** Key prefix, e.g. `rethumb`. */
  prefix: string;
}

export class RedisFailureMemory implements FailureMemory {
  readonly #settings: FailureMemorySettings;
  readonly #options: RedisFailureMemoryOptions;
  /** One hash tag for the index and every entry: the scripts touch both (one Cluster slot). */
  readonly #base: string;
  #size = 0;

  constructor(settings: FailureMemorySettings, options: RedisFailureMemoryOptions) {
    this.#settings = settings;
    this.#options = options;
    this.#base = `${options.prefix}:{failures}`;
  }

  /** Entries in the fleet's memory, as of this process's latest write. */
  get size(): number {
    return this.#size;
  }

  async recall(url: string): Promise<RecentFailure | undefined> {
    if (this.#settings.maxEntries === 0) return undefined;
    try {
      const client = await this.#options.client();
      const value = await client.get(this.#key(url));
      if (value === null) return undefined;
      const stored = JSON.parse(value) as StoredFailure;
      return { failure: { ...stored.f, source: url }, failureClass: stored.c };
    } catch {
      // Unreachable or unreadable: fetch (and learn again) rather than fail the record.
      return undefined;
    }
  }

  remember(url: string, failure: SourceFailure): void {
    const { maxEntries } = this.#settings;
    if (maxEntries === 0) return;
    const retention = retentionOf(failure, this.#settings);
    if (!retention) return;
    const { source: _source, ...rest } = failure;
    const stored: StoredFailure = { c: retention.failureClass, f: { ...rest, message: rest.message.slice(0, MAX_MESSAGE) } };
    void this.#run(REMEMBER, url, [JSON.stringify(stored), retention.ttlMs, maxEntries]).then((kept) => {
      if (typeof kept === 'number') this.#size = kept;
    });
  }

  forget(url: string): void {
    if (this.#settings.maxEntries === 0) return;
    void this.#run(FORGET, url, []);
  }

  async #run(script: Script, url: string, args: Array<string | number>): Promise<unknown> {
    try {
      const client = await this.#options.client();
      return await runScript(client, script, [`${this.#base}:index`, this.#key(url)], args);
    } catch {
      // A lost write costs one more fetch of that URL, nothing else.
      return undefined;
    }
  }

  #key(url: string): string {
    return `${this.#base}:${createHash('sha256').update(url, 'utf8').digest('base64url').slice(0, 22)}`;
  }
}
