import type { LookupAddress } from 'node:dns';
import { getDefaultAutoSelectFamily, setDefaultAutoSelectFamily } from 'node:net';
import { request, type Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AddressPolicy } from '../../src/fetching/address-policy.js';
import { createGuardedAgent, guardLookup } from '../../src/fetching/guarded-agent.js';
import { ErrorCodes, ForbiddenAddressError } from '../../src/errors.js';
import { startTestOrigin, type TestOrigin } from '../../src/testing/test-origin.js';
import { fakeLookup, rejectionOf } from './support.js';

let origin: TestOrigin;
const agents: Agent[] = [];

function guarded(allowHosts: string[], allowPrivateNetworks = false, table: Record<string, string[]> = { 'images.example': ['127.0.0.1'] }) {
  const lookup = fakeLookup(table);
  const agent = createGuardedAgent({
    policy: new AddressPolicy({ allowHosts, allowPrivateNetworks }),
    connectTimeoutMs: 2_000,
    headersTimeoutMs: 5_000,
    bodyTimeoutMs: 5_000,
    lookup,
  });
  agents.push(agent);
  return { agent, lookup };
}

beforeAll(async () => {
  origin = await startTestOrigin({ routes: { '/ok': { kind: 'image', body: Buffer.from('ok'), contentType: 'image/png' } } });
});
afterEach(() => origin.resetCounts());
afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await origin.close();
});

describe('guardLookup (no sockets)', () => {
  type Answer = string | LookupAddress[];
  function run(addresses: LookupAddress[], all: boolean): Promise<{ error: unknown; answer: Answer }> {
    const underlying = fakeLookup({ 'h.example': addresses.map((a) => a.address) }) as unknown as Parameters<typeof guardLookup>[0];
    return new Promise((resolve) => guardLookup(underlying)('h.example', { all }, (error, answer) => resolve({ error, answer })));
  }

  it('passes public addresses through in both callback shapes', async () => {
    const list = [{ address: '93.184.216.34', family: 4 }, { address: '2606:4700::1111', family: 6 }];
    expect(await run(list, true)).toEqual({ error: null, answer: list });
    expect(await run(list, false)).toEqual({ error: null, answer: '93.184.216.34' });
  });

  it('refuses when ANY resolved address is forbidden (all: true)', async () => {
    const { error } = await run([{ address: '93.184.216.34', family: 4 }, { address: '169.254.169.254', family: 4 }], true);
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect((error as ForbiddenAddressError).address).toBe('169.254.169.254');
    expect((error as ForbiddenAddressError).range).toBe('linkLocal');
  });

  it('refuses a forbidden single answer (all: false)', async () => {
    const { error } = await run([{ address: '::ffff:10.1.2.3', family: 6 }], false);
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect((error as ForbiddenAddressError).range).toBe('private');
  });

  it('passes DNS errors through unchanged', async () => {
    const underlying = fakeLookup({}) as unknown as Parameters<typeof guardLookup>[0];
    const error = await new Promise((resolve) => guardLookup(underlying)('missing.example', { all: true }, (e) => resolve(e)));
    expect((error as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});

describe('createGuardedAgent', () => {
  it('hands undici callers the ForbiddenAddressError itself, for literals and for resolved names', async () => {
    const { agent } = guarded([]);
    for (const url of [origin.urlFor('/ok'), `http://images.example:${origin.port}/ok`]) {
      const error = await rejectionOf(request(url, { dispatcher: agent }));
      expect(error).toBeInstanceOf(ForbiddenAddressError);
      expect(error.code).toBe(ErrorCodes.FORBIDDEN_ADDRESS);
    }
    expect(origin.connections).toBe(0);
    expect(origin.hits()).toBe(0);
  });

  it.each([true, false])('checks resolved addresses whichever shape net.connect asks for (autoSelectFamily %s)', async (autoSelect) => {
    const previous = getDefaultAutoSelectFamily();
    setDefaultAutoSelectFamily(autoSelect);
    try {
      const { agent, lookup } = guarded([]);
      const error = await rejectionOf(request(`http://images.example:${origin.port}/ok`, { dispatcher: agent }));
      expect(error).toBeInstanceOf(ForbiddenAddressError);
      expect(lookup.calls).toEqual([{ hostname: 'images.example', all: autoSelect }]);
      expect(origin.connections).toBe(0);

      const allowed = guarded(['images.example']);
      const response = await request(`http://images.example:${origin.port}/ok`, { dispatcher: allowed.agent });
      expect(await response.body.text()).toBe('ok');
      expect(allowed.lookup.calls).toEqual([{ hostname: 'images.example', all: autoSelect }]);
    } finally {
      setDefaultAutoSelectFamily(previous);
    }
  });

  it('allowPrivateNetworks reaches loopback, literal or resolved', async () => {
    const { agent } = guarded([], true);
    for (const url of [origin.urlFor('/ok'), `http://images.example:${origin.port}/ok`]) {
      const response = await request(url, { dispatcher: agent });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe('ok');
    }
    expect(origin.hits('/ok')).toBe(2);
  });

  it('allowHosts with a port exempts that port only', async () => {
    const other = await startTestOrigin({ routes: { '/ok': { kind: 'image', body: Buffer.from('other'), contentType: 'image/png' } } });
    try {
      const { agent } = guarded([origin.host]);
      const ok = await request(origin.urlFor('/ok'), { dispatcher: agent });
      expect(await ok.body.text()).toBe('ok');
      const error = await rejectionOf(request(other.urlFor('/ok'), { dispatcher: agent }));
      expect(error).toBeInstanceOf(ForbiddenAddressError);
      expect(other.connections).toBe(0);
    } finally {
      await other.close();
    }
  });
});
