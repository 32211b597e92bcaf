import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppendLog } from '../../src/batch/append-log.js';
import { IndexBitmap } from '../../src/batch/index-bitmap.js';
import { Journal, readJournal, type JobIdentity, type JournalEntry } from '../../src/batch/journal.js';
import { fingerprintManifest } from '../../src/batch/manifest-fingerprint.js';
import { writeFallbackReport } from '../../src/batch/fallback-report.js';
import { ErrorCodes } from '../../src/errors.js';
import type { RecordResult } from '../../src/regenerator/rebuild-types.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rethumb-journal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function job(content = '{"url":"http://x/a"}\n'): Promise<JobIdentity> {
  const manifest = join(dir, 'm.jsonl');
  await writeFile(manifest, content);
  return { manifest: await fingerprintManifest(manifest), output: { variants: { small: { width: 10 } }, format: 'webp' } };
}

const ok = (key: string): RecordResult => ({ record: { url: `http://x/${key}`, key }, key, outcome: 'regenerated', written: 2, bytesDownloaded: 100, bytesWritten: 10 });
const fell = (key: string): RecordResult => ({
  record: { url: `http://x/${key}`, key },
  key,
  outcome: 'placeholder',
  reason: ErrorCodes.HTTP_STATUS,
  failures: [{ source: `http://x/${key}`, code: ErrorCodes.HTTP_STATUS, status: 404, message: 'x'.repeat(1000) }],
  written: 0,
  bytesDownloaded: 0,
  bytesWritten: 0,
});

