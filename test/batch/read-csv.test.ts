/**
 * CSV manifests: a malformed row never takes good rows with it, and every problem names the
 * line where it starts (issue 13, point 4).
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ManifestEntry, ManifestProblem } from '../../src/batch/manifest-types.js';
import { MAX_RECORD_LINES, opensQuote, readCsv } from '../../src/batch/read-csv.js';
import { ErrorCodes } from '../../src/errors.js';

async function read(lines: string[], chunkBytes = 7): Promise<{ entries: ManifestEntry[]; problems: ManifestProblem[] }> {
  const text = Buffer.from(`${lines.join('\n')}\n`);
  const chunks: Buffer[] = [];
  // Small chunks: record boundaries never coincide with chunk boundaries.
  for (let i = 0; i < text.length; i += chunkBytes) chunks.push(text.subarray(i, i + chunkBytes));
  const problems: ManifestProblem[] = [];
  const entries: ManifestEntry[] = [];
  for await (const entry of readCsv(Readable.from(chunks), { onProblem: (p) => problems.push(p) })) entries.push(entry);
  return { entries, problems };
}

const row = (n: number): string => `p/${n},http://x/${n}.jpg`;
/** Line of record `n` when the header is line 1 and every record takes one line. */
const lineOf = (n: number): number => n + 2;

describe('CSV: a malformed row takes no good row with it', () => {
  it('an unclosed quote loses its own line only (the line where it opened), of 19', async () => {
    const lines = ['key,url', ...Array.from({ length: 19 }, (_, n) => (n === 8 ? `p/8,"http://x/8.jpg` : row(n)))];
    const { entries, problems } = await read(lines);
    expect(problems).toEqual([{ line: lineOf(8), message: 'a quote opened here is never closed' }]);
    expect(entries.map((e) => [e.line, e.record.key])).toEqual(
      Array.from({ length: 19 }, (_, n) => n).filter((n) => n !== 8).map((n) => [lineOf(n), `p/${n}`]),
    );
    expect(entries.map((e) => e.index)).toEqual(Array.from({ length: 18 }, (_, i) => i));
  });

  it('an unclosed quote before a quoted field further down loses only its own line', async () => {
    const lines = ['key,url', row(0), 'p/1,"http://x/1.jpg', row(2), row(3), 'p/4,"http://x/4.jpg"', row(5)];
    const { entries, problems } = await read(lines);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ line: 3 });
    expect(entries.map((e) => e.record.key)).toEqual(['p/0', 'p/2', 'p/3', 'p/4', 'p/5']);
    expect(entries.map((e) => e.line)).toEqual([2, 4, 5, 6, 7]);
  });

  it('a join csv-parse would accept (a line break inside url, a non-URL mirror) is not trusted', async () => {
    // Line 3 read alone is a row (a quote inside an unquoted field is kept as text): it is kept.
    const url = await read(['key,url', 'p/0,"http://x/0.jpg', 'p/1,http://x/1.jpg"', row(2)]);
    expect(url.problems.map((p) => p.line)).toEqual([2]);
    expect(url.entries.map((e) => [e.line, e.record.key, e.record.url])).toEqual([
      [3, 'p/1', 'http://x/1.jpg"'],
      [4, 'p/2', 'http://x/2.jpg'],
    ]);
    const mirrors = await read(['key,url,mirrors', 'p/0,http://x/0.jpg,"http://m/0.jpg', 'p/1,http://x/1.jpg,http://m/1.jpg"', 'p/2,http://x/2.jpg,']);
    expect(mirrors.problems.map((p) => p.line)).toEqual([2]);
    expect(mirrors.entries.map((e) => e.record.key)).toEqual(['p/1', 'p/2']);
  });

  it('text after a closing quote loses that row only (csv-parse alone would lose the rows after it)', async () => {
    const { entries, problems } = await read(['key,url', row(0), 'p/1,"http://x/1.jpg"x', row(2), row(3)]);
    expect(problems).toEqual([{ line: 3, message: expect.stringContaining('text after a closing quote') }]);
    expect(entries.map((e) => [e.line, e.record.key])).toEqual([
      [2, 'p/0'],
      [4, 'p/2'],
      [5, 'p/3'],
    ]);
  });

  it('keeps a legitimate quoted field that spans lines (mirrors one a line), with the line where it starts', async () => {
    const lines = ['key,url,mirrors', row(0) + ',', 'p/1,http://x/1.jpg,"http://m/1a.jpg', 'http://m/1b.jpg"', row(2) + ','];
    const { entries, problems } = await read(lines);
    expect(problems).toEqual([]);
    expect(entries).toEqual([
      { index: 0, line: 2, record: { key: 'p/0', url: 'http://x/0.jpg' } },
      { index: 1, line: 3, record: { key: 'p/1', url: 'http://x/1.jpg', mirrors: ['http://m/1a.jpg', 'http://m/1b.jpg'] } },
      { index: 2, line: 5, record: { key: 'p/2', url: 'http://x/2.jpg' } },
    ]);
  });

  it('bounds the look-ahead of an unclosed quote, then reads every following line again', async () => {
    const count = MAX_RECORD_LINES + 50;
    const lines = ['key,url', 'p/x,"http://x/x.jpg', ...Array.from({ length: count }, (_, n) => row(n))];
    const { entries, problems } = await read(lines, 4096);
    expect(problems).toEqual([{ line: 2, message: expect.stringContaining(`not closed within ${MAX_RECORD_LINES} lines`) }]);
    expect(entries).toHaveLength(count);
    expect(entries.at(-1)).toMatchObject({ line: count + 2, record: { key: `p/${count - 1}` } });
  });

  it('pins each error in a large batch to its row, with exact counts', async () => {
    const bad = new Set([0, 255, 256, 700, 999]);
    const lines = ['key,url', ...Array.from({ length: 1000 }, (_, n) => (bad.has(n) ? `${row(n)},extra` : row(n)))];
    const { entries, problems } = await read(lines, 65_536);
    expect(problems.map((p) => p.line)).toEqual([...bad].map(lineOf));
    expect(problems[0]!.message).toBe('expected 2 fields, as the header row names, got 3');
    expect(entries).toHaveLength(995);
    expect(entries.every((e) => e.line === lineOf(Number(e.record.key!.slice(2))))).toBe(true);
  });

  it('refuses a header without a url column, or with an unclosed quote (RETHUMB_MANIFEST)', async () => {
    await expect(read(['key,href', 'a,http://x/a'])).rejects.toMatchObject({ code: ErrorCodes.MANIFEST, message: expect.stringContaining('no `url` column (it has: key, href)') });
    await expect(read(['key,"url', 'a,http://x/a'])).rejects.toMatchObject({ code: ErrorCodes.MANIFEST });
  });
});

describe('opensQuote (the record boundary scan, as csv-parse reads quotes)', () => {
  it.each([
    ['a,"b', false, true],
    ['a,"b"', false, false],
    ['a,"b""c', false, true],
    ['a,  "b', false, true],
    ['a,b"c', false, false],
    ['a,"b"x,"c', false, true],
    ['rest of it",d', true, false],
    ['still "" inside', true, true],
  ] as const)('%j (starting in a quote: %s) ends in a quote: %s', (text, inQuote, expected) => {
    expect(opensQuote(text, inQuote)).toBe(expected);
  });
});
