import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, type Fixture } from './fixture.js';
import { readJsonLinesFile, runCli } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

describe('rethumb scan', () => {
  it('lists what is missing without fetching, as a manifest that rebuild fills', async () => {
    const f = await fixture({ count: 10 });
    open.push(f);
    const half = join(f.dir, 'half.jsonl');
    const lines = (await readFile(f.manifest, 'utf8')).trimEnd().split('\n');
    await import('node:fs/promises').then((fs) => fs.writeFile(half, `${lines.slice(0, 5).join('\n')}\n`));
    expect((await runCli(['rebuild', half, ...f.args, '--quiet'])).code).toBe(0);
    f.origin.resetCounts();

    const list = join(f.dir, 'missing.jsonl');
    const run = await runCli(['scan', f.manifest, ...f.args.filter((a, i, all) => a !== '--allow-host' && all[i - 1] !== '--allow-host'), '--list', list, '--json']);
    expect(run.code).toBe(0);
    expect(f.origin.hits()).toBe(0);
    expect(JSON.parse(run.stdout.trim())).toMatchObject({ command: 'scan', total: 10, counts: { present: 5, missing: 5, degraded: 0, invalid: 0 }, variantsMissing: 10 });
    const missing = await readJsonLinesFile<{ key: string; scan: { status: string; missing: string[] } }>(list);
    expect(missing.map((r) => r.key)).toEqual(f.records.slice(5).map((r) => r.key));
    expect(missing[0]!.scan).toMatchObject({ status: 'missing', missing: ['small', 'large'] });

    const fill = await runCli(['rebuild', list, ...f.args, '--json']);
    expect(JSON.parse(fill.stdout.trim())).toMatchObject({ total: 5, counts: { regenerated: 5 } });
    expect(f.origin.hits()).toBe(5);
    const after = await runCli(['scan', f.manifest, '--out', f.out, '--variant', 'small=48x48:cover', '--variant', 'large=120x']);
    expect(after.stdout).toContain('present 10, missing 0');
    expect(after.stdout).not.toContain('to repair them');
  });

  it('writes the list to stdout with --list - (summary on stderr)', async () => {
    const f = await fixture({ count: 3 });
    open.push(f);
    const run = await runCli(['scan', f.manifest, '--out', f.out, '--list', '-']);
    expect(run.code).toBe(0);
    const listed = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as { key: string });
    expect(listed.map((r) => r.key)).toEqual(['r/0', 'r/1', 'r/2']);
    expect(run.stderr).toContain('missing 3');
  });
});

describe('rethumb estimate', () => {
  it('runs a real sample spread over the manifest and predicts the whole job', async () => {
    const f = await fixture({ count: 60, delayMs: 5 });
    open.push(f);
    const run = await runCli(['estimate', f.manifest, ...f.args, '--sample', '12', '--json']);
    expect(run.code).toBe(0);
    const estimate = JSON.parse(run.stdout.trim());
    expect(estimate).toMatchObject({ command: 'estimate', total: 60, sampled: 12, sampleCounts: { regenerated: 12 }, concurrency: 20 });
    // Exactly the sample was fetched: every fifth record.
    expect(f.origin.hits()).toBe(12);
    expect(f.origin.hits(f.records[2]!.path)).toBe(1);
    expect(f.origin.hits(f.records[3]!.path)).toBe(0);
    for (const range of [estimate.durationMs, estimate.bytesDownloaded, estimate.bytesWritten, estimate.recordsPerSecond]) {
      expect(range.low).toBeLessThanOrEqual(range.estimate);
      expect(range.high).toBeGreaterThanOrEqual(range.estimate);
      expect(range.estimate).toBeGreaterThan(0);
    }
    expect(estimate.bytesDownloaded.estimate).toBeCloseTo(60 * f.photo.length, -2);
    expect(estimate.durationMs.estimate).toBeGreaterThan(estimate.sampleDurationMs);

    const human = await runCli(['estimate', f.manifest, ...f.args, '--sample', '5']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/duration at concurrency 20: .+\(95% interval .+ – .+\)/);
    expect(human.stdout).toContain('to download:');
  });
});
