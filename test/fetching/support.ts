/**
 * Helpers for the fetching tests: a DNS table that never leaves the process, and small
 * bounded waits.
 */
import type { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';

export interface RecordedLookup {
  hostname: string;
  all: boolean;
}

/**
 * A `dns.lookup` stand-in answering from `table`; unknown names fail with ENOTFOUND, so no test
 * ever sends a DNS query. `pending` names never answer (to trip the connect timeout). Every call
 * is recorded in `calls`.
 */
export function fakeLookup(table: Record<string, readonly string[]>, pending: readonly string[] = []): typeof dnsLookup & { calls: RecordedLookup[] } {
  const calls: RecordedLookup[] = [];
  const lookup = (hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void): void => {
    calls.push({ hostname, all: options.all === true });
    if (pending.includes(hostname)) return;
    const addresses = table[hostname];
    if (addresses === undefined || addresses.length === 0) {
      const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname });
      process.nextTick(callback, error);
      return;
    }
    const list: LookupAddress[] = addresses.map((address) => ({ address, family: isIP(address) }));
    const first = list[0]!;
    if (options.all) process.nextTick(callback, null, list);
    else process.nextTick(callback, null, first.address, first.family);
  };
  return Object.assign(lookup as unknown as typeof dnsLookup, { calls });
}

/** The rejection reason of `promise`; fails the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('Expected the promise to reject, but it resolved');
}

/** Polls `condition` every 10 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function eventually(condition: () => boolean, timeoutMs = 2_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return true;
}
