/**
 * Invariant 1, table-driven: whatever the origin does, get() resolves with a decodable image of
 * the variant's box, with the right outcome and reason — and junk never reaches the store.
 */
import { mkdtemp, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes, type ErrorCode } from '../../src/errors.js';
import { createRegenerator, FileStore, type Outcome } from '../../src/index.js';
import type { Regenerator } from '../../src/regenerator/regenerator.js';
import { expectValidThumbnail, isPlaceholder } from '../../src/testing/index.js';
import { startTestOrigin, type OriginRoute, type TestOrigin } from '../../src/testing/test-origin.js';
import { decode, makeImage, pngDeclaring, truncate } from '../helpers/images.js';

const SMALL = { width: 64, height: 48 };
let origin: TestOrigin;
let forbidden: TestOrigin;
let root: string;
let store: FileStore;
let regen: Regenerator;

interface Fixtures {
  jpeg: Buffer;
  images: Record<'jpeg' | 'png' | 'webp' | 'gif' | 'avif', Buffer>;
  bomb: Buffer;
}

interface Case {
  name: string;
  /** The route served at this case's path, built from the fixtures. */
  route?: (fx: Fixtures) => OriginRoute;
  /** A full URL instead of this case's path on the origin. */
  url?: () => string;
  outcome: Outcome;
  reason?: ErrorCode;
  status?: number;
}

const pathOf = (name: string): string => `/${name.replace(/[^a-z0-9]+/gi, '-')}`;
const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><script>alert(1)</script><rect width="100" height="100" fill="red"/></svg>',
);
const placeholder = (reason: ErrorCode, status?: number): Pick<Case, 'outcome' | 'reason' | 'status'> => ({ outcome: 'placeholder', reason, status });

const cases: Case[] = [
  ...(['jpeg', 'png', 'webp', 'gif', 'avif'] as const).map(
    (format): Case => ({ name: `200 ${format}`, route: (fx) => ({ kind: 'image', body: fx.images[format], contentType: `image/${format}` }), outcome: 'regenerated' }),
  ),
  { name: '404', route: () => ({ kind: 'status', status: 404 }), ...placeholder(ErrorCodes.HTTP_STATUS, 404) },
  { name: '410', route: () => ({ kind: 'status', status: 410 }), ...placeholder(ErrorCodes.HTTP_STATUS, 410) },
  { name: '500', route: () => ({ kind: 'status', status: 500 }), ...placeholder(ErrorCodes.HTTP_STATUS, 500) },
  { name: 'connection reset', route: () => ({ kind: 'reset' }), ...placeholder(ErrorCodes.CONNECTION) },
  { name: 'stalled headers', route: () => ({ kind: 'stall' }), ...placeholder(ErrorCodes.TIMEOUT) },
  // Every chunk arrives well inside undici's bodyTimeout; only the total deadline can trip.
  { name: 'body trickles past the deadline', route: (fx) => ({ kind: 'trickle', body: fx.jpeg, intervalMs: 50, chunkBytes: 64 }), ...placeholder(ErrorCodes.TIMEOUT) },
  {
    name: 'over the byte limit, honest Content-Length',
    route: (fx) => ({ kind: 'image', body: Buffer.concat([fx.jpeg, Buffer.alloc(120_000)]), contentType: 'image/jpeg' }),
    ...placeholder(ErrorCodes.TOO_LARGE),
  },
  {
    name: 'over the byte limit, no Content-Length',
    route: (fx) => ({ kind: 'large', bytes: 500_000, head: fx.jpeg.subarray(0, 4100), contentType: 'image/jpeg' }),
    ...placeholder(ErrorCodes.TOO_LARGE),
  },
  {
    name: 'HTML page served as image/jpeg',
    route: () => ({ kind: 'html', contentType: 'image/jpeg', body: '<!doctype html><html><body>Not found</body></html>' }),
    ...placeholder(ErrorCodes.NOT_AN_IMAGE),
  },
  { name: 'truncated JPEG file', route: (fx) => ({ kind: 'image', body: truncate(fx.jpeg, 0.5), contentType: 'image/jpeg' }), ...placeholder(ErrorCodes.DECODE_FAILED) },
  {
    name: 'transfer cut short',
    route: (fx) => ({ kind: 'truncate', body: fx.jpeg, sendBytes: Math.floor(fx.jpeg.length / 2), contentType: 'image/jpeg' }),
    ...placeholder(ErrorCodes.CONNECTION),
  },
  { name: 'zero bytes', route: () => ({ kind: 'image', body: Buffer.alloc(0), contentType: 'image/jpeg' }), ...placeholder(ErrorCodes.NOT_AN_IMAGE) },
  { name: 'pixel bomb', route: (fx) => ({ kind: 'image', body: fx.bomb, contentType: 'image/png' }), ...placeholder(ErrorCodes.PIXEL_LIMIT) },
  { name: 'SVG with a script', route: () => ({ kind: 'image', body: SVG, contentType: 'image/svg+xml' }), ...placeholder(ErrorCodes.UNSUPPORTED_FORMAT) },
  { name: 'redirect chain', route: () => ({ kind: 'redirect', location: '/hop-2', status: 301 }), outcome: 'regenerated' },
  { name: 'redirect loop', route: () => ({ kind: 'redirect', location: '/loop-b' }), ...placeholder(ErrorCodes.REDIRECT_LOOP) },
  {
    name: 'redirect to a forbidden loopback address',
    route: () => ({ kind: 'handler', handle: (_req, res) => res.writeHead(302, { location: forbidden.urlFor('/secret.jpg') }).end() }),
    ...placeholder(ErrorCodes.FORBIDDEN_ADDRESS),
  },
  ...['127.0.0.1', 'localhost', '127.1', '0177.0.0.1', '2130706433', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '0.0.0.0'].map(
    (host): Case => ({ name: `forbidden address directly: ${host}`, url: () => `http://${host}:${forbidden.port}/secret.jpg`, ...placeholder(ErrorCodes.FORBIDDEN_ADDRESS) }),
  ),
  { name: 'invalid URL', url: () => 'http://exa mple.com/a b.jpg', ...placeholder(ErrorCodes.INVALID_URL) },
  { name: 'file: URL', url: () => 'file:///etc/passwd', ...placeholder(ErrorCodes.UNSUPPORTED_PROTOCOL) },
  { name: 'data: URL', url: () => 'data:image/jpeg;base64,/9j/4AAQSkZJRgABAQ==', ...placeholder(ErrorCodes.UNSUPPORTED_PROTOCOL) },
];

