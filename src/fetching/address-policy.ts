/**
 * Which IP addresses rethumb may connect to. Only public unicast addresses are allowed unless a
 * host is named in `allowHosts` or `allowPrivateNetworks` is on: image proxies that fetched
 * whatever a URL named were the classic SSRF path to cloud metadata and internal services.
 */
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import type * as IpAddr from 'ipaddr.js';
import { ForbiddenAddressError } from '../errors.js';

export interface AddressPolicyOptions {
  /** Hosts exempt from the policy, `host` or `host:port`, as normalised by `resolveOptions()`. */
  allowHosts: readonly string[];
  /** Exempt every host: private, loopback and link-local addresses become reachable. */
  allowPrivateNetworks: boolean;
}

// ipaddr.js is CommonJS with `export =` typings, which an ESM default import cannot name without
// `allowSyntheticDefaultImports`, and Node's ESM loader finds none of its named exports.
const ipaddr = createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;

// IPv4-compatible IPv6 (`::a.b.c.d`, deprecated by RFC 4291) is `unicast` to ipaddr.js, yet some
// stacks route it to the embedded IPv4 address, so it is refused like the other IPv4-embedding forms.
const IPV4_COMPATIBLE = ipaddr.parseCIDR('::/96');

/**
 * The ipaddr.js range name when `address` is forbidden, `undefined` when it is public unicast.
 * IPv4-mapped IPv6 is classified as the IPv4 address it maps; an unparseable address is
 * `invalid`; IPv4-compatible IPv6 (`::7f00:1`) is `ipv4Compatible`.
 */
export function forbiddenRange(address: string): string | undefined {
  // net.isIP is strict (no `127.1`, no octal): what reaches a socket is what gets classified.
  if (isIP(address) === 0) return 'invalid';
  let parsed: IpAddr.IPv4 | IpAddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return 'invalid';
  }
  const range = parsed.range();
  if (range !== 'unicast') return range;
  if (parsed.kind() === 'ipv6' && parsed.match(IPV4_COMPATIBLE)) return 'ipv4Compatible';
  return undefined;
}

/** Decides, per host and resolved address, whether a connection may be opened. */
export class AddressPolicy {
  readonly #allowHosts: ReadonlySet<string>;
  readonly #allowPrivateNetworks: boolean;

  constructor(options: AddressPolicyOptions) {
    this.#allowHosts = new Set(options.allowHosts);
    this.#allowPrivateNetworks = options.allowPrivateNetworks;
  }

  /**
   * True when this host and port are exempt from address checks, through `allowHosts` (`host`
   * or `host:port`) or `allowPrivateNetworks`.
   * @param hostname The URL's hostname: lower-case, IPv6 in brackets (`[::1]`).
   * @param port The port the connection goes to (80/443 when the URL names none).
   */
  isExempt(hostname: string, port: number): boolean {
    return this.#allowPrivateNetworks || this.#allowHosts.has(hostname) || this.#allowHosts.has(`${hostname}:${port}`);
  }

  /**
   * Throws `ForbiddenAddressError` when `address` (an IP string, usually just resolved for
   * `hostname`) is not public unicast and the host is not exempt.
   */
  assertAllowed(hostname: string, port: number, address: string, url?: string): void {
    if (this.isExempt(hostname, port)) return;
    const range = forbiddenRange(address);
    if (range !== undefined) throw new ForbiddenAddressError(hostname, address, range, url);
  }
}
