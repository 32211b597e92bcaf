import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/storage/file-store.js';
import { until } from '../regenerator/support.js';
import { decode } from '../helpers/images.js';
import { fixture, type Fixture } from './fixture.js';
import { journalEntries, readJsonLinesFile, runCli, startCli } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

const COUNT = 120;
/** Every seventh source is gone: those records must end in the fallback report. */
const gone = (i: number): boolean => i % 7 === 3;

async function slowFixture(): Promise<Fixture> {
  const f = await fixture({ count: COUNT, delayMs: 60, route: (i, photo) => (gone(i) ? { kind: 'status', status: 404 } : photo) });
  open.push(f);
  return f;
}

/** Every record has both thumbnails, decodable, or is in the fallback report — and the report holds exactly the gone ones. */
async function expectComplete(f: Fixture, fallbackPath: string): Promise<void> {
  const fallbacks = new Set((await readJsonLinesFile<{ key: string }>(fallbackPath)).map((r) => r.key));
  expect([...fallbacks].sort()).toEqual(f.records.filter((_, i) => gone(i)).map((r) => r.key).sort());
  const store = new FileStore(f.out);
  for (const [i, r] of f.records.entries()) {
    if (gone(i)) continue;
    for (const variant of ['small', 'large']) {
      const entry = await store.get({ key: r.key, variant, format: 'webp' });
      expect(entry, `${r.key}/${variant}`).toBeDefined();
      await decode(entry!.body);
    }
  }
}

describe('resume after a crash or an interrupt', () => {
  it('after SIGKILL midway, --resume completes the job without fetching a finished record twice', async () => {
    const f = await slowFixture();
    const journal = join(f.out, '.rethumb', 'journal.jsonl');
    const first = startCli(['rebuild', f.manifest, ...f.args, '--concurrency', '4', '--quiet']);
    // Kill once some records are durable in the journal, well before the end.
    expect(await until(async () => (await journalEntries(journal)).length >= 20, 15_000)).toBe(true);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');

    const finished = await journalEntries(journal);
    expect(finished.length).toBeGreaterThanOrEqual(20);
    expect(finished.length).toBeLessThan(COUNT);
    const hitsBefore = f.records.map((r) => f.origin.hits(r.path));

    const report = join(f.dir, 'report.json');
    const resumed = await runCli(['rebuild', f.manifest, ...f.args, '--concurrency', '4', '--quiet', '--resume', '--report', report]);
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(await readFile(report, 'utf8'));
    // One report over both runs: every record counted once.
    expect(summary).toMatchObject({ total: COUNT, resumed: finished.length, interrupted: false, fallbacks: f.records.filter((_, i) => gone(i)).length });
    expect(summary.counts.placeholder).toBe(f.records.filter((_, i) => gone(i)).length);
    await expectComplete(f, join(f.dir, 'report.fallbacks.jsonl'));

    for (const { i } of finished) {
      // Finished (durable in the journal) before the kill: the resumed run did not fetch it.
      expect(f.origin.hits(f.records[i]!.path), f.records[i]!.path).toBe(hitsBefore[i]);
      expect(hitsBefore[i]).toBe(1);
    }
    for (const r of f.records) expect(f.origin.hits(r.path)).toBeLessThanOrEqual(2);
    // Every index is journaled exactly once across both runs.
    const all = (await journalEntries(journal)).map((e) => e.i).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: COUNT }, (_, i) => i));
  });

  it('SIGINT stops taking records, writes the report (exit 130), and --resume finishes', async () => {
    const f = await slowFixture();
    const journal = join(f.out, '.rethumb', 'journal.jsonl');
    const report = join(f.dir, 'report.json');
    const first = startCli(['rebuild', f.manifest, ...f.args, '--concurrency', '2', '--quiet', '--report', report]);
    expect(await until(async () => (await journalEntries(journal)).length >= 5 || f.origin.hits() >= 15, 15_000)).toBe(true);
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    const partial = JSON.parse(await readFile(report, 'utf8'));
    expect(partial.interrupted).toBe(true);
    expect(partial.total).toBeGreaterThan(0);
    expect(partial.total).toBeLessThan(COUNT);
    // Records in flight were allowed to finish: everything fetched was journaled.
    const journaled = await journalEntries(journal);
    expect(journaled).toHaveLength(partial.total);
    expect(f.origin.hits()).toBe(partial.total);

    const resumed = await runCli(['rebuild', f.manifest, ...f.args, '--concurrency', '4', '--quiet', '--resume', '--report', report]);
    expect(resumed.code).toBe(0);
    const summary = JSON.parse(await readFile(report, 'utf8'));
    expect(summary).toMatchObject({ total: COUNT, resumed: partial.total, interrupted: false });
    expect(f.origin.hits()).toBe(COUNT);
    await expectComplete(f, join(f.dir, 'report.fallbacks.jsonl'));
  });
});
