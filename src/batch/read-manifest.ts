/**
 * Open a manifest — a file path, `-` for stdin, or any byte stream — and stream its records.
 * Nothing is loaded whole: one line (or CSV row) at a time, with back-pressure.
 */
import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import type { ManifestEntry, ManifestFormat, ReadManifestOptions } from './manifest-types.js';
import { readCsv } from './read-csv.js';
import { readJsonLines } from './read-json-lines.js';

/** The format a path's extension names, or undefined. */
export function formatOfPath(path: string): ManifestFormat | undefined {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  return undefined;
}

/** Stream the records of `source` (a path, `-` for stdin, or a byte stream). */
export async function* readManifest(
  source: string | AsyncIterable<Buffer | string>,
  options: ReadManifestOptions = {},
): AsyncGenerator<ManifestEntry> {
  const input = typeof source === 'string' ? (source === '-' ? process.stdin : createReadStream(source)) : source;
  const named = options.format ?? (typeof source === 'string' && source !== '-' ? formatOfPath(source) : undefined);
  const { format, stream } = named ? { format: named, stream: input } : await sniffFormat(input);
  yield* format === 'csv' ? readCsv(stream, options) : readJsonLines(stream, options);
}

/**
 * JSON Lines when the first non-blank byte is `{` (or `[`, a malformed JSON line reported as
 * such), CSV otherwise. The bytes read to decide are put back in front of the rest.
 */
async function sniffFormat(input: AsyncIterable<Buffer | string>): Promise<{ format: ManifestFormat; stream: AsyncIterable<Buffer> }> {
  const iterator = input[Symbol.asyncIterator]();
  const seen: Buffer[] = [];
  let format: ManifestFormat | undefined;
  while (format === undefined) {
    const next = await iterator.next();
    if (next.done) break;
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    seen.push(chunk);
    for (const byte of chunk) {
      // Whitespace and a UTF-8 byte order mark do not decide.
      if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d || byte === 0xef || byte === 0xbb || byte === 0xbf) continue;
      format = byte === 0x7b || byte === 0x5b ? 'jsonl' : 'csv';
      break;
    }
  }
  async function* replay(): AsyncGenerator<Buffer> {
    yield* seen;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    }
  }
  return { format: format ?? 'jsonl', stream: replay() };
}
