/**
 * The running report of a queue, in Redis, so completed jobs can be removed at once and a
 * million records leave a few hundred KB behind instead of a million job hashes:
 *
 * - `summary` (hash): total, a count per outcome, bytes, fallbacks dropped, first start and
 *   last finish;
 * - `fallbacks` (list): the first `maxReportedFallbacks` fallen-back results (JSON);
 * - `done` (string): 4 bytes per manifest index, the record's mark (4 characters of its job
 *   id, itself a hash of its key), written by the fold: 4 MB per million records.
 *
 * The fold is one Lua script that writes the record's mark and adds its result only if its
 * slot was empty: a worker SIGKILLed after folding but before completing its job leaves a
 * stalled job that runs again, and its second fold changes nothing, so the report stays exact.
 * The marks also let `enqueueManifest` skip records already done when the same manifest is
 * enqueued again, and refuse a different manifest in a queue that holds one (its records would
 * take the same indexes). Jobs without an index (added by hand) are remembered by id in a set.
 */
import type { RedisClient } from 'bullmq';
import type { RecordOutcome, RecordResult } from '../../regenerator/rebuild-types.js';
import { runScript, type Script } from './redis-scripts.js';

const OUTCOMES: readonly RecordOutcome[] = ['stored', 'regenerated', 'mirror', 'derived', 'placeholder'];

/** An empty slot of `done` (SETRANGE pads with zero bytes). */
const EMPTY_SLOT = '\\0\\0\\0\\0';

/**
 * KEYS: summary, done, fallbacks, doneIds. ARGV: index (-1: none), jobId, outcome,
 * bytesDownloaded, bytesWritten, fallback JSON ('' when not a fallback), maxFallbacks,
 * startedAt, finishedAt, mark. Returns 1 when folded, 0 when this record was folded before.
 */
const FOLD: Script = {
  name: 'rethumbFoldResult',
  keys: 4,
  lua: `
local index = tonumber(ARGV[1])
if index >= 0 then
  local at = index * 4
  local slot = redis.call('GETRANGE', KEYS[2], at, at + 3)
  if slot == ARGV[10] then return 0 end
  -- Another record's mark (a second manifest added by hand): counted, its slot left alone.
  if slot == '' or slot == '${EMPTY_SLOT}' then redis.call('SETRANGE', KEYS[2], at, ARGV[10]) end
elseif redis.call('SADD', KEYS[4], ARGV[2]) == 0 then
  return 0
end
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

/** KEYS: done. ARGV: index, mark, index, mark… Returns per record 0 (free), 1 (done: same mark), 2 (another record's). */
const SLOTS: Script = {
  name: 'rethumbDoneSlots',
  keys: 1,
  lua: `
local states = {}
for i = 1, #ARGV, 2 do
  local at = tonumber(ARGV[i]) * 4
  local slot = redis.call('GETRANGE', KEYS[1], at, at + 3)
  if slot == '' or slot == '${EMPTY_SLOT}' then states[#states + 1] = 0
  elseif slot == ARGV[i + 1] then states[#states + 1] = 1
  else states[#states + 1] = 2 end
end
return states
`,
};

/** Most manifest indexes a queue's report holds (Redis strings end at 512 MB). */
export const MAX_INDEX = 512 * 1024 * 1024 / 4 - 1;

/** A record's 4-character mark in `done`: part of its job id (a hash of its key, see `jobIdFor`). */
export function markOf(jobId: string): string {
  const hash = jobId.startsWith('rethumb-') ? jobId.slice(8) : jobId;
  return hash.padEnd(4, '.').slice(0, 4);
}

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
    markOf(input.jobId),
  ]);
  return Number(folded) === 1;
}

export type SlotState = 'free' | 'done' | 'other';

/** For each record (its index and job id): free, done (folded), or held by another record. */
export async function doneSlots(client: RedisClient, keys: SummaryKeys, records: ReadonlyArray<{ index: number; jobId: string }>): Promise<SlotState[]> {
  if (records.length === 0) return [];
  const states = await runScript<number[]>(client, SLOTS, [keys.done], records.flatMap((r) => [r.index, markOf(r.jobId)]));
  return states.map((state) => (Number(state) === 1 ? 'done' : Number(state) === 2 ? 'other' : 'free'));
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