describe('Journal', () => {
  it('resumes with the finished indices, the elapsed time, and every entry to seed a report', async () => {
    const path = join(dir, 'state', 'journal.jsonl');
    const identity = await job();
    const journal = await Journal.create(path, identity, { trailer: () => Journal.elapsedMarker(1234) });
    journal.add(0, 1, ok('a'), undefined, 1);
    journal.add(2, 3, fell('c'), 'permanent', 99);
    await journal.close();
    expect(journal.durable).toBe(3);

    const seen: JournalEntry[] = [];
    const { journal: again, state } = await Journal.resume(path, identity, (e) => seen.push(e));
    expect(state.done.has(0)).toBe(true);
    expect(state.done.has(1)).toBe(false);
    expect(state.done.has(2)).toBe(true);
    expect(state.done.size).toBe(2);
    expect(state.elapsedMs).toBe(1234);
    expect(seen.map((e) => [e.i, e.o, e.d])).toEqual([
      [0, 'regenerated', 100],
      [2, 'placeholder', 0],
    ]);
    expect(seen[1]).toMatchObject({ k: 'c', r: ErrorCodes.HTTP_STATUS, c: 'permanent', t: 99, l: 3, rec: { key: 'c' } });
    expect(seen[1]!.f![0]!.message!.length).toBeLessThanOrEqual(300);
    again.add(1, 2, ok('b'), undefined, 2);
    await again.close();
    expect((await collect(readJournal(path))).map((e) => e.i)).toEqual([0, 2, 1]);
  });

  it('ignores and cuts a torn last line (a crash mid-write), so appending starts on a fresh line', async () => {
    const path = join(dir, 'journal.jsonl');
    const identity = await job();
    const journal = await Journal.create(path, identity);
    journal.add(0, 1, ok('a'), undefined, 1);
    await journal.close();
    await appendFile(path, '{"i":1,"o":"regen');
    const { journal: again, state } = await Journal.resume(path, identity, () => {});
    expect(state.done.size).toBe(1);
    again.add(1, 2, ok('b'), undefined, 2);
    await again.close();
    const lines = (await readFile(path, 'utf8')).trimEnd().split('\n');
    expect(lines.slice(1).filter((l) => l.startsWith('{"i"')).map((l) => JSON.parse(l).i)).toEqual([0, 1]);
  });

  it('refuses another manifest, a changed manifest, other output settings, stdin, or no journal', async () => {
    const path = join(dir, 'journal.jsonl');
    await expect(Journal.resume(path, await job(), () => {})).rejects.toMatchObject({ code: ErrorCodes.JOURNAL });
    const identity = await job();
    await (await Journal.create(path, identity)).close();
    await expect(Journal.resume(path, { ...identity, output: { format: 'png' } }, () => {})).rejects.toMatchObject({ code: ErrorCodes.JOURNAL });
    await expect(Journal.resume(path, { ...identity, manifest: undefined }, () => {})).rejects.toMatchObject({ code: ErrorCodes.JOURNAL });
    await expect(Journal.resume(path, { ...identity, manifest: { ...identity.manifest!, path: '/elsewhere.jsonl' } }, () => {})).rejects.toMatchObject({
      code: ErrorCodes.JOURNAL,
    });
    const changed = await job('{"url":"http://x/b"}\n');
    await expect(Journal.resume(path, changed, () => {})).rejects.toMatchObject({ code: ErrorCodes.JOURNAL });
    await writeFile(path, 'not a journal\n');
    await expect(Journal.resume(path, identity, () => {})).rejects.toMatchObject({ code: ErrorCodes.JOURNAL });
  });

  it('writes the fallback report from the journal: the records themselves, plus why', async () => {
    const path = join(dir, 'journal.jsonl');
    const journal = await Journal.create(path, await job());
    journal.add(0, 1, ok('a'), undefined, 1);
    journal.add(1, 2, fell('b'), 'permanent', Date.UTC(2025, 0, 1));
    await journal.close();
    const out = join(dir, 'fallbacks.jsonl');
    expect(await writeFallbackReport(path, out)).toBe(1);
    const [line, ...rest] = (await readFile(out, 'utf8')).trimEnd().split('\n');
    expect(rest).toEqual([]);
    expect(JSON.parse(line!)).toMatchObject({
      url: 'http://x/b',
      key: 'b',
      fallback: { outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS, class: 'permanent', line: 2, failedAt: '2025-01-01T00:00:00.000Z' },
    });
  });

  it("keeps in the fallback report what each failure names: a timeout's phase and limit, the host the address policy refused", async () => {
    const path = join(dir, 'journal.jsonl');
    const journal = await Journal.create(path, await job());
    journal.add(0, 1, {
      ...fell('t'),
      reason: ErrorCodes.TIMEOUT,
      failures: [
        { source: 'http://x/t', code: ErrorCodes.TIMEOUT, phase: 'headers', timeoutMs: 2000, message: 'http://x/t: headers deadline of 2000 ms passed' },
        { source: 'http://x/m', code: ErrorCodes.FORBIDDEN_ADDRESS, refusedHost: '10.0.0.7:8123', message: 'Refused to connect to 10.0.0.7' },
      ],
    }, 'transient', 1);
    await journal.close();
    const out = join(dir, 'fallbacks.jsonl');
    expect(await writeFallbackReport(path, out)).toBe(1);
    const { fallback } = JSON.parse((await readFile(out, 'utf8')).trimEnd());
    expect(fallback.failures).toEqual([
      expect.objectContaining({ code: ErrorCodes.TIMEOUT, phase: 'headers', timeoutMs: 2000 }),
      expect.objectContaining({ code: ErrorCodes.FORBIDDEN_ADDRESS, refusedHost: '10.0.0.7:8123' }),
    ]);
  });
});

describe('AppendLog', () => {
  it('writes in batches: nothing durable before a batch fills or a flush', async () => {
    const path = join(dir, 'log');
    const log = await AppendLog.open(path, { batchLines: 3, intervalMs: 60_000, sync: false });
    log.append('a');
    log.append('b');
    expect(await readFile(path, 'utf8')).toBe('');
    log.append('c');
    await log.flush();
    expect(await readFile(path, 'utf8')).toBe('a\nb\nc\n');
    log.append('d');
    await log.close();
    expect(await readFile(path, 'utf8')).toBe('a\nb\nc\nd\n');
    expect(log.durable).toBe(4);
    expect(() => log.append('e')).toThrow();
  });
});

describe('IndexBitmap', () => {
  it('holds a million indices in 128 KiB', () => {
    const bits = new IndexBitmap();
    for (let i = 0; i < 1_000_000; i += 3) bits.add(i);
    bits.add(0);
    expect(bits.size).toBe(333_334);
    expect(bits.has(999_999)).toBe(true);
    expect(bits.has(999_998)).toBe(false);
    expect(bits.has(5_000_000)).toBe(false);
    expect(bits.byteLength).toBeLessThanOrEqual(131_072);
    expect(() => bits.add(-1)).toThrow(RangeError);
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of iterable) out.push(x);
  return out;
}
