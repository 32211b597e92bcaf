/**
 * Helpers for the fetching tests: a DNS table that never leaves the process, a raw TCP origin
 * for responses node:http will not send, and small bounded waits.
 */
import type { lookup as dnsLookup, LookupAddress, LookupOptions } from 'node:dns';
import type { Agent, Dispatcher } from 'undici';
import { AddressPolicy } from '../../src/fetching/address-policy.js';
import type { FetchSourceOptions } from '../../src/fetching/fetch-source.js';
import { createGuardedAgent, type GuardedAgentOptions } from '../../src/fetching/guarded-agent.js';
import { createServer as createNetServer, isIP, type AddressInfo, type Socket } from 'node:net';

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

export interface RawOrigin {
  readonly port: number;
  /** `127.0.0.1:PORT`, for `allowHosts`. */
  readonly host: string;
  urlFor(path: string): string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

/**
 * A bare TCP listener on 127.0.0.1 whose `onRequest` writes whatever bytes it likes (interim
 * responses, lying headers): what node:http would refuse to send. Called once per connection with
 * the first bytes of the request; every timer it starts should stop on the socket's 'close'.
 */
export async function startRawOrigin(onRequest: (socket: Socket, request: string) => void): Promise<RawOrigin> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createNetServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.once('close', () => sockets.delete(socket));
    socket.once('data', (data) => onRequest(socket, data.toString('latin1')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    host: `127.0.0.1:${port}`,
    urlFor: (path) => `http://127.0.0.1:${port}${path}`,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A guarded agent allowing `allowHosts` only; DNS answers from a fixed table. The caller closes it. */
export function testAgent(allowHosts: readonly string[], overrides: Partial<GuardedAgentOptions> = {}): Agent {
  return createGuardedAgent({
    policy: new AddressPolicy({ allowHosts, allowPrivateNetworks: false }),
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 5_000,
    bodyTimeoutMs: 5_000,
    lookup: fakeLookup({ 'images.example': ['127.0.0.1'], localhost: ['127.0.0.1', '::1'] }),
    ...overrides,
  });
}

/** fetchSource options for tests: the limits of `testAgent()` unless overridden. */
export function fetchOptions(dispatcher: Dispatcher, overrides: Partial<FetchSourceOptions> = {}): FetchSourceOptions {
  return {
    dispatcher,
    maxBytes: 10_000_000,
    maxRedirects: 5,
    timeoutMs: 10_000,
    // The agent's own limits, as the regenerator passes its options to both.
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 5_000,
    bodyTimeoutMs: 5_000,
    userAgent: 'rethumb-test/1',
    ...overrides,
  };
}
