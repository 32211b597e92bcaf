// Pure classifier tests: no socket is opened, so non-loopback addresses may appear here.
import { describe, expect, it } from 'vitest';
import { AddressPolicy, forbiddenRange } from '../../src/fetching/address-policy.js';
import { ErrorCodes, ForbiddenAddressError } from '../../src/errors.js';

/** What a URL parser hands the connector for `http://<host>/` (brackets stripped for IPv6). */
function hostOf(spelling: string): string {
  return new URL(`http://${spelling}/`).hostname.replace(/^\[|\]$/g, '');
}

describe('forbiddenRange', () => {
  const forbidden: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fc00::1', 'uniqueLocal'],
    ['fd12:3456::1', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    // IPv4-mapped IPv6 is classified as the IPv4 address it carries.
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:10.0.0.1', 'private'],
    // Forms that embed an IPv4 address behind a translator or tunnel.
    ['64:ff9b::7f00:1', 'rfc6052'],
    ['2002:7f00:1::', '6to4'],
    ['2001::1', 'teredo'],
    ['::ffff:0:7f00:1', 'rfc6145'],
    ['::7f00:1', 'ipv4Compatible'],
    ['2001:db8::1', 'reserved'],
  ];
  it.each(forbidden)('%s is forbidden as %s', (address, range) => {
    expect(forbiddenRange(address)).toBe(range);
  });

  it.each(['93.184.216.34', '8.8.8.8', '2606:4700::1111', '2a00:1450:4001:80b::200e'])('%s (public unicast) is allowed', (address) => {
    expect(forbiddenRange(address)).toBeUndefined();
  });

  it.each(['', 'localhost', 'not-an-ip', '127.1', '0x7f000001', '2130706433', '1.2.3.4.5', '[::1]'])(
    'an address that is not a plain IP string (%j) is forbidden as invalid',
    (address) => {
      expect(forbiddenRange(address)).toBe('invalid');
    },
  );

  it.each([
    ['127.1', '127.0.0.1'],
    ['0177.0.0.1', '127.0.0.1'],
    ['2130706433', '127.0.0.1'],
    ['0x7f000001', '127.0.0.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['[::ffff:127.0.0.1]', '::ffff:7f00:1'],
  ])('what a URL parser makes of %s (%s) is forbidden', (spelling, normalised) => {
    const host = hostOf(spelling);
    expect(host).toBe(normalised);
    expect(forbiddenRange(host)).toBeDefined();
  });
});

describe('AddressPolicy', () => {
  const strict = new AddressPolicy({ allowHosts: [], allowPrivateNetworks: false });

  it('refuses a forbidden address with ForbiddenAddressError carrying address and range', () => {
    let caught: unknown;
    try {
      strict.assertAllowed('images.example', 443, '169.254.169.254', 'https://images.example/a.jpg');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ForbiddenAddressError);
    const error = caught as ForbiddenAddressError;
    expect(error.code).toBe(ErrorCodes.FORBIDDEN_ADDRESS);
    expect(error.address).toBe('169.254.169.254');
    expect(error.range).toBe('linkLocal');
    expect(error.url).toBe('https://images.example/a.jpg');
  });

  it('lets a public address through', () => {
    expect(() => strict.assertAllowed('example.com', 443, '93.184.216.34')).not.toThrow();
    expect(strict.isExempt('example.com', 443)).toBe(false);
  });

  it('exempts a host named without a port on every port', () => {
    const policy = new AddressPolicy({ allowHosts: ['images.internal'], allowPrivateNetworks: false });
    expect(policy.isExempt('images.internal', 80)).toBe(true);
    expect(policy.isExempt('images.internal', 8080)).toBe(true);
    expect(() => policy.assertAllowed('images.internal', 8080, '10.0.0.5')).not.toThrow();
    // Only that host: another name resolving to the same address is still refused.
    expect(policy.isExempt('other.internal', 80)).toBe(false);
    expect(() => policy.assertAllowed('other.internal', 80, '10.0.0.5')).toThrow(ForbiddenAddressError);
  });

  it('exempts a host named with a port on that port only', () => {
    const policy = new AddressPolicy({ allowHosts: ['127.0.0.1:8080'], allowPrivateNetworks: false });
    expect(policy.isExempt('127.0.0.1', 8080)).toBe(true);
    expect(() => policy.assertAllowed('127.0.0.1', 8080, '127.0.0.1')).not.toThrow();
    expect(policy.isExempt('127.0.0.1', 8081)).toBe(false);
    expect(() => policy.assertAllowed('127.0.0.1', 8081, '127.0.0.1')).toThrow(ForbiddenAddressError);
  });

  it('matches IPv6 hosts in brackets, as the URL API spells them', () => {
    const policy = new AddressPolicy({ allowHosts: ['[::1]:9000', '[fd00::5]'], allowPrivateNetworks: false });
    expect(policy.isExempt('[::1]', 9000)).toBe(true);
    expect(policy.isExempt('[::1]', 9001)).toBe(false);
    expect(policy.isExempt('[fd00::5]', 443)).toBe(true);
    expect(() => policy.assertAllowed('[::1]', 9001, '::1')).toThrow(ForbiddenAddressError);
  });

  it('allowPrivateNetworks exempts every host and address', () => {
    const open = new AddressPolicy({ allowHosts: [], allowPrivateNetworks: true });
    expect(open.isExempt('anything.example', 80)).toBe(true);
    for (const address of ['127.0.0.1', '10.0.0.1', '169.254.169.254', '::1', 'fe80::1']) {
      expect(() => open.assertAllowed('anything.example', 80, address)).not.toThrow();
    }
  });
});
