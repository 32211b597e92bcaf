/**
 * fetchSource decodes what an origin sends compressed although rethumb asked for `identity`
 * (S3 objects stored gzipped, `gzip_static always`): every coding a server may send, stacked
 * codings, both flavours of `deflate`, and the bounds a compressed body must still respect.
 */
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fetchSource, SNIFF_BYTES } from '../../src/fetching/fetch-source.js';
import { startTestOrigin, type TestOrigin } from '../../src/testing/test-origin.js';
import { makeImage } from '../helpers/images.js';
import { eventually, fetchOptions, rejectionOf, testAgent } from './support.js';

let origin: TestOrigin;
let dispatcher: Agent;
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 320, 240, { noise: true });
  origin = await startTestOrigin();
  dispatcher = testAgent([origin.host]);
});

afterAll(async () => {
  await dispatcher?.close();
  await origin?.close();
});

/** Serves `body` as image/jpeg with the given Content-Encoding (one header line per array item). */
function serveEncoded(path: string, body: Buffer, encoding: string | string[]): string {
  origin.route(path, { kind: 'image', body, contentType: 'image/jpeg', headers: { ['content-encoding' as string]: encoding } });
  return origin.urlFor(path);
}

/** Serves `chunks` chunked (no Content-Length), gzip-labelled, a chunk per event-loop turn. */
function serveChunked(path: string, chunks: readonly Buffer[], encoding: string): string {
  origin.route(path, {
    kind: 'handler',
    handle: (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': encoding });
      let next = 0;
      const pump = (): void => {
        while (next < chunks.length && !res.destroyed) {
          if (!res.write(chunks[next++])) return void res.once('drain', pump);
        }
        if (!res.destroyed) res.end();
      };
      pump();
    },
  });
  return origin.urlFor(path);
}

describe('fetchSource: Content-Encoding', () => {
  it.each([
    ['gzip', () => gzipSync(jpeg)],
    ['x-gzip', () => gzipSync(jpeg)],
    ['GZip', () => gzipSync(jpeg)],
    ['deflate', () => deflateSync(jpeg)],
    ['br', () => brotliCompressSync(jpeg)],
    ['identity', () => jpeg],
    ['gzip, identity', () => gzipSync(jpeg)],
  ])('decodes %s to the very bytes of the image', async (encoding, encode) => {
    const result = await fetchSource(serveEncoded(`/enc/${encodeURIComponent(encoding)}.jpg`, encode(), encoding), fetchOptions(dispatcher));
    expect(Buffer.compare(result.body, jpeg)).toBe(0);
    expect(result.contentType).toBe('image/jpeg');
  });

  it('decodes raw deflate (RFC 1951) sent as `deflate`, as some servers do', async () => {
    const raw = deflateRawSync(jpeg);
    const result = await fetchSource(serveEncoded('/enc/raw-deflate.jpg', raw, 'deflate'), fetchOptions(dispatcher));
    expect(Buffer.compare(result.body, jpeg)).toBe(0);
  });

  it('undoes stacked codings last-applied first: `gzip, br` is br(gzip(image))', async () => {
    const body = brotliCompressSync(gzipSync(jpeg));
    const result = await fetchSource(serveEncoded('/enc/stacked.jpg', body, 'gzip, br'), fetchOptions(dispatcher));
    expect(Buffer.compare(result.body, jpeg)).toBe(0);
  });

  it('reads codings spread over several header lines as one list', async () => {
    const body = gzipSync(deflateSync(jpeg));
    const result = await fetchSource(serveEncoded('/enc/lines.jpg', body, ['deflate', 'gzip']), fetchOptions(dispatcher));
    expect(Buffer.compare(result.body, jpeg)).toBe(0);
  });

  it('decodes a chunked body of unknown length, chunk by chunk', async () => {
    const gz = gzipSync(jpeg);
    const chunks = Array.from({ length: Math.ceil(gz.length / 1000) }, (_, i) => gz.subarray(i * 1000, (i + 1) * 1000));
    const result = await fetchSource(serveChunked('/enc/chunked.jpg', chunks, 'gzip'), fetchOptions(dispatcher));
    expect(Buffer.compare(result.body, jpeg)).toBe(0);
  });

  it('hands inspect() the first decoded bytes, not the compressed ones', async () => {
    const heads: Buffer[] = [];
    await fetchSource(
      serveEncoded('/enc/inspect.jpg', gzipSync(jpeg), 'gzip'),
      fetchOptions(dispatcher, { inspect: (head) => void heads.push(Buffer.from(head)) }),
    );
    expect(heads).toHaveLength(1);
    expect(Buffer.compare(heads[0]!, jpeg.subarray(0, SNIFF_BYTES))).toBe(0);
  });

  it('an empty compressed body is an empty body (reported as such later), not a corrupt one', async () => {
    const result = await fetchSource(serveEncoded('/enc/empty.jpg', Buffer.alloc(0), 'gzip'), fetchOptions(dispatcher));
    expect(result.body.length).toBe(0);
  });
});

