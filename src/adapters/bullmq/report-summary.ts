/**
 * The running report of a queue, in Redis, so completed jobs can be removed at once and a
 * million records leave a few hundred KB behind instead of a million job hashes:
 *
 * - `summary` (hash): total, a count per outcome, bytes, fallbacks dropped, first start and
 *   last finish;
 * - `fallbacks` (list): the first `maxReportedFallbacks` fallen-back results (JSON);
 * - `done` (bitmap): one bit per manifest index, set by the fold.
 *
 * The fold is one Lua script that sets the record's bit and adds its result only if the bit
 * was clear: a worker SIGKILLed after folding but before completing its job leaves a stalled
 * job that runs again, and its second fold changes nothing, so the report stays exact. The
 * same bits let `enqueueManifest` skip records already done when a manifest is enqueued again.
 * Jobs without an index (enqueued by hand) are remembered by id in a set instead.
 */
import type { RedisClient } from 'bullmq';
import type { RecordOutcome, RecordResult } from '../../regenerator/rebuild-types.js';
import { runScript, type Script } from './redis-scripts.js';

const OUTCOMES: readonly RecordOutcome[] = ['stored', 'regenerated', 'mirror', 'derived', 'placeholder'];

/**
 * KEYS: summary, done, fallbacks, doneIds. ARGV: index (-1: none), jobId, outcome,
 * bytesDownloaded, bytesWritten, fallback JSON ('' when not a fallback), maxFallbacks,
 * startedAt, finishedAt. Returns 1 when folded, 0 when this record was folded before.
 */
const FOLD: Script = {
  name: 'rethumbFoldResult',
  keys: 4,
  lua: `
local index = tonumber(ARGV[1])
local first
if index >= 0 then first = redis.call('SETBIT', KEYS[2], index, 1) == 0
else first = redis.call('SADD', KEYS[4], ARGV[2]) == 1 end
if not first then return 0 end
redis.call('HINCRBY', KEYS[1], 'total', 1)
redis.call('HINCRBY', KEYS[1], 'count:' .. ARGV[3], 1)
redis.call('HINCRBY', KEYS[1], 'bytesDownloaded', ARGV[4])
redis.call('HINCRBY', KEYS[1], 'bytesWritten', ARGV[5])
if ARGV[6] ~= '' then
  if redis.call('LLEN', KEYS[3]) < tonumber(ARGV[7]) then redis.call('RPUSH', KEYS[3], ARGV[6])
  else redis.call('HINCRBY', KEYS[1], 'fallbacksDropped', 1) end
end
local started = tonumber(redis.call('HGET', KEYS[1], 'startedAt') or '')
if not started or tonumber(ARGV[8]) < started then redis.call('HSET', KEYS[1], 'startedAt', ARGV[8]) end
local finished = tonumber(redis.call('HGET', KEYS[1], 'finishedAt') or '')
if not finished or tonumber(ARGV[9]) > finished then redis.call('HSET', KEYS[1], 'finishedAt', ARGV[9]) end
return 1
`,
};

/** KEYS: done. ARGV: index… Returns one bit per index. */
const DONE_BITS: Script = {
  name: 'rethumbDoneBits',
  keys: 1,
  lua: `
local bits = {}
for i = 1, #ARGV do bits[i] = redis.call('GETBIT', KEYS[1], ARGV[i]) end
return bits
`,
};

export interface SummaryKeys {
  summary: string;
  done: string;
  fallbacks: string;
  doneIds: string;
}

/** The summary's keys for a queue, under its qualified name (`<prefix>:<queue>`), so `obliterate()` removes them too. */
export function summaryKeys(qualifiedName: string): SummaryKeys {
  const base = `${qualifiedName}:rethumb`;
  return { summary: `${base}:summary`, done: `${base}:done`, fallbacks: `${base}:fallbacks`, doneIds: `${base}:done-ids` };
}

export interface FoldInput {
  /** The record's position in its manifest, or undefined for a job enqueued without one. */
  index: number | undefined;
  jobId: string;
  result: RecordResult;
  maxFallbacks: number;
  startedAt: number;
  finishedAt: number;
}

/** Add one record's result to the queue's summary, once. Resolves true when it counted. */
export async function foldResult(client: RedisClient, keys: SummaryKeys, input: FoldInput): Promise<boolean> {
  const { result } = input;
  const fallback = result.outcome === 'derived' || result.outcome === 'placeholder' ? JSON.stringify(result) : '';
  const folded = await runScript<number>(client, FOLD, [keys.summary, keys.done, keys.fallbacks, keys.doneIds], [
    input.index ?? -1,
    input.jobId,
    result.outcome,
    result.bytesDownloaded,
    result.bytesWritten,
    fallback,
    input.maxFallbacks,
    Math.round(input.startedAt),
    Math.round(input.finishedAt),
  ]);
  return Number(folded) === 1;
}

/** Which of `indexes` are done (folded). */
export async function doneBits(client: RedisClient, keys: SummaryKeys, indexes: readonly number[]): Promise<boolean[]> {
  if (indexes.length === 0) return [];
  const bits = await runScript<number[]>(client, DONE_BITS, [keys.done], indexes);
  return bits.map((bit) => Number(bit) === 1);
}

export interface Summary {
  total: number;
  counts: Record<RecordOutcome, number>;
  bytesDownloaded: number;
  bytesWritten: number;
  fallbacksDropped: number;
  startedAt: number | undefined;
  finishedAt: number | undefined;
}

export async function readSummary(client: RedisClient, keys: SummaryKeys): Promise<Summary> {
  const hash = await client.hgetall(keys.summary);
  const n = (field: string): number => Number(hash[field] ?? 0);
  const counts = Object.fromEntries(OUTCOMES.map((outcome) => [outcome, n(`count:${outcome}`)])) as Record<RecordOutcome, number>;
  return {
    total: n('total'),
    counts,
    bytesDownloaded: n('bytesDownloaded'),
    bytesWritten: n('bytesWritten'),
    fallbacksDropped: n('fallbacksDropped'),
    startedAt: hash.startedAt === undefined ? undefined : Number(hash.startedAt),
    finishedAt: hash.finishedAt === undefined ? undefined : Number(hash.finishedAt),
  };
}

/** The stored fallbacks, `pageSize` per Redis call, at most `max`. */
export async function readFallbacks(client: RedisClient, keys: SummaryKeys, max: number, pageSize: number): Promise<{ fallbacks: RecordResult[]; stored: number }> {
  const stored = await client.llen(keys.fallbacks);
  const fallbacks: RecordResult[] = [];
  for (let start = 0; start < Math.min(stored, max); start += pageSize) {
    const end = Math.min(start + pageSize, max, stored) - 1;
    for (const json of await client.lrange(keys.fallbacks, start, end)) fallbacks.push(JSON.parse(json) as RecordResult);
  }
  return { fallbacks, stored };
}
