/**
 * rethumb/http through a real node:http server on loopback: hits, misses, 304s, stand-in
 * headers, unknown keys, deadlines, and one origin fetch for a burst of cold requests.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createThumbnailHandler, type ThumbnailHandlerOptions } from '../../src/adapters/http/index.js';
import { ErrorCodes } from '../../src/errors.js';
import type { Regenerator } from '../../src/regenerator/regenerator.js';
import { expectValidThumbnail } from '../../src/testing/index.js';
import type { ThumbRecord } from '../../src/types.js';
import { makeImage } from '../helpers/images.js';
import { until, useHarness } from '../regenerator/support.js';

const VARIANTS = { small: { width: 64, height: 64, fit: 'cover' }, large: { width: 240 } } as const;
const REAL = 'public, max-age=31536000, immutable';
const SHORT = 'public, max-age=60';
const { origin, regenerator } = useHarness(VARIANTS);
let jpeg: Buffer;
const servers: Server[] = [];

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 480, 320, { noise: true });
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Serves the handler on 127.0.0.1 and returns its base URL. */
async function serve(regen: Regenerator, records: Record<string, ThumbRecord>, extra: Partial<ThumbnailHandlerOptions> = {}): Promise<string> {
  const handler = createThumbnailHandler({ regenerator: regen, resolve: (key) => records[key], ...extra });
  const server = createServer((req, res) => void handler(req, res));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function body(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

describe('createThumbnailHandler()', () => {
  it('regenerates on a miss, then serves a hit with the same ETag; If-None-Match gives 304', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const regen = regenerator(server);
    const base = await serve(regen, { 'photos/a': { url: server.urlFor('/a.jpg') } });

    const miss = await fetch(`${base}/small/photos/a`);
    expect(miss.status).toBe(200);
    expect(miss.headers.get('content-type')).toBe('image/webp');
    expect(miss.headers.get('x-thumbnail-outcome')).toBe('regenerated');
    expect(miss.headers.get('cache-control')).toBe(REAL);
    const missBody = await body(miss);
    expect(Number(miss.headers.get('content-length'))).toBe(missBody.length);
    const etag = miss.headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{22}"$/);
    await expectValidThumbnail({ ...(await regen.get({ key: 'photos/a', url: server.urlFor('/a.jpg') }, 'small')), body: missBody }, VARIANTS.small);

    const hit = await fetch(`${base}/small/photos/a`);
    expect(hit.headers.get('x-thumbnail-outcome')).toBe('memory');
    expect(hit.headers.get('etag')).toBe(etag);
    expect((await body(hit)).equals(missBody)).toBe(true);

    for (const ifNoneMatch of [etag as string, `W/${etag}`, `"other", ${etag}`, '*']) {
      const notModified = await fetch(`${base}/small/photos/a`, { headers: { 'if-none-match': ifNoneMatch } });
      expect(notModified.status, ifNoneMatch).toBe(304);
      expect(notModified.headers.get('etag')).toBe(etag);
      expect((await body(notModified)).length).toBe(0);
    }
    const changed = await fetch(`${base}/small/photos/a`, { headers: { 'if-none-match': '"stale"' } });
    expect(changed.status).toBe(200);
    expect(server.hits('/a.jpg')).toBe(1);
  });

  it('serves a placeholder for a failing origin as 200 with short caching, outcome and reason headers', async () => {
    const server = await origin({ '/gone.jpg': { kind: 'status', status: 500 }, '/html.jpg': { kind: 'html' }, '/reset.jpg': { kind: 'reset' } });
    const regen = regenerator(server);
    const base = await serve(regen, {
      gone: { url: server.urlFor('/gone.jpg') },
      html: { url: server.urlFor('/html.jpg') },
      reset: { url: server.urlFor('/reset.jpg') },
    });
    for (const [key, reason] of [['gone', ErrorCodes.HTTP_STATUS], ['html', ErrorCodes.NOT_AN_IMAGE], ['reset', ErrorCodes.CONNECTION]] as const) {
      const response = await fetch(`${base}/small/${key}`);
      expect(response.status, key).toBe(200);
      expect(response.headers.get('x-thumbnail-outcome')).toBe('placeholder');
      expect(response.headers.get('x-thumbnail-reason')).toBe(reason);
      expect(response.headers.get('cache-control')).toBe(SHORT);
      expect(response.headers.get('etag')).toBeTruthy();
      const decoded = await expectValidThumbnail(
        { body: await body(response), contentType: 'image/webp', width: 64, height: 64, outcome: 'placeholder', degraded: true, key, variant: 'small' },
        VARIANTS.small,
      );
      expect(decoded).toEqual({ width: 64, height: 64, format: 'webp' });
    }
  });

  it('answers an unknown key with 404 and a placeholder body; a bad key with 400 and a placeholder; an unknown variant or path with a plain 404', async () => {
    const server = await origin({});
    const regen = regenerator(server);
    const base = await serve(regen, {});
    const unknown = await fetch(`${base}/small/nobody/here`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('image/webp');
    expect(unknown.headers.get('x-thumbnail-outcome')).toBe('placeholder');
    expect(unknown.headers.get('x-thumbnail-reason')).toBe(ErrorCodes.UNKNOWN_KEY);
    expect(unknown.headers.get('cache-control')).toBe(SHORT);
    expect((await makeDecoded(await body(unknown)))).toEqual({ width: 64, height: 64 });

    for (const bad of ['/small/a%2F..%2Fb', '/small/%2Fetc%2Fpasswd', '/small/.hidden', '/small/a%00b', '/small/a//b']) {
      const response = await fetch(`${base}${bad}`);
      expect(response.status, bad).toBe(400);
      expect(response.headers.get('x-thumbnail-outcome')).toBe('placeholder');
      expect(response.headers.get('x-thumbnail-reason')).toBe(ErrorCodes.INVALID_KEY);
      expect((await makeDecoded(await body(response)))).toEqual({ width: 64, height: 64 });
    }
    for (const path of ['/huge/a', '/small', '/', '/small/%zz']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      await response.arrayBuffer();
    }
    expect(server.hits()).toBe(0);
  });

  it('HEAD answers headers without a body; other methods get 405 with Allow', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const regen = regenerator(server);
    const base = await serve(regen, { a: { url: server.urlFor('/a.jpg') } });
    const head = await fetch(`${base}/large/a`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
    expect((await body(head)).length).toBe(0);
    const post = await fetch(`${base}/large/a`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.arrayBuffer();
  });

  it('a slow origin under the deadline gets a stand-in now (short cache), and the real thumbnail next time', async () => {
    const server = await origin({ '/slow.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 600 } });
    const regen = regenerator(server);
    const base = await serve(regen, { slow: { url: server.urlFor('/slow.jpg') } }, { deadlineMs: 100 });
    const first = await fetch(`${base}/small/slow`);
    expect(first.status).toBe(200);
    expect(first.headers.get('x-thumbnail-outcome')).toBe('placeholder');
    expect(first.headers.get('x-thumbnail-reason')).toBe(ErrorCodes.DEADLINE);
    expect(first.headers.get('cache-control')).toBe(SHORT);
    await first.arrayBuffer();
    // The regeneration went on in the background and landed in the cache.
    let outcome: string | null = null;
    expect(
      await until(async () => {
        const next = await fetch(`${base}/small/slow`);
        await next.arrayBuffer();
        outcome = next.headers.get('x-thumbnail-outcome');
        return outcome === 'memory';
      }),
    ).toBe(true);
    expect(server.hits('/slow.jpg')).toBe(1);
  });

  it('100 concurrent requests for one cold key cause one origin fetch, and all get the same image', async () => {
    const server = await origin({ '/cold.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 200 } });
    const regen = regenerator(server);
    const base = await serve(regen, { cold: { url: server.urlFor('/cold.jpg') } });
    const responses = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const response = await fetch(`${base}/small/cold`);
        return { status: response.status, etag: response.headers.get('etag'), outcome: response.headers.get('x-thumbnail-outcome'), body: await body(response) };
      }),
    );
    expect(server.hits('/cold.jpg')).toBe(1);
    expect(new Set(responses.map((r) => r.status))).toEqual(new Set([200]));
    expect(new Set(responses.map((r) => r.etag)).size).toBe(1);
    expect(responses.every((r) => r.outcome === 'regenerated' || r.outcome === 'memory')).toBe(true);
  });

  it('resolve() throwing is the service’s own failure: 500 with a placeholder body, no-store, reported to onError', async () => {
    const server = await origin({});
    const regen = regenerator(server);
    const errors: unknown[] = [];
    const base = await serve(regen, {}, {
      resolve: () => {
        throw new Error('database down');
      },
      onError: (error) => errors.push(error),
    });
    const response = await fetch(`${base}/small/a`);
    expect(response.status).toBe(500);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect((await makeDecoded(await body(response)))).toEqual({ width: 64, height: 64 });
    expect(errors).toHaveLength(1);
  });

  it('a client that goes away aborts its wait and the download nobody else waits for; the server keeps serving', async () => {
    const server = await origin({ '/stall.jpg': { kind: 'stall' }, '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const regen = regenerator(server);
    let resolved = 0;
    const base = await serve(regen, { stall: { url: server.urlFor('/stall.jpg') }, a: { url: server.urlFor('/a.jpg') } }, {
      deadlineMs: 20_000,
      resolve: (key) => {
        resolved += 1;
        return key === 'stall' ? { url: server.urlFor('/stall.jpg') } : { url: server.urlFor('/a.jpg') };
      },
    });
    const controller = new AbortController();
    const pending = fetch(`${base}/small/stall`, { signal: controller.signal }).catch((error: unknown) => error);
    expect(await until(() => server.hits('/stall.jpg') === 1)).toBe(true);
    expect(server.inFlight).toBe(1);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    // The abandoned get() was its regeneration's only waiter: the stalled download is dropped.
    expect(await until(() => server.inFlight === 0)).toBe(true);
    const after = await fetch(`${base}/small/a`);
    expect(after.status).toBe(200);
    await after.arrayBuffer();
    expect(resolved).toBe(2);
  });

  it('strips basePath and passes foreign paths to next()', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg' } });
    const regen = regenerator(server);
    const handler = createThumbnailHandler({ regenerator: regen, resolve: () => ({ url: server.urlFor('/a.jpg') }), basePath: '/thumbs' });
    const httpServer = createServer((req, res) => {
      void handler(req, res, () => {
        res.statusCode = 418;
        res.end('next');
      });
    });
    servers.push(httpServer);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
    const ours = await fetch(`${base}/thumbs/small/a?v=1`);
    expect(ours.status).toBe(200);
    await ours.arrayBuffer();
    const theirs = await fetch(`${base}/other/small/a`);
    expect(theirs.status).toBe(418);
    expect(await theirs.text()).toBe('next');
  });

  it.each([[{ resolve: 1 }], [{ basePath: 'thumbs' }], [{ basePath: '/thumbs/' }], [{ deadlineMs: -1 }], [{ regenerator: {} }]])('refuses %j with RETHUMB_CONFIG', async (bad) => {
    const server = await origin({});
    const regen = regenerator(server);
    expect(() => createThumbnailHandler({ regenerator: regen, resolve: () => undefined, ...bad } as never)).toThrow(expect.objectContaining({ code: ErrorCodes.CONFIG }));
  });
});

async function makeDecoded(buffer: Buffer): Promise<{ width: number; height: number }> {
  const { default: sharp } = await import('sharp');
  const meta = await sharp(buffer).metadata();
  return { width: meta.width ?? 0, height: meta.height ?? 0 };
}
