/**
 * Issue 13, point 4: a CSV manifest with an unclosed quote loses that row only; the count and
 * the line number (where the quote opened) are exact.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, type Fixture } from './fixture.js';
import { runCli } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

describe('rethumb rebuild on a CSV with an unclosed quote', () => {
  it('rebuilds the 18 good records of 19, reports line 10 (where the quote opened) once', async () => {
    const f = await fixture({ count: 19 });
    open.push(f);
    const lines = ['key,url', ...f.records.map((r, i) => (i === 8 ? `${r.key},"${r.url}` : `${r.key},${r.url}`))];
    const manifest = join(f.dir, 'photos.csv');
    await writeFile(manifest, `${lines.join('\n')}\n`);
    const run = await runCli(['rebuild', manifest, ...f.args, '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr.split('\n').filter((l) => l.includes('"malformed"'))).toEqual([
      JSON.stringify({ malformed: { manifest, line: 10, message: 'a quote opened here is never closed' } }),
    ]);
    const summary = JSON.parse(run.stdout);
    expect(summary).toMatchObject({ total: 18, counts: { regenerated: 18 }, malformedLines: 1, malformed: [{ line: 10 }] });
    for (const [i, r] of f.records.entries()) expect(f.origin.hits(r.path), r.path).toBe(i === 8 ? 0 : 1);

    const text = await runCli(['rebuild', manifest, ...f.args, '--no-only-missing']);
    expect(text.stderr).toContain(`${manifest}:10: a quote opened here is never closed, skipped\n`);
    expect(text.stdout).toContain('malformed manifest lines skipped: 1');
  });
});
