/**
 * A fast count of a manifest file's records, for a progress bar's total and the estimate: the
 * non-blank lines (less the header row for CSV). A CSV field spanning lines is counted twice;
 * that is close enough for an ETA. Streams the file; never holds more than one chunk.
 */
import { createReadStream } from 'node:fs';
import type { ManifestFormat } from './manifest-types.js';

export async function countRecords(path: string, format: ManifestFormat, signal?: AbortSignal): Promise<number> {
  let lines = 0;
  let blank = true;
  for await (const chunk of createReadStream(path, signal ? { signal } : {}) as AsyncIterable<Buffer>) {
    for (const byte of chunk) {
      if (byte === 0x0a) {
        if (!blank) lines += 1;
        blank = true;
      } else if (blank && byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) blank = false;
    }
  }
  if (!blank) lines += 1;
  return format === 'csv' ? Math.max(0, lines - 1) : lines;
}