describe('fetchSource: Content-Encoding failures', () => {
  it.each(['compress', 'x-compress', 'exi', 'gzip, pack200-gzip'])('%s → RETHUMB_UNSUPPORTED_ENCODING before the body is read', async (encoding) => {
    // A body that never ends: only a refusal on the headers answers at all.
    const path = `/enc/unknown-${encoding.replace(/\W/g, '_')}`;
    origin.route(path, {
      kind: 'handler',
      handle: (_req, res) => {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': encoding });
        res.flushHeaders();
        const timer = setInterval(() => res.write(Buffer.alloc(1, 1)), 50);
        res.once('close', () => clearInterval(timer));
      },
    });
    const error = await rejectionOf(fetchSource(origin.urlFor(path), fetchOptions(dispatcher)));
    expect(error.code).toBe(ErrorCodes.UNSUPPORTED_ENCODING);
    expect(error.coding).toBe(encoding.split(',').at(-1)!.trim());
    expect(error.message).toContain('Content-Encoding');
    expect(await eventually(() => origin.inFlight === 0)).toBe(true);
  });

  it('more than 5 stacked codings → RETHUMB_UNSUPPORTED_ENCODING before the body is read (as curl, CVE-2022-32206)', async () => {
    // Each coding is a decoder and a stage of generators: 2 000 of them overflowed the stack
    // (reported as a connection failure), and their buffers add up.
    let body = jpeg;
    for (let i = 0; i < 6; i += 1) body = gzipSync(body, { level: 1 });
    const error = await rejectionOf(fetchSource(serveEncoded('/enc/stacked-6.jpg', body, Array(6).fill('gzip').join(', ')), fetchOptions(dispatcher)));
    expect(error.code).toBe(ErrorCodes.UNSUPPORTED_ENCODING);
    expect(error.message).toContain('6 codings');
    const many = await rejectionOf(fetchSource(serveEncoded('/enc/stacked-2000.jpg', body, Array(2000).fill('br').join(',')), fetchOptions(dispatcher)));
    expect(many.code).toBe(ErrorCodes.UNSUPPORTED_ENCODING);
    let five = jpeg;
    for (let i = 0; i < 5; i += 1) five = gzipSync(five, { level: 1 });
    const fetched = await fetchSource(serveEncoded('/enc/stacked-5.jpg', five, Array(5).fill('gzip').join(', ')), fetchOptions(dispatcher));
    expect(fetched.body.equals(jpeg)).toBe(true);
  });

  it('bytes that are not what the coding says → RETHUMB_CORRUPT_ENCODING, not "not an image"', async () => {
    const error = await rejectionOf(fetchSource(serveEncoded('/enc/lie.jpg', jpeg, 'gzip'), fetchOptions(dispatcher)));
    expect(error.code).toBe(ErrorCodes.CORRUPT_ENCODING);
    expect(error.coding).toBe('gzip');
  });

  it.each(['gzip', 'deflate', 'br'])('a large plain body labelled %s, arriving in many chunks → RETHUMB_CORRUPT_ENCODING, not a connection failure', async (encoding) => {
    // The decoder fails while more of the body is on its way: that is still the body's fault.
    const chunks = Array.from({ length: 16 }, (_, i) => (i === 0 ? jpeg : Buffer.alloc(64 * 1024, i)));
    const error = await rejectionOf(fetchSource(serveChunked(`/enc/lie-large-${encoding}.jpg`, chunks, encoding), fetchOptions(dispatcher)));
    expect(error.code).toBe(ErrorCodes.CORRUPT_ENCODING);
    expect(error.coding).toBe(encoding);
  });

  it.each([
    ['gzip', () => gzipSync(jpeg)],
    ['br', () => brotliCompressSync(jpeg)],
    ['deflate', () => deflateSync(jpeg)],
  ])('a %s stream cut short (the response itself complete) → RETHUMB_CORRUPT_ENCODING', async (encoding, encode) => {
    const whole = encode();
    const error = await rejectionOf(fetchSource(serveEncoded(`/enc/cut-${encoding}.jpg`, whole.subarray(0, whole.length >> 1), encoding), fetchOptions(dispatcher)));
    expect(error.code).toBe(ErrorCodes.CORRUPT_ENCODING);
    expect(error.coding).toBe(encoding);
  });

  it('a connection dropped mid-body stays a connection failure, not corruption', async () => {
    const gz = gzipSync(jpeg);
    origin.route('/enc/dropped.jpg', {
      kind: 'handler',
      handle: (req, res) => {
        res.writeHead(200, { 'content-type': 'image/jpeg', 'content-encoding': 'gzip', 'content-length': gz.length });
        res.write(gz.subarray(0, gz.length >> 1), () => req.socket.destroy());
      },
    });
    const error = await rejectionOf(fetchSource(origin.urlFor('/enc/dropped.jpg'), fetchOptions(dispatcher)));
    expect(error.code).toBe(ErrorCodes.CONNECTION);
  });
});

