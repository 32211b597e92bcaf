/**
 * The one undici `Agent` rethumb fetches through: keep-alive pools per origin, and an address
 * check inside undici's connect step, on the address the socket is about to use.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { ForbiddenAddressError, TimeoutError } from '../errors.js';
import { forbiddenRange, type AddressPolicy } from './address-policy.js';

export interface GuardedAgentOptions {
  /** Decides which resolved addresses may be connected to. */
  policy: AddressPolicy;
  /** Time to resolve, connect (and TLS handshake), in ms. */
  connectTimeoutMs: number;
  /** Time from sending a request to its response headers, in ms (undici `headersTimeout`). */
  headersTimeoutMs: number;
  /** undici bodyTimeout (gap between chunks); the TOTAL deadline is enforced by fetchSource. */
  bodyTimeoutMs: number;
  /**
   * Keep-alive sockets per origin.
   * @default 20 — the regenerator's default `concurrency`: more sockets to one origin could not be used.
   */
  connections?: number;
  /** Injected DNS lookup for tests (same shape as dns.lookup); default dns.lookup. */
  lookup?: typeof import('node:dns').lookup;
}

const DEFAULT_CONNECTIONS = 20;

/** The shape `net.connect()` calls `lookup` with (`all` is set when it races address families). */
type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type NetLookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * An undici `Agent` that refuses to connect to addresses the policy forbids.
 *
 * Host names are checked in the DNS lookup that `net.connect()` itself uses, so the address
 * checked is the address connected to: a name that resolves differently a moment later (DNS
 * rebinding) cannot slip between a check and the socket. IP literals, which `net.connect()`
 * never looks up, are checked before connecting. A refusal reaches the request's caller as
 * `ForbiddenAddressError`; undici's connect timeout as `TimeoutError` with phase `connect`.
 */
export function createGuardedAgent(options: GuardedAgentOptions): Agent {
  const { policy, connectTimeoutMs } = options;
  const lookup = (options.lookup ?? dnsLookup) as unknown as NetLookup;
  // Two connectors rather than one per connection: undici keeps its TLS session cache per connector.
  const guarded = buildConnector({ timeout: connectTimeoutMs, lookup: guardLookup(lookup) });
  const open = buildConnector({ timeout: connectTimeoutMs, lookup });

  const connect: buildConnector.connector = (connectOptions, callback) => {
    const { hostname, protocol } = connectOptions;
    const port = Number(connectOptions.port) || (protocol === 'https:' ? 443 : 80);
    const literal = isIP(hostname);
    // undici strips the brackets of an IPv6 host; the policy matches hosts as URLs spell them.
    const host = literal === 6 ? `[${hostname}]` : hostname;
    const origin = `${protocol}//${host}:${port}`;
    const done: buildConnector.Callback = (error, socket) => {
      if (error === null) callback(null, socket);
      else callback(translateConnectError(error, origin, connectTimeoutMs), null);
    };
    if (policy.isExempt(host, port)) {
      open(connectOptions, done);
      return;
    }
    if (literal !== 0) {
      try {
        policy.assertAllowed(host, port, hostname, origin);
      } catch (error) {
        callback(error as Error, null);
        return;
      }
    }
    guarded(connectOptions, done);
  };

  return new Agent({
    connect,
    connections: options.connections ?? DEFAULT_CONNECTIONS,
    headersTimeout: options.headersTimeoutMs,
    bodyTimeout: options.bodyTimeoutMs,
  });
}

/**
 * Wraps a DNS lookup so that it fails with `ForbiddenAddressError` when any resolved address is
 * forbidden. Only used for hosts the policy does not exempt, so any non-unicast address is refused.
 * Refusing when ANY address is forbidden (not just the first) matters because `net.connect()`
 * may try them all when it races IPv4 and IPv6.
 */
export function guardLookup(lookup: NetLookup): NetLookup {
  return (hostname, options, callback) => {
    lookup(hostname, options, (error, address, family) => {
      if (error) {
        callback(error, address, family);
        return;
      }
      const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
      for (const resolved of addresses) {
        const range = forbiddenRange(resolved);
        if (range !== undefined) {
          callback(new ForbiddenAddressError(hostname, resolved, range), options.all ? [] : '', family);
          return;
        }
      }
      callback(null, address, family);
    });
  };
}

function translateConnectError(error: Error, origin: string, connectTimeoutMs: number): Error {
  if ((error as NodeJS.ErrnoException).code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new TimeoutError(origin, 'connect', connectTimeoutMs, error);
  }
  return error;
}
