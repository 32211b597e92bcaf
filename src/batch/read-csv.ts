/**
 * Records of a CSV manifest with a header row (`key,url,mirrors,width,height,color,thumbhash`;
 * only `url` is required; `mirrors` holds URLs separated by spaces or `|`), streamed through csv-parse. A
 * row that cannot be parsed (wrong number of fields, a broken quote, too long) is reported with
 * its line number and skipped.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { parse, type CsvError } from 'csv-parse';
import { DEFAULT_MAX_LINE_BYTES } from './read-json-lines.js';
import type { ManifestEntry, ReadManifestOptions } from './manifest-types.js';
import { toRecord } from './to-record.js';

export async function* readCsv(input: AsyncIterable<Buffer | string>, options: ReadManifestOptions = {}): AsyncGenerator<ManifestEntry> {
  const { onProblem, signal } = options;
  const parser = parse({
    columns: (header: string[]) => header.map((name) => name.trim().toLowerCase()),
    bom: true,
    trim: true,
    skip_empty_lines: true,
    // Auto-detection would take the first line's ending for the whole file; files mix them.
    record_delimiter: ['\r\n', '\n'],
    relax_quotes: true,
    max_record_size: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    skip_records_with_error: true,
    info: true,
    on_skip: (error: CsvError | undefined) => {
      const line = typeof error?.lines === 'number' ? error.lines : parser.info.lines;
      onProblem?.({ line, message: error?.message.replace(/ (at|on) line \d+.*$/, '') ?? 'not a valid CSV row' });
      return undefined;
    },
  });
  // pipeline, not pipe: a failing input destroys the parser, so the loop below sees the error.
  pipeline(input instanceof Readable ? input : Readable.from(input), parser, () => {});
  let index = 0;
  let headerChecked = false;
  for await (const { record: row, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    signal?.throwIfAborted();
    if (!headerChecked) {
      headerChecked = true;
      if (!('url' in row)) throw new TypeError('Expected the CSV manifest\'s header row to name a `url` column');
    }
    const parsed = toRecord(row);
    if (!parsed.ok) {
      onProblem?.({ line: info.lines, message: parsed.message });
      continue;
    }
    yield { index: index++, line: info.lines, record: parsed.record };
  }
}
