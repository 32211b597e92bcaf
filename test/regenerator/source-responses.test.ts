/**
 * get() against origins that answer in ways a browser copes with: compressed bodies although
 * `identity` was asked for, interim responses before (or instead of) an answer, and timeouts,
 * which a fallback must name with their real phase and limit.
 */
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { decode, makeImage } from '../helpers/images.js';
import { startRawOrigin, type RawOrigin } from '../fetching/support.js';
import type { TestOrigin } from '../../src/testing/test-origin.js';
import { useHarness } from './support.js';

const VARIANTS = { small: { width: 64, height: 64, fit: 'cover' } } as const;
const { origin, regenerator } = useHarness(VARIANTS);
const raws: RawOrigin[] = [];
let jpeg: Buffer;

beforeAll(async () => {
  jpeg = await makeImage('jpeg', 320, 240, { noise: true });
});

afterEach(async () => {
  for (const raw of raws.splice(0)) await raw.close();
});

describe('get(): compressed bodies', () => {
  it.each([
    ['gzip', () => gzipSync(jpeg)],
    ['br', () => brotliCompressSync(jpeg)],
    ['gzip, br', () => brotliCompressSync(gzipSync(jpeg))],
  ])('a JPEG served with Content-Encoding %s is regenerated, not refused as "not an image"', async (encoding, encode) => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: encode(), contentType: 'image/jpeg', headers: { ['content-encoding' as string]: encoding } } });
    const regen = regenerator(server);
    const thumb = await regen.get({ url: server.urlFor('/a.jpg') }, 'small');
    expect(thumb.outcome).toBe('regenerated');
    expect(thumb.reason).toBeUndefined();
    expect(await decode(thumb.body)).toEqual({ width: 64, height: 64, format: 'webp' });
    expect(regen.stats().bytesDownloaded).toBe(jpeg.length);
  });

  it('an unknown coding falls back with RETHUMB_UNSUPPORTED_ENCODING, naming the coding', async () => {
    const server = await origin({ '/a.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg', headers: { ['content-encoding' as string]: 'compress' } } });
    const regen = regenerator(server);
    const thumb = await regen.get({ url: server.urlFor('/a.jpg') }, 'small');
    expect(thumb.outcome).toBe('placeholder');
    expect(thumb.reason).toBe(ErrorCodes.UNSUPPORTED_ENCODING);
    expect(thumb.failures?.[0]?.message).toContain('`compress`');
    expect(await decode(thumb.body)).toEqual({ width: 64, height: 64, format: 'webp' });
  });
});

describe('get(): timeouts name their real phase and limit', () => {
  it('a stalled origin: the headers deadline of the options, not "0 ms"', async () => {
    const server = await origin({ '/stall.jpg': { kind: 'stall' } });
    const regen = regenerator(server, { headersTimeoutMs: 300, retry: { retries: 0 } });
    const thumb = await regen.get({ url: server.urlFor('/stall.jpg') }, 'small');
    expect(thumb.outcome).toBe('placeholder');
    expect(thumb.reason).toBe(ErrorCodes.TIMEOUT);
    expect(thumb.failures?.[0]).toMatchObject({ code: ErrorCodes.TIMEOUT, phase: 'headers', timeoutMs: 300 });
    expect(thumb.failures?.[0]?.message).toContain('headers deadline of 300 ms');
  });

  it('103 Early Hints every 100 ms and no answer: the headers deadline ends it, not the total one', async () => {
    const raw = await startRawOrigin((socket) => {
      const timer = setInterval(() => socket.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n'), 100);
      socket.once('close', () => clearInterval(timer));
    });
    raws.push(raw);
    // The harness only reads `host` from the origin it is given.
    const regen = regenerator(raw as unknown as TestOrigin, { headersTimeoutMs: 500, timeoutMs: 10_000, retry: { retries: 0 } });
    const thumb = await regen.get({ url: raw.urlFor('/hinted.jpg') }, 'small');
    expect(thumb.outcome).toBe('placeholder');
    expect(thumb.failures?.[0]).toMatchObject({ code: ErrorCodes.TIMEOUT, phase: 'headers', timeoutMs: 500 });
  });

  it('a body that drips: the total deadline of the options', async () => {
    const server = await origin({ '/drip.jpg': { kind: 'trickle', body: jpeg, intervalMs: 20, contentType: 'image/jpeg' } });
    const regen = regenerator(server, { timeoutMs: 400, retry: { retries: 0 } });
    const thumb = await regen.get({ url: server.urlFor('/drip.jpg') }, 'small');
    expect(thumb.failures?.[0]).toMatchObject({ code: ErrorCodes.TIMEOUT, phase: 'total', timeoutMs: 400 });
    expect(thumb.failures?.[0]?.message).toContain('total deadline of 400 ms');
  });

  it('a get() deadline: the stand-in names deadlineMs and its value', async () => {
    const server = await origin({ '/slow.jpg': { kind: 'image', body: jpeg, contentType: 'image/jpeg', delayMs: 1_500 } });
    const regen = regenerator(server);
    const standIn = await regen.get({ url: server.urlFor('/slow.jpg') }, 'small', { deadlineMs: 100 });
    expect(standIn).toMatchObject({ outcome: 'placeholder', reason: ErrorCodes.DEADLINE });
    expect(standIn.failures?.[0]).toMatchObject({ source: server.urlFor('/slow.jpg'), code: ErrorCodes.DEADLINE, timeoutMs: 100 });
    expect(standIn.failures?.[0]?.message).toContain('deadlineMs of 100 ms');
  });
});
