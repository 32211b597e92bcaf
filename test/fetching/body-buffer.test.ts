/**
 * A body is read into one buffer: allocated once from Content-Length, grown geometrically when
 * the length is unknown, trimmed to its size, and never a second copy of chunks concatenated.
 */
import type { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { fetchSource } from '../../src/fetching/fetch-source.js';
import { startTestOrigin, type TestOrigin } from '../../src/testing/test-origin.js';
import { fetchOptions, rejectionOf, startRawOrigin, testAgent } from './support.js';

let origin: TestOrigin;
let dispatcher: Agent;
const body = Buffer.alloc(3_000_000);
for (let i = 0; i < body.length; i += 1) body[i] = (i * 7) % 251;

beforeAll(async () => {
  origin = await startTestOrigin({
    routes: {
      '/known': { kind: 'image', body, contentType: 'image/jpeg' },
      '/unknown': { kind: 'trickle', body, intervalMs: 1, chunkBytes: 65_536, contentLength: false },
    },
  });
  dispatcher = testAgent([origin.host]);
});

afterAll(async () => {
  await dispatcher?.close();
  await origin?.close();
});

describe('fetchSource: one body buffer', () => {
  it('allocates once, exactly Content-Length, however many chunks arrive', async () => {
    const reports: number[] = [];
    const result = await fetchSource(origin.urlFor('/known'), fetchOptions(dispatcher, { onBodyBytes: (bytes) => reports.push(bytes) }));
    expect(Buffer.compare(result.body, body)).toBe(0);
    expect(reports).toEqual([body.length]);
    // The body is the buffer itself, not a view into a larger one.
    expect(result.body.buffer.byteLength).toBe(body.length);
  });

  it('grows geometrically when the length is unknown, then keeps exactly the body', async () => {
    const reports: number[] = [];
    const result = await fetchSource(origin.urlFor('/unknown'), fetchOptions(dispatcher, { onBodyBytes: (bytes) => reports.push(bytes) }));
    expect(Buffer.compare(result.body, body)).toBe(0);
    // 64 KiB doubling to 4 MiB is 7 allocations; a buffer per chunk would be ~46.
    expect(reports.length).toBeLessThanOrEqual(9);
    for (let i = 1; i < reports.length - 1; i += 1) expect(reports[i]).toBe(reports[i - 1]! * 2);
    expect(reports.at(-1)).toBe(body.length);
    expect(result.body.buffer.byteLength).toBe(body.length);
  });

  it('never grows past maxBytes while counting an unknown length', async () => {
    const reports: number[] = [];
    const error = await rejectionOf(
      fetchSource(origin.urlFor('/unknown'), fetchOptions(dispatcher, { maxBytes: 1_000_000, onBodyBytes: (bytes) => reports.push(bytes) })),
    );
    expect(error.code).toBe(ErrorCodes.TOO_LARGE);
    expect(Math.max(...reports)).toBeLessThanOrEqual(1_000_000);
  });

  it('a body shorter than announced is a connection failure; one longer is cut at the announced length', async () => {
    const raw = await startRawOrigin((socket, request) => {
      const payload = Buffer.alloc(2_000, 0x61);
      if (request.startsWith('GET /short')) socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n'), payload]));
      else socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n'), payload]));
    });
    const agent = testAgent([raw.host]);
    try {
      const short = await rejectionOf(fetchSource(raw.urlFor('/short'), fetchOptions(agent)));
      expect(short.code).toBe(ErrorCodes.CONNECTION);
      const long = await fetchSource(raw.urlFor('/long'), fetchOptions(agent));
      expect(long.body.length).toBe(1_000);
    } finally {
      await agent.close();
      await raw.close();
    }
  });
});