beforeAll(async () => {
  const images = {
    jpeg: await makeImage('jpeg', 320, 240),
    png: await makeImage('png', 320, 240),
    webp: await makeImage('webp', 320, 240),
    gif: await makeImage('gif', 320, 240),
    avif: await makeImage('avif', 320, 240),
  };
  const fx: Fixtures = { jpeg: await makeImage('jpeg', 320, 240, { noise: true }), images, bomb: await pngDeclaring(50_000, 50_000) };
  const routes: Record<string, OriginRoute> = {
    '/hop-2': { kind: 'redirect', location: pathOf('200 jpeg'), status: 302 },
    '/loop-b': { kind: 'redirect', location: pathOf('redirect loop') },
  };
  for (const c of cases) if (c.route) routes[pathOf(c.name)] = c.route(fx);
  origin = await startTestOrigin({ routes });
  forbidden = await startTestOrigin({ routes: { '/secret.jpg': { kind: 'image', body: fx.jpeg, contentType: 'image/jpeg' } } });
  root = await mkdtemp(join(tmpdir(), 'rethumb-fallbacks-'));
  store = new FileStore(root);
  regen = createRegenerator({
    store,
    variants: { small: { ...SMALL, fit: 'cover' }, large: { width: 200 } },
    // Only the test origin, by host and port; the forbidden listener's port is not allowed.
    allowHosts: [origin.host],
    headersTimeoutMs: 300,
    timeoutMs: 1_500,
    maxBytes: 100_000,
    maxPixels: 4_000_000,
    maxRedirects: 3,
    // This table checks how each origin behaviour is classified, one request per case on one
    // shared host; retries and the circuit breaker have their own tests (test/regenerator/politeness*).
    retry: { retries: 0 },
    circuitBreaker: { failures: 1_000 },
  });
});

afterAll(async () => {
  await regen?.close();
  await origin?.close();
  await forbidden?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

describe('get() never errors', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const url = c.url ? c.url() : origin.urlFor(pathOf(c.name));
    const thumb = await regen.get({ url }, 'small');

    expect(thumb.outcome).toBe(c.outcome);
    expect(thumb.reason).toBe(c.reason);
    if (c.status !== undefined) expect(thumb.failures?.[0]?.status).toBe(c.status);
    // A valid image of the variant's box, whatever happened.
    expect(thumb.contentType).toBe('image/webp');
    const decoded = await decode(thumb.body);
    expect(decoded).toEqual({ ...SMALL, format: 'webp' });
    expect([thumb.width, thumb.height]).toEqual([SMALL.width, SMALL.height]);
    // The testing kit's assertions, proven on every fault (rethumb/testing).
    expect(await expectValidThumbnail(thumb, { ...SMALL, fit: 'cover' })).toEqual({ ...SMALL, format: 'webp' });
    expect(isPlaceholder(thumb)).toBe(c.outcome === 'placeholder');

    const stored = await store.head({ key: thumb.key, variant: 'small', format: 'webp' });
    if (c.outcome === 'regenerated') {
      expect(thumb.degraded).toBe(false);
      expect(stored).toEqual(expect.objectContaining({ degraded: false }));
    } else {
      // Never persist junk: a placeholder is never written.
      expect(thumb.degraded).toBe(true);
      expect(stored).toBeUndefined();
    }
  });

  it('the forbidden listener received zero requests and zero connections', () => {
    expect(forbidden.hits()).toBe(0);
    expect(forbidden.connections).toBe(0);
  });

  it('the store holds only real thumbnails', async () => {
    const keys = new Set<string>();
    for await (const entry of store.list()) {
      expect(entry.degraded).toBe(false);
      const body = (await store.get(entry))!.body;
      await expect(decode(body)).resolves.toMatchObject({ format: 'webp' });
      keys.add(entry.key);
    }
    // One key per regenerated case (the redirect chain's key is its first URL's).
    expect(keys.size).toBe(cases.filter((c) => c.outcome === 'regenerated').length);
    expect(await readdir(root)).not.toContain('.tmp');
  });
});
