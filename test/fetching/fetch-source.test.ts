import { getEventListeners } from 'node:events';
import type { Agent } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fetchSource, SNIFF_BYTES } from '../../src/fetching/fetch-source.js';
import type { GuardedAgentOptions } from '../../src/fetching/guarded-agent.js';
import { ErrorCodes, ForbiddenAddressError, RethumbError } from '../../src/errors.js';
import { startTestOrigin, type TestOrigin } from '../../src/testing/test-origin.js';
import { makeImage } from '../helpers/images.js';
import { eventually, fakeLookup, fetchOptions, rejectionOf, testAgent } from './support.js';

let origin: TestOrigin;
/** A listener on loopback that no policy in this file allows: it must never see a request. */
let forbidden: TestOrigin;
let jpeg: Buffer;
const agents: Agent[] = [];

/** A guarded agent allowing only the test origin (by host:port); DNS answers from a fixed table. */
function agent(overrides: Partial<GuardedAgentOptions> = {}, allowHosts: string[] = [origin.host]): Agent {
  const created = testAgent(allowHosts, overrides);
  agents.push(created);
  return created;
}

const options = fetchOptions;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 64, 48, { noise: true });
  origin = await startTestOrigin({ routes: { '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } } });
  forbidden = await startTestOrigin({ routes: { '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } } });
});

afterEach(() => {
  // Checked after every test, and zeroed so that one leak fails only the test that caused it.
  const seen = { hits: forbidden.hits(), connections: forbidden.connections };
  forbidden.resetCounts();
  expect(seen).toEqual({ hits: 0, connections: 0 });
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await Promise.all([origin?.close(), forbidden?.close()]);
});

describe('fetchSource: success', () => {
  it('returns a 200 body intact with its content type and final URL', async () => {
    const result = await fetchSource(origin.urlFor('/a.jpg'), options(agent()));
    expect(Buffer.compare(result.body, jpeg)).toBe(0);
    expect(result.contentType).toBe('image/jpeg');
    expect(result.url).toBe(origin.urlFor('/a.jpg'));
    expect(result.redirects).toEqual([]);
  });

  it('sends User-Agent and Accept and does not ask for compression', async () => {
    await fetchSource(origin.urlFor('/a.jpg?v=2'), options(agent()));
    const seen = origin.lastRequest('/a.jpg');
    expect(seen?.target).toBe('/a.jpg?v=2');
    expect(seen?.headers['user-agent']).toBe('rethumb-test/1');
    expect(seen?.headers.accept).toBe('image/avif,image/webp,image/*;q=0.8');
    expect(seen?.headers['accept-encoding'] ?? 'identity').toBe('identity');
  });

  it('reuses one keep-alive socket for two sequential fetches to one origin', async () => {
    const dispatcher = agent();
    origin.route('/keep.jpg', { kind: 'image', body: jpeg, contentType: 'image/jpeg' });
    const before = origin.connections;
    await fetchSource(origin.urlFor('/keep.jpg'), options(dispatcher));
    await fetchSource(origin.urlFor('/keep.jpg'), options(dispatcher));
    expect(origin.hits('/keep.jpg')).toBe(2);
    expect(origin.connections - before).toBe(1);
  });
});

describe('fetchSource: HTTP status', () => {
  it.each([404, 410, 500])('%i → HttpStatusError with that status', async (status) => {
    origin.route(`/status-${status}`, { kind: 'status', status, body: 'x'.repeat(1000) });
    const error = await rejectionOf(fetchSource(origin.urlFor(`/status-${status}`), options(agent())));
    expect(error.code).toBe(ErrorCodes.HTTP_STATUS);
    expect(error.status).toBe(status);
    expect(error.retryAfter).toBeUndefined();
  });

  it.each([
    [429, '7'],
    [503, 'Wed, 21 Oct 2065 07:28:00 GMT'],
  ])('%i passes Retry-After through', async (status, retryAfter) => {
    origin.route(`/retry-${status}`, { kind: 'status', status, headers: { 'retry-after': retryAfter } });
    const error = await rejectionOf(fetchSource(origin.urlFor(`/retry-${status}`), options(agent())));
    expect(error.code).toBe(ErrorCodes.HTTP_STATUS);
    expect(error.status).toBe(status);
    expect(error.retryAfter).toBe(retryAfter);
  });

  it('keeps the socket after an error status (the body is dumped, not left unread)', async () => {
    const dispatcher = agent();
    origin.route('/gone-then-ok', { kind: 'status', status: 410, body: 'gone' });
    const before = origin.connections;
    await rejectionOf(fetchSource(origin.urlFor('/gone-then-ok'), options(dispatcher)));
    await new Promise((resolve) => setImmediate(resolve));
    await fetchSource(origin.urlFor('/a.jpg'), options(dispatcher));
    expect(origin.connections - before).toBe(1);
  });
});

describe('fetchSource: connection failures and deadlines', () => {
  it('connection reset → ConnectionError', async () => {
    origin.route('/reset', { kind: 'reset' });
    const error = await rejectionOf(fetchSource(origin.urlFor('/reset'), options(agent())));
    expect(error.code).toBe(ErrorCodes.CONNECTION);
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('a body cut short of its Content-Length → ConnectionError (undici: UND_ERR_SOCKET "other side closed")', async () => {
    origin.route('/truncated', { kind: 'truncate', body: Buffer.alloc(20_000, 1), sendBytes: 5_000 });
    const error = await rejectionOf(fetchSource(origin.urlFor('/truncated'), options(agent())));
    expect(error.code).toBe(ErrorCodes.CONNECTION);
    expect(error.cause.code).toBe('UND_ERR_SOCKET');
  });

  it('connection refused → ConnectionError', async () => {
    const closed = await startTestOrigin();
    const { port, host } = closed;
    await closed.close();
    const error = await rejectionOf(fetchSource(`http://${host}/a.jpg`, options(agent({}, [`127.0.0.1:${port}`]))));
    expect(error.code).toBe(ErrorCodes.CONNECTION);
    expect(error.cause.code).toBe('ECONNREFUSED');
  });

  it('DNS failure → ConnectionError', async () => {
    const error = await rejectionOf(fetchSource(`http://no-such-host.example:${origin.port}/a.jpg`, options(agent())));
    expect(error.code).toBe(ErrorCodes.CONNECTION);
    expect(error.cause.code).toBe('ENOTFOUND');
  });

  it('stalled headers → TimeoutError phase headers when headersTimeoutMs is small', async () => {
    origin.route('/stall-h', { kind: 'stall' });
    const dispatcher = agent({ headersTimeoutMs: 150 });
    const error = await rejectionOf(fetchSource(origin.urlFor('/stall-h'), options(dispatcher, { headersTimeoutMs: 150 })));
    expect(error.code).toBe(ErrorCodes.TIMEOUT);
    expect(error.phase).toBe('headers');
    expect(error.timeoutMs).toBe(150);
  });

  it('stalled headers → TimeoutError phase total when the total deadline comes first', async () => {
    origin.route('/stall-t', { kind: 'stall' });
    const error = await rejectionOf(fetchSource(origin.urlFor('/stall-t'), options(agent(), { timeoutMs: 200 })));
    expect(error.code).toBe(ErrorCodes.TIMEOUT);
    expect(error.phase).toBe('total');
    expect(error.timeoutMs).toBe(200);
  });

  it('a body that drips within bodyTimeout still trips the total deadline', async () => {
    // One byte every 40 ms: each gap is far inside bodyTimeout, the whole body (20 s) is not.
    origin.route('/drip', { kind: 'trickle', body: Buffer.alloc(500, 2), intervalMs: 40 });
    const dispatcher = agent({ bodyTimeoutMs: 2_000 });
    const error = await rejectionOf(fetchSource(origin.urlFor('/drip'), options(dispatcher, { timeoutMs: 400 })));
    expect(error.code).toBe(ErrorCodes.TIMEOUT);
    expect(error.phase).toBe('total');
    expect(await eventually(() => origin.inFlight === 0)).toBe(true);
  });

  it('a gap between chunks longer than bodyTimeout → TimeoutError phase body', async () => {
    // undici runs its headers and body timeouts on ~500 ms "fast timers": 200 ms trips within about a second.
    origin.route('/slow-chunks', { kind: 'trickle', body: Buffer.alloc(10, 3), intervalMs: 5_000 });
    const dispatcher = agent({ bodyTimeoutMs: 200 });
    const error = await rejectionOf(fetchSource(origin.urlFor('/slow-chunks'), options(dispatcher, { bodyTimeoutMs: 200 })));
    expect(error.code).toBe(ErrorCodes.TIMEOUT);
    expect(error.phase).toBe('body');
    expect(error.timeoutMs).toBe(200);
  });

  it('a lookup that never answers → TimeoutError phase connect', async () => {
    const dispatcher = agent({ connectTimeoutMs: 150, lookup: fakeLookup({}, ['hang.example']) }, ['hang.example']);
    const error = await rejectionOf(fetchSource(`http://hang.example:${origin.port}/a.jpg`, options(dispatcher)));
    expect(error.code).toBe(ErrorCodes.TIMEOUT);
    expect(error.phase).toBe('connect');
    expect(error.timeoutMs).toBe(150);
  });
});

describe('fetchSource: byte limit', () => {
  it('refuses at once when Content-Length announces more than maxBytes', async () => {
    // The body would take minutes to arrive: only a refusal on the headers can answer quickly.
    origin.route('/announced', { kind: 'trickle', body: Buffer.alloc(50_000, 4), intervalMs: 50, chunkBytes: 1 });
    const error = await rejectionOf(fetchSource(origin.urlFor('/announced'), options(agent(), { maxBytes: 1_000 })));
    expect(error.code).toBe(ErrorCodes.TOO_LARGE);
    expect(error.announced).toBe(true);
    expect(error.size).toBe(50_000);
    expect(error.limit).toBe(1_000);
    // The connection is dropped: the origin stops sending long before the body is done.
    expect(await eventually(() => origin.inFlight === 0)).toBe(true);
  });

  it('counts a chunked body while streaming and stops one chunk past maxBytes', async () => {
    origin.route('/huge', { kind: 'large', bytes: 20_000_000 });
    const error = await rejectionOf(fetchSource(origin.urlFor('/huge'), options(agent(), { maxBytes: 100_000 })));
    expect(error.code).toBe(ErrorCodes.TOO_LARGE);
    expect(error.announced).toBe(false);
    expect(error.size).toBeGreaterThan(100_000);
    expect(error.size - 100_000).toBeLessThanOrEqual(65_536);
    expect(await eventually(() => origin.inFlight === 0)).toBe(true);
  });

  it('accepts a body of exactly maxBytes', async () => {
    origin.route('/exact', { kind: 'large', bytes: 30_000 });
    const result = await fetchSource(origin.urlFor('/exact'), options(agent(), { maxBytes: 30_000 }));
    expect(result.body.length).toBe(30_000);
  });
});

describe('fetchSource: redirects', () => {
  it('follows a 2-hop chain (relative and absolute Location) and lists the hops', async () => {
    origin.route('/r/start', { kind: 'redirect', status: 301, location: 'middle' });
    origin.route('/r/middle', { kind: 'redirect', status: 302, location: origin.urlFor('/a.jpg') });
    const result = await fetchSource(origin.urlFor('/r/start'), options(agent()));
    expect(Buffer.compare(result.body, jpeg)).toBe(0);
    expect(result.url).toBe(origin.urlFor('/a.jpg'));
    expect(result.redirects).toEqual([origin.urlFor('/r/middle'), origin.urlFor('/a.jpg')]);
  });

  it.each([303, 307, 308] as const)('follows %i', async (status) => {
    origin.route(`/r/${status}`, { kind: 'redirect', status, location: '/a.jpg' });
    const result = await fetchSource(origin.urlFor(`/r/${status}`), options(agent()));
    expect(result.redirects).toEqual([origin.urlFor('/a.jpg')]);
  });

  it('detects a loop', async () => {
    origin.route('/loop/a', { kind: 'redirect', location: '/loop/b' });
    // A fragment is never sent, so `/loop/a#again` is the same request as `/loop/a`.
    origin.route('/loop/b', { kind: 'redirect', location: '/loop/a#again' });
    const error = await rejectionOf(fetchSource(origin.urlFor('/loop/a'), options(agent())));
    expect(error.code).toBe(ErrorCodes.REDIRECT_LOOP);
    expect(origin.hits('/loop/a')).toBe(1);
    expect(origin.hits('/loop/b')).toBe(1);
  });

  it('refuses more than maxRedirects', async () => {
    for (let i = 0; i < 4; i++) origin.route(`/chain/${i}`, { kind: 'redirect', location: `/chain/${i + 1}` });
    origin.route('/chain/4', { kind: 'image', body: jpeg, contentType: 'image/jpeg' });
    const error = await rejectionOf(fetchSource(origin.urlFor('/chain/0'), options(agent(), { maxRedirects: 3 })));
    expect(error.code).toBe(ErrorCodes.TOO_MANY_REDIRECTS);
    expect(error.limit).toBe(3);
    expect(origin.hits('/chain/4')).toBe(0);
    // With enough allowance the same chain resolves.
    const ok = await fetchSource(origin.urlFor('/chain/0'), options(agent(), { maxRedirects: 4 }));
    expect(ok.redirects).toHaveLength(4);
  });

  it('maxRedirects 0 refuses the first redirect', async () => {
    origin.route('/once', { kind: 'redirect', location: '/a.jpg' });
    const error = await rejectionOf(fetchSource(origin.urlFor('/once'), options(agent(), { maxRedirects: 0 })));
    expect(error.code).toBe(ErrorCodes.TOO_MANY_REDIRECTS);
  });

  it('refuses a redirect to a file: URL', async () => {
    origin.route('/to-file', { kind: 'redirect', location: 'file:///etc/passwd' });
    const error = await rejectionOf(fetchSource(origin.urlFor('/to-file'), options(agent())));
    expect(error.code).toBe(ErrorCodes.UNSUPPORTED_PROTOCOL);
    expect(error.protocol).toBe('file:');
  });

  it('refuses a redirect to a forbidden loopback listener, which sees no request', async () => {
    origin.route('/to-forbidden', { kind: 'redirect', location: forbidden.urlFor('/a.jpg') });
    const error = await rejectionOf(fetchSource(origin.urlFor('/to-forbidden'), options(agent())));
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error.code).toBe(ErrorCodes.FORBIDDEN_ADDRESS);
    expect(error.range).toBe('loopback');
    expect(forbidden.hits()).toBe(0);
    expect(forbidden.connections).toBe(0);
  });
});

describe('fetchSource: forbidden addresses', () => {
  const spellings = [
    '127.0.0.1',
    '127.1',
    '0177.0.0.1',
    '2130706433',
    '0x7f000001',
    '[::ffff:7f00:1]',
    '[::ffff:127.0.0.1]',
    'localhost',
    '0.0.0.0',
  ];
  it.each(spellings)('http://%s:<forbidden port>/ → ForbiddenAddressError, zero requests', async (spelling) => {
    const url = `http://${spelling}:${forbidden.port}/a.jpg`;
    const error = await rejectionOf(fetchSource(url, options(agent())));
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error.code).toBe(ErrorCodes.FORBIDDEN_ADDRESS);
    expect(['loopback', 'unspecified']).toContain(error.range);
    expect(forbidden.hits()).toBe(0);
    expect(forbidden.connections).toBe(0);
  });

  it('checks the resolved address: a name resolving to 127.0.0.1 is refused', async () => {
    const error = await rejectionOf(fetchSource(`http://images.example:${forbidden.port}/a.jpg`, options(agent())));
    expect(error).toBeInstanceOf(ForbiddenAddressError);
    expect(error.address).toBe('127.0.0.1');
    expect(error.range).toBe('loopback');
    expect(forbidden.hits()).toBe(0);
  });

  it('allows that name when allowHosts names it', async () => {
    const dispatcher = agent({}, ['images.example']);
    const result = await fetchSource(`http://images.example:${origin.port}/a.jpg`, options(dispatcher));
    expect(Buffer.compare(result.body, jpeg)).toBe(0);
    expect(origin.lastRequest('/a.jpg')?.headers.host).toBe(`images.example:${origin.port}`);
  });
});

describe('fetchSource: URLs', () => {
  it.each(['not a url', 'http://', '//no-scheme/a.jpg', ''])('%j → InvalidUrlError', async (url) => {
    const error = await rejectionOf(fetchSource(url, options(agent())));
    expect(error.code).toBe(ErrorCodes.INVALID_URL);
  });

  it('a host name longer than DNS allows → InvalidUrlError, without a lookup', async () => {
    const lookup = fakeLookup({});
    const error = await rejectionOf(fetchSource(`http://${'a'.repeat(250)}.example/a.jpg`, options(agent({ lookup }))));
    expect(error.code).toBe(ErrorCodes.INVALID_URL);
    expect(error.message).toContain('host name is 258 characters');
    expect(lookup.calls).toEqual([]);
  });

  it.each([
    ['file:///etc/passwd', 'file:'],
    ['data:image/png;base64,iVBORw0KGgo=', 'data:'],
    ['ftp://127.0.0.1/a.jpg', 'ftp:'],
    ['javascript:alert(1)', 'javascript:'],
  ])('%s → UnsupportedProtocolError', async (url, protocol) => {
    const error = await rejectionOf(fetchSource(url, options(agent())));
    expect(error.code).toBe(ErrorCodes.UNSUPPORTED_PROTOCOL);
    expect(error.protocol).toBe(protocol);
  });
});

describe('fetchSource: inspect', () => {
  it('is called once with the first SNIFF_BYTES and the content type; the body stays intact', async () => {
    const body = Buffer.alloc(100_000);
    for (let i = 0; i < body.length; i++) body[i] = i % 251;
    origin.route('/big.bin', { kind: 'image', body, contentType: 'image/png' });
    const calls: Array<{ head: Buffer; url: string; contentType: string | undefined }> = [];
    const result = await fetchSource(
      origin.urlFor('/big.bin'),
      options(agent(), {
        inspect: async (head, response) => {
          calls.push({ head: Buffer.from(head), ...response });
        },
      }),
    );
    expect(calls).toHaveLength(1);
    expect(calls[0]!.head.length).toBe(SNIFF_BYTES);
    expect(Buffer.compare(calls[0]!.head, body.subarray(0, SNIFF_BYTES))).toBe(0);
    expect(calls[0]!.contentType).toBe('image/png');
    expect(calls[0]!.url).toBe(origin.urlFor('/big.bin'));
    expect(Buffer.compare(result.body, body)).toBe(0);
  });

  it('gets the whole body when it is shorter, and an empty Buffer for an empty body', async () => {
    origin.route('/short', { kind: 'image', body: Buffer.from('GIF89a'), contentType: 'image/gif' });
    origin.route('/empty', { kind: 'image', body: Buffer.alloc(0), contentType: 'image/gif' });
    const heads: Buffer[] = [];
    const inspect = (head: Buffer): void => {
      heads.push(Buffer.from(head));
    };
    await fetchSource(origin.urlFor('/short'), options(agent(), { inspect }));
    await fetchSource(origin.urlFor('/empty'), options(agent(), { inspect }));
    expect(heads.map((h) => h.toString())).toEqual(['GIF89a', '']);
  });

  it('throwing stops the download and that very error propagates', async () => {
    // 4100-byte chunks every 50 ms for ~20 s: only an early stop ends this quickly.
    origin.route('/html-as-jpeg', { kind: 'trickle', body: Buffer.alloc(SNIFF_BYTES * 400, 0x3c), intervalMs: 50, chunkBytes: SNIFF_BYTES, contentType: 'image/jpeg' });
    const refusal = new Error('looks like HTML');
    let calls = 0;
    const error = await rejectionOf(
      fetchSource(
        origin.urlFor('/html-as-jpeg'),
        options(agent(), {
          inspect: () => {
            calls += 1;
            throw refusal;
          },
        }),
      ),
    );
    expect(error).toBe(refusal);
    expect(calls).toBe(1);
    expect(await eventually(() => origin.inFlight === 0)).toBe(true);
  });

  it('a rejected promise works the same way', async () => {
    origin.route('/html-page', { kind: 'html' });
    const refusal = new RethumbError(ErrorCodes.NOT_AN_IMAGE, 'html');
    const error = await rejectionOf(fetchSource(origin.urlFor('/html-page'), options(agent(), { inspect: async () => Promise.reject(refusal) })));
    expect(error).toBe(refusal);
  });
});

describe('fetchSource: abort', () => {
  it("rejects with the caller's reason when aborted mid-body", async () => {
    origin.route('/abort-me', { kind: 'trickle', body: Buffer.alloc(1_000, 5), intervalMs: 30 });
    const controller = new AbortController();
    const reason = new Error('user went away');
    const pending = fetchSource(origin.urlFor('/abort-me'), options(agent(), { signal: controller.signal }));
    expect(await eventually(() => origin.hits('/abort-me') === 1)).toBe(true);
    controller.abort(reason);
    const error = await rejectionOf(pending);
    expect(error).toBe(reason);
    expect(await eventually(() => origin.inFlight === 0)).toBe(true);
  });

  it("rejects with the caller's reason while waiting for headers", async () => {
    origin.route('/abort-stall', { kind: 'stall' });
    const controller = new AbortController();
    const reason = new Error('stop');
    const pending = fetchSource(origin.urlFor('/abort-stall'), options(agent(), { signal: controller.signal }));
    expect(await eventually(() => origin.hits('/abort-stall') === 1)).toBe(true);
    controller.abort(reason);
    expect(await rejectionOf(pending)).toBe(reason);
  });

  it("leaves no listener on the caller's signal and no deadline timer behind, on success or failure", async () => {
    const controller = new AbortController();
    const timers = (): number => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const dispatcher = agent();
    origin.route('/missing-here', { kind: 'status', status: 404 });
    const before = timers();
    await fetchSource(origin.urlFor('/a.jpg'), options(dispatcher, { signal: controller.signal, timeoutMs: 60_000 }));
    await rejectionOf(fetchSource(origin.urlFor('/missing-here'), options(dispatcher, { signal: controller.signal, timeoutMs: 60_000 })));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(timers()).toBeLessThanOrEqual(before);
  });

  it('does not send a request when the signal is already aborted', async () => {
    origin.route('/never', { kind: 'image', body: jpeg, contentType: 'image/jpeg' });
    const reason = new Error('already');
    const error = await rejectionOf(fetchSource(origin.urlFor('/never'), options(agent(), { signal: AbortSignal.abort(reason) })));
    expect(error).toBe(reason);
    expect(origin.hits('/never')).toBe(0);
  });
});
