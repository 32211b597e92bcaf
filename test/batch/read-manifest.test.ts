import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ManifestEntry, ManifestProblem, ReadManifestOptions } from '../../src/batch/manifest-types.js';
import { formatOfPath, readManifest } from '../../src/batch/read-manifest.js';
import { readLines } from '../../src/batch/read-lines.js';
import { toRecord } from '../../src/batch/to-record.js';

async function read(text: string | Buffer[], options: ReadManifestOptions = {}): Promise<{ entries: ManifestEntry[]; problems: ManifestProblem[] }> {
  const problems: ManifestProblem[] = [];
  const entries: ManifestEntry[] = [];
  const chunks = typeof text === 'string' ? [Buffer.from(text)] : text;
  for await (const entry of readManifest(Readable.from(chunks), { ...options, onProblem: (p) => problems.push(p) })) entries.push(entry);
  return { entries, problems };
}

describe('JSON Lines manifests', () => {
  it('yields records with stable indices and line numbers; reports malformed lines and goes on', async () => {
    const { entries, problems } = await read(
      [
        '{"key":"a","url":"http://x/a"}',
        '',
        '{"key":"b","url":"http://x/b",',
        '[1,2]',
        '{"key":"c"}',
        '{"url":"http://x/d","width":"wide"}',
        '   ',
        '{"url":"http://x/e","mirrors":["http://y/e"],"width":640,"height":480,"color":"#abc","extra":1,"fallback":{"reason":"x"}}',
      ].join('\n'),
    );
    expect(entries).toEqual([
      { index: 0, line: 1, record: { key: 'a', url: 'http://x/a' } },
      { index: 1, line: 8, record: { url: 'http://x/e', mirrors: ['http://y/e'], width: 640, height: 480, color: '#abc' } },
    ]);
    expect(problems).toEqual([
      { line: 3, message: 'not valid JSON' },
      { line: 4, message: 'expected a JSON object with a `url`' },
      { line: 5, message: 'expected `url` to be a non-empty string' },
      { line: 6, message: 'expected `width` to be a positive integer' },
    ]);
  });

  it('joins lines split across chunks, handles CRLF and a BOM, and a last line without newline', async () => {
    const { entries } = await read([Buffer.from('\ufeff{"url":"http:'), Buffer.from('//x/a"}\r\n{"url"'), Buffer.from(':"http://x/b"}')]);
    expect(entries.map((e) => [e.line, e.record.url])).toEqual([
      [1, 'http://x/a'],
      [2, 'http://x/b'],
    ]);
  });

  it('reports a line longer than maxLineBytes without buffering it, and reads on', async () => {
    const long = `{"url":"http://x/${'a'.repeat(5000)}"}`;
    const { entries, problems } = await read(`${long}\n{"url":"http://x/b"}\n`, { maxLineBytes: 1000, format: 'jsonl' });
    expect(problems).toEqual([{ line: 1, message: 'longer than 1000 bytes' }]);
    expect(entries).toEqual([{ index: 0, line: 2, record: { url: 'http://x/b' } }]);
  });
});

describe('CSV manifests', () => {
  it('maps header columns, splits mirrors, reports bad rows with their line, and accepts mixed line endings', async () => {
    const { entries, problems } = await read(
      'Key,URL,mirrors,width,height\r\n' +
        'a,http://x/a,http://m/a1 http://m/a2,10,\n' +
        'b,http://x/b,,,,\n' +
        '\n' +
        'c,,,,\n' +
        '"d,1",http://x/d,http://m/d1|http://m/d2,,20\n' +
        'e,http://x/e,,-4,\n',
    );
    expect(entries).toEqual([
      { index: 0, line: 2, record: { key: 'a', url: 'http://x/a', mirrors: ['http://m/a1', 'http://m/a2'], width: 10 } },
      { index: 1, line: 6, record: { key: 'd,1', url: 'http://x/d', mirrors: ['http://m/d1', 'http://m/d2'], height: 20 } },
    ]);
    expect(problems.map((p) => p.line)).toEqual([3, 5, 7]);
    expect(problems[0]!.message).toMatch(/length|columns/i);
  });

  it('carries a thumbhash column as given (checked where it is drawn, never a reason to skip the row)', async () => {
    const { entries, problems } = await read('key,url,thumbhash\na,http://x/a,YdcFTYpmhnmvdohsiEeIeHlgl/hH\nb,http://x/b,\nc,http://x/c,not a hash!\n', { format: 'csv' });
    expect(entries.map((e) => e.record)).toEqual([
      { key: 'a', url: 'http://x/a', thumbhash: 'YdcFTYpmhnmvdohsiEeIeHlgl/hH' },
      { key: 'b', url: 'http://x/b' },
      { key: 'c', url: 'http://x/c', thumbhash: 'not a hash!' },
    ]);
    expect(problems).toEqual([]);
  });

  it('refuses a header without a url column', async () => {
    await expect(read('key,href\na,http://x/a\n', { format: 'csv' })).rejects.toThrow(/url/);
  });
});

describe('format detection', () => {
  it('uses the extension, else the first non-blank byte', async () => {
    expect(formatOfPath('m.csv')).toBe('csv');
    expect(formatOfPath('m.JSONL')).toBe('jsonl');
    expect(formatOfPath('m.ndjson')).toBe('jsonl');
    expect(formatOfPath('m.txt')).toBeUndefined();
    expect((await read('\n  {"url":"http://x/a"}\n')).entries).toHaveLength(1);
    expect((await read('url\nhttp://x/a\n')).entries).toEqual([{ index: 0, line: 2, record: { url: 'http://x/a' } }]);
  });
});

describe('readLines', () => {
  it('numbers lines and marks over-long ones', async () => {
    const lines = [];
    for await (const line of readLines(Readable.from([Buffer.from('ab\ncdefgh\n\nij')]), 4)) lines.push(line);
    expect(lines).toEqual([
      { number: 1, text: 'ab' },
      { number: 2, text: undefined },
      { number: 3, text: '' },
      { number: 4, text: 'ij' },
    ]);
  });
});

describe('toRecord', () => {
  it('keeps only record fields', () => {
    expect(toRecord({ url: ' http://x/a ', key: 'k', other: 1, mirrors: [] })).toEqual({ ok: true, record: { url: 'http://x/a', key: 'k' } });
    expect(toRecord({ url: 'http://x/a', key: 4 })).toMatchObject({ ok: false });
    expect(toRecord({ url: 'http://x/a', mirrors: [1] })).toMatchObject({ ok: false });
    expect(toRecord(null)).toMatchObject({ ok: false });
  });

  it('keeps a thumbhash (a JSON Lines field or a fallback report’s), junk included; null and empty mean none', () => {
    expect(toRecord({ url: 'http://x/a', thumbhash: 'YdcFTYpmhnmvdohsiEeIeHlgl/hH', fallback: { reason: 'x' } })).toEqual({
      ok: true,
      record: { url: 'http://x/a', thumbhash: 'YdcFTYpmhnmvdohsiEeIeHlgl/hH' },
    });
    expect(toRecord({ url: 'http://x/a', thumbhash: 42 })).toEqual({ ok: true, record: { url: 'http://x/a', thumbhash: 42 } });
    expect(toRecord({ url: 'http://x/a', thumbhash: null })).toEqual({ ok: true, record: { url: 'http://x/a' } });
    expect(toRecord({ url: 'http://x/a', thumbhash: '' })).toEqual({ ok: true, record: { url: 'http://x/a' } });
  });
});
