/** Records of a JSON Lines manifest (`{"key":…,"url":…}` a line), streamed; blank lines are ignored. */
import type { ManifestEntry, ReadManifestOptions } from './manifest-types.js';
import { readLines } from './read-lines.js';
import { marksDamaged } from './scan-list.js';
import { toRecord } from './to-record.js';

export const DEFAULT_MAX_LINE_BYTES = 1_048_576;

export async function* readJsonLines(input: AsyncIterable<Buffer | string>, options: ReadManifestOptions = {}): AsyncGenerator<ManifestEntry> {
  const { onProblem, signal } = options;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let index = 0;
  for await (const { number, text } of readLines(input, maxLineBytes)) {
    signal?.throwIfAborted();
    if (text === undefined) {
      onProblem?.({ line: number, message: `longer than ${maxLineBytes} bytes` });
      continue;
    }
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      onProblem?.({ line: number, message: 'not valid JSON' });
      continue;
    }
    const parsed = toRecord(value);
    if (!parsed.ok) {
      onProblem?.({ line: number, message: parsed.message });
      continue;
    }
    yield { index: index++, line: number, record: parsed.record, ...(marksDamaged(value) ? { verify: true } : {}) };
  }
}
