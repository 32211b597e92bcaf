/**
 * Lua scripts on a BullMQ Redis client, registered once per client with `defineCommand` (so
 * they run by SHA, falling back to the source when Redis restarted) and called through BullMQ's
 * client interface (`runCommand` on BullMQ ≥ 5.7x, the ioredis method before it).
 */
import type { RedisClient } from 'bullmq';

export interface Script {
  /** Unique across rethumb's scripts (`rethumb…`), never one of BullMQ's. */
  readonly name: string;
  readonly keys: number;
  readonly lua: string;
}

const defined = new WeakMap<object, Set<string>>();

/** Run `script` with `keys` and `args` on `client`, defining it on first use. */
export async function runScript<T = unknown>(client: RedisClient, script: Script, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<T> {
  let names = defined.get(client);
  if (!names) defined.set(client, (names = new Set()));
  if (!names.has(script.name)) {
    client.defineCommand(script.name, { numberOfKeys: script.keys, lua: script.lua });
    names.add(script.name);
  }
  const argv = [...keys, ...args.map(String)];
  const run = (client as unknown as { runCommand?: (name: string, args: string[]) => Promise<T> }).runCommand;
  if (typeof run === 'function') return run.call(client, script.name, argv);
  return (client as unknown as Record<string, (args: string[]) => Promise<T>>)[script.name]!(argv);
}
