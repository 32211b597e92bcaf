import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCodes } from '../../src/errors.js';
import { FileStore } from '../../src/storage/file-store.js';
import { decode } from '../helpers/images.js';
import { fixture, type Fixture } from './fixture.js';
import { readJsonLinesFile, runCli } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

async function setup(options: Parameters<typeof fixture>[0]): Promise<Fixture> {
  const f = await fixture(options);
  open.push(f);
  return f;
}

async function expectThumbnails(out: string, key: string): Promise<void> {
  const store = new FileStore(out);
  const small = await store.get({ key, variant: 'small', format: 'webp' });
  const large = await store.get({ key, variant: 'large', format: 'webp' });
  expect(await decode(small!.body)).toMatchObject({ width: 48, height: 48, format: 'webp' });
  expect(await decode(large!.body)).toMatchObject({ width: 120, format: 'webp' });
}

describe('rethumb rebuild', () => {
  it('rebuilds a JSON Lines manifest, skips a malformed line with its number, and writes the report', async () => {
    const f = await setup({ count: 6, route: (i, photo) => (i === 2 ? { kind: 'status', status: 404 } : photo) });
    const lines = (await readFile(f.manifest, 'utf8')).trimEnd().split('\n');
    lines.splice(3, 0, '{"key": "broken", ', '"just a string"');
    await writeFile(f.manifest, `${lines.join('\n')}\n`);
    const report = join(f.dir, 'report.json');
    const run = await runCli(['rebuild', f.manifest, ...f.args, '--report', report, '--progress-interval', '0.05']);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`${f.manifest}:4: not valid JSON, skipped`);
    expect(run.stderr).toContain(`${f.manifest}:5: expected a JSON object with a \`url\`, skipped`);
    const summary = JSON.parse(await readFile(report, 'utf8'));
    expect(summary).toMatchObject({
      total: 6,
      counts: { regenerated: 5, placeholder: 1, stored: 0, mirror: 0, derived: 0 },
      fallbacks: 1,
      malformedLines: 2,
      malformed: [{ line: 4 }, { line: 5 }],
      interrupted: false,
    });
    expect(summary.bytesDownloaded).toBeGreaterThan(0);
    expect(summary.bytesWritten).toBeGreaterThan(0);
    expect(summary.recordsPerSecond).toBeGreaterThan(0);
    for (const r of f.records.filter((_, i) => i !== 2)) await expectThumbnails(f.out, r.key);
    const fallbacks = await readJsonLinesFile(join(f.dir, 'report.fallbacks.jsonl'));
    expect(fallbacks).toEqual([
      expect.objectContaining({
        key: 'r/2',
        url: f.records[2]!.url,
        fallback: expect.objectContaining({ outcome: 'placeholder', reason: ErrorCodes.HTTP_STATUS, class: 'permanent', line: 3 }),
      }),
    ]);
    expect((fallbacks[0]!.fallback as { failures: Array<{ status: number }> }).failures[0]!.status).toBe(404);
  });

  it('reads a CSV manifest with a header, mirrors and a malformed row', async () => {
    const f = await setup({ count: 4, route: (i, photo) => (i === 0 ? { kind: 'status', status: 500 } : photo) });
    const [a, b, c, d] = f.records;
    const csv = [
      'key,url,mirrors,width',
      `${a!.key},${a!.url},${b!.url},640`,
      `${b!.key},${b!.url},,`,
      `broken,${c!.url},,1,extra`,
      `"${c!.key}",${c!.url},,`,
      `${d!.key},${d!.url},,`,
    ].join('\r\n');
    const manifest = join(f.dir, 'manifest.csv');
    await writeFile(manifest, csv);
    const run = await runCli(['rebuild', manifest, ...f.args, '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/"malformed":\{"manifest":"[^"]+manifest\.csv","line":4/);
    const summary = JSON.parse(run.stdout.trim());
    expect(summary.counts).toMatchObject({ regenerated: 3, mirror: 1 });
    expect(summary.malformedLines).toBe(1);
    for (const r of f.records) await expectThumbnails(f.out, r.key);
  });

  it('reads the manifest from stdin', async () => {
    const f = await setup({ count: 3 });
    const text = await readFile(f.manifest, 'utf8');
    const run = await runCli(['rebuild', '-', ...f.args, '--json'], { stdin: text });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ total: 3, counts: { regenerated: 3 } });
    for (const r of f.records) await expectThumbnails(f.out, r.key);
  });

  it('skips stored records by default, and rebuilds them with --no-only-missing', async () => {
    const f = await setup({ count: 3 });
    expect((await runCli(['rebuild', f.manifest, ...f.args, '--quiet'])).code).toBe(0);
    f.origin.resetCounts();
    const again = await runCli(['rebuild', f.manifest, ...f.args, '--json']);
    expect(JSON.parse(again.stdout.trim()).counts).toMatchObject({ stored: 3, regenerated: 0 });
    expect(f.origin.hits()).toBe(0);
    const all = await runCli(['rebuild', f.manifest, ...f.args, '--json', '--no-only-missing']);
    expect(JSON.parse(all.stdout.trim()).counts).toMatchObject({ stored: 0, regenerated: 3 });
    expect(f.origin.hits()).toBe(3);
  });

  describe('output modes', () => {
    it('--quiet prints nothing at all', async () => {
      const f = await setup({ count: 2 });
      const run = await runCli(['rebuild', f.manifest, ...f.args, '--quiet', '--progress-interval', '0.01']);
      expect(run).toMatchObject({ code: 0, stdout: '', stderr: '' });
    });

    it('--json prints one JSON object on stdout and JSON progress lines on stderr', async () => {
      const f = await setup({ count: 4, delayMs: 60 });
      const run = await runCli(['rebuild', f.manifest, ...f.args, '--json', '--concurrency', '1', '--progress-interval', '0.05']);
      expect(run.code).toBe(0);
      const out = run.stdout.trim().split('\n');
      expect(out).toHaveLength(1);
      expect(JSON.parse(out[0]!)).toMatchObject({ command: 'rebuild', total: 4 });
      const progress = run.stderr.trim().split('\n').map((l) => JSON.parse(l) as { progress: { done: number; total: number | null } });
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.at(-1)!.progress).toMatchObject({ done: 4, total: 4 });
    });

    it('without a TTY prints plain progress lines and a human summary', async () => {
      const f = await setup({ count: 4, delayMs: 60 });
      const run = await runCli(['rebuild', f.manifest, ...f.args, '--concurrency', '1', '--progress-interval', '0.05']);
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(/^progress: \d+\/4 /m);
      expect(run.stderr).toContain('progress: 4/4 100.0%');
      expect(run.stdout).toMatch(/^rethumb rebuild: 4 records in /);
      expect(run.stdout).toContain('regenerated 4');
    });
  });

  it('feeds its fallback report back as a manifest: exactly those records are retried', async () => {
    // 0-4 gone for good (404: permanent), 5-9 overloaded (503: transient), the rest fine.
    const f = await setup({ count: 20, route: (i, photo) => (i < 5 ? { kind: 'status', status: 404 } : i < 10 ? { kind: 'status', status: 503 } : photo) });
    const report1 = join(f.dir, 'run1.json');
    expect((await runCli(['rebuild', f.manifest, ...f.args, '--quiet', '--report', report1])).code).toBe(0);
    const fallbacks1 = join(f.dir, 'run1.fallbacks.jsonl');
    const fell = (await readJsonLinesFile<{ key: string }>(fallbacks1)).map((r) => r.key).sort();
    expect(fell).toEqual(f.records.slice(0, 10).map((r) => r.key).sort());

    // The overloaded origin recovers. Without flags: transient failures are retried at once,
    // permanent ones wait for their backoff (reported, not fetched).
    for (const r of f.records.slice(5, 10)) f.origin.route(r.path, { kind: 'image', body: f.photo, contentType: 'image/jpeg' });
    f.origin.resetCounts();
    const report2 = join(f.dir, 'run2.json');
    expect((await runCli(['rebuild', fallbacks1, ...f.args, '--quiet', '--report', report2])).code).toBe(0);
    for (const [i, r] of f.records.entries()) expect(f.origin.hits(r.path), r.path).toBe(i >= 5 && i < 10 ? 1 : 0);
    const summary2 = JSON.parse(await readFile(report2, 'utf8'));
    expect(summary2).toMatchObject({ total: 10, onHold: 5, counts: { regenerated: 5, placeholder: 5 } });
    const fallbacks2 = join(f.dir, 'run2.fallbacks.jsonl');
    const held = await readJsonLinesFile<{ key: string; fallback: { reason: string; failures: Array<{ code: string; status: number }> } }>(fallbacks2);
    expect(held.map((r) => r.key).sort()).toEqual(f.records.slice(0, 5).map((r) => r.key).sort());
    for (const r of held) {
      expect(r.fallback.reason).toBe(ErrorCodes.RECENTLY_FAILED);
      expect(r.fallback.failures[0]).toMatchObject({ code: ErrorCodes.HTTP_STATUS, status: 404 });
    }
    for (const r of f.records.slice(5, 10)) await expectThumbnails(f.out, r.key);

    // --retry-failed forces them: exactly those five are fetched again.
    f.origin.resetCounts();
    expect((await runCli(['rebuild', fallbacks2, ...f.args, '--quiet', '--retry-failed'])).code).toBe(0);
    for (const [i, r] of f.records.entries()) expect(f.origin.hits(r.path), r.path).toBe(i < 5 ? 1 : 0);
  });

  it('refuses --resume on another manifest, or without a journal (exit 2, RETHUMB_JOURNAL)', async () => {
    const f = await setup({ count: 2 });
    const none = await runCli(['rebuild', f.manifest, ...f.args, '--resume']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no journal');
    expect((await runCli(['rebuild', f.manifest, ...f.args, '--quiet'])).code).toBe(0);
    const other = join(f.dir, 'other.jsonl');
    await writeFile(other, await readFile(f.manifest));
    const wrongFile = await runCli(['rebuild', other, ...f.args, '--resume']);
    expect(wrongFile.code).toBe(2);
    expect(wrongFile.stderr).toContain('another manifest');
    const otherVariants = await runCli(['rebuild', f.manifest, '--out', f.out, '--variant', 'tiny=8x8', '--allow-host', f.origin.host, '--resume']);
    expect(otherVariants.code).toBe(2);
    // One line, in the flags' own terms (not JSON): what the job was started with, and what to do.
    expect(otherVariants.stderr).toBe(
      'rethumb: --resume: this job was started with --variant small=48x48:cover --variant large=120x, not --variant tiny=8x8; ' +
        'leave --variant out to continue it, or run without --resume to start anew\n',
    );
    await writeFile(f.manifest, `${await readFile(f.manifest, 'utf8')}${JSON.stringify({ url: f.records[0]!.url, key: 'extra' })}\n`);
    const changed = await runCli(['rebuild', f.manifest, ...f.args, '--resume']);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toContain('size changed');
    await expect(stat(join(f.out, '.rethumb', 'journal.jsonl'))).resolves.toBeTruthy();
  });
});