describe('fetchSource: a compressed body is bounded both ways', () => {
  it('1.7 KB that inflates to 1 GiB (gzip of gzip) ends as RETHUMB_TOO_LARGE just past maxBytes, in bounded memory', async () => {
    const member = gzipSync(Buffer.alloc(16 << 20), { level: 9 });
    const bomb = gzipSync(Buffer.concat(Array.from({ length: 64 }, () => member)), { level: 9 });
    expect(bomb.length).toBeLessThan(4096);
    const maxBytes = 8 << 20;
    let largestBuffer = 0;
    let peakArrayBuffers = 0;
    const baseline = process.memoryUsage().arrayBuffers;
    const sampler = setInterval(() => (peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers - baseline)), 2);
    try {
      const error = await rejectionOf(
        fetchSource(
          serveEncoded('/enc/bomb.jpg', bomb, 'gzip, gzip'),
          fetchOptions(dispatcher, { maxBytes, onBodyBytes: (bytes) => (largestBuffer = Math.max(largestBuffer, bytes)) }),
        ),
      );
      expect(error.code).toBe(ErrorCodes.TOO_LARGE);
      expect(error.announced).toBe(false);
      expect(error.decodedFrom).toBe('gzip, gzip');
      expect(error.limit).toBe(maxBytes);
      // Decoding stopped at the limit (zlib hands out 16 KiB at a time), not after the gigabyte.
      expect(error.size).toBeGreaterThan(maxBytes);
      expect(error.size - maxBytes).toBeLessThanOrEqual(64 * 1024);
    } finally {
      clearInterval(sampler);
    }
    expect(largestBuffer).toBeLessThanOrEqual(maxBytes);
    // One body buffer of at most maxBytes, its outgrown buffers (together less than maxBytes,
    // garbage until V8 collects them), the copy made while it grows, and zlib's windows.
    expect(peakArrayBuffers).toBeLessThan(4 * maxBytes);
  });

  it('counts the bytes as sent too: 200 KB of empty gzip members (decoding to nothing) → RETHUMB_TOO_LARGE', async () => {
    const empty = gzipSync(Buffer.alloc(0));
    const body = Buffer.concat(Array.from({ length: Math.ceil(200_000 / empty.length) }, () => empty));
    const chunks = Array.from({ length: Math.ceil(body.length / 16_384) }, (_, i) => body.subarray(i * 16_384, (i + 1) * 16_384));
    const error = await rejectionOf(fetchSource(serveChunked('/enc/members.jpg', chunks, 'gzip'), fetchOptions(dispatcher, { maxBytes: 100_000 })));
    expect(error.code).toBe(ErrorCodes.TOO_LARGE);
    expect(error.decodedFrom).toBeUndefined();
    expect(error.size).toBeGreaterThan(100_000);
  });

  it('refuses at once a compressed body whose Content-Length is over maxBytes', async () => {
    const gz = gzipSync(jpeg);
    const error = await rejectionOf(fetchSource(serveEncoded('/enc/announced.jpg', gz, 'gzip'), fetchOptions(dispatcher, { maxBytes: gz.length - 1 })));
    expect(error.code).toBe(ErrorCodes.TOO_LARGE);
    expect(error.announced).toBe(true);
    expect(error.size).toBe(gz.length);
  });
});
