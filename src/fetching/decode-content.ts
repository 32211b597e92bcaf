/**
 * Undo a response's `Content-Encoding`. rethumb asks for `identity`, but S3 objects stored
 * compressed, `gzip_static always` and some CDNs send gzip or br anyway; such a JPEG is still a
 * JPEG. Decoding streams through node:zlib with back-pressure, so the caller's byte count of the
 * decoded output stops a 1 KB body that inflates to 1 GB after `maxBytes`, in bounded memory.
 */
import { Readable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { CorruptEncodingError, RethumbError, UnsupportedEncodingError } from '../errors.js';

/** A coding rethumb decodes, as named in `Content-Encoding` (`x-gzip` is read as `gzip`). */
export type ContentCoding = 'gzip' | 'deflate' | 'br' | 'zstd';

// zstd decoding arrived in Node 22.15 / 23.8; on older versions `zstd` is an unsupported coding.
const createZstdDecompress = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress;

/**
 * Most codings stacked on one body that are decoded, as curl allows (CVE-2022-32206): real
 * servers send one, a misconfigured proxy two. Each is a decoder with its own buffers and a stage
 * of generators; thousands of them overflowed the stack.
 */
export const MAX_STACKED_CODINGS = 5;

/**
 * The codings to undo, in the order they were applied (`gzip, br` means gzip first, then br: so
 * br is undone first). `identity` and empty items are dropped; an unknown coding, or more than
 * MAX_STACKED_CODINGS, throws `UnsupportedEncodingError` before any byte is read. `value` is the header as received (one
 * string, or one per header line, which together form one list).
 */
export function contentCodings(value: string | readonly string[] | undefined, url: string): ContentCoding[] {
  if (value === undefined) return [];
  const codings: ContentCoding[] = [];
  for (const item of (typeof value === 'string' ? [value] : value).join(',').split(',')) {
    const name = item.trim().toLowerCase();
    if (name === '' || name === 'identity') continue;
    if (name === 'gzip' || name === 'x-gzip') codings.push('gzip');
    else if (name === 'deflate' || name === 'br') codings.push(name);
    else if (name === 'zstd' && createZstdDecompress !== undefined) codings.push('zstd');
    else throw new UnsupportedEncodingError(url, name);
    if (codings.length > MAX_STACKED_CODINGS) throw new UnsupportedEncodingError(url, name, { count: countCodings(value), max: MAX_STACKED_CODINGS });
  }
  return codings;
}

/** Codings named in a `Content-Encoding` value, `identity` included (for the refusal's message). */
function countCodings(value: string | readonly string[]): number {
  return (typeof value === 'string' ? [value] : value).join(',').split(',').filter((item) => item.trim() !== '').length;
}

/**
 * The decoded bytes of `source`, which was encoded with `codings` in that order. Each stage
 * pulls from the one before only as fast as it is read. Rejects with `CorruptEncodingError`
 * when a stage's data is corrupt or truncated; errors of `source` pass through unchanged.
 * An empty input decodes to nothing (an empty body is reported as such, not as corrupt).
 */
export function decodeContent(source: AsyncIterable<Buffer>, codings: readonly ContentCoding[], url: string): AsyncIterable<Buffer> {
  let decoded = source;
  for (let i = codings.length - 1; i >= 0; i -= 1) decoded = decodeStage(decoded, codings[i]!, url);
  return decoded;
}

async function* decodeStage(source: AsyncIterable<Buffer>, coding: ContentCoding, url: string): AsyncGenerator<Buffer> {
  const input = source[Symbol.asyncIterator]();
  try {
    // The first bytes decide between zlib-wrapped and raw deflate (servers send both as `deflate`).
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 2) {
      const next = await input.next();
      if (next.done) break;
      head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    }
    if (head.length === 0) return;
    const decoder = createDecoder(coding, head);
    let sourceFailed = false;
    const feed = Readable.from(prepend(head, input, () => (sourceFailed = true)), { objectMode: false });
    const fed = pipeline(feed, decoder);
    // Read the decoder as it produces; `fed` settles with the first error of either side.
    fed.catch(() => {});
    try {
      for await (const chunk of decoder) yield chunk as Buffer;
      await fed;
    } catch (error) {
      // What the source threw (a timeout, a dropped connection, a size limit) is not corruption.
      if (sourceFailed || error instanceof RethumbError) throw error;
      throw new CorruptEncodingError(url, coding, error);
    } finally {
      feed.destroy();
      decoder.destroy();
    }
  } finally {
    // Not awaited: a read of the source may be pending (a stalled origin), and closing waits for
    // it. The caller destroys the response body, which ends that read.
    input.return?.().catch(noop);
  }
}

function noop(): void {}

function createDecoder(coding: ContentCoding, head: Buffer): Transform {
  switch (coding) {
    case 'gzip':
      return zlib.createGunzip();
    case 'deflate':
      return isZlibHeader(head) ? zlib.createInflate() : zlib.createInflateRaw();
    case 'br':
      return zlib.createBrotliDecompress();
    case 'zstd':
      return createZstdDecompress!();
  }
}

/**
 * RFC 1950: compression method 8 (deflate) with a window of at most 32 KiB, and a header
 * checksum that makes the first two bytes a multiple of 31. Raw deflate (RFC 1951), which many
 * servers send as `deflate`, starts with a block header that almost never passes both checks.
 */
function isZlibHeader(head: Buffer): boolean {
  const cmf = head[0]!;
  const flg = head[1]!;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0;
}

/**
 * `head`, then the rest of `rest`; `onError` is told when `rest` itself fails. Only the read is
 * watched: when the decoder fails, the stream fed by this generator throws the decoder's error
 * into it at its `yield`, and that is corruption, not a failure of the source.
 */
async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>, onError: () => void): AsyncGenerator<Buffer> {
  yield head;
  for (;;) {
    let next: IteratorResult<Buffer>;
    try {
      next = await rest.next();
    } catch (error) {
      onError();
      throw error;
    }
    if (next.done) return;
    yield next.value;
  }
}
