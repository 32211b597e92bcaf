/**
 * `rethumb rebuild` on a store that refuses writes (here a directory where a thumbnail goes; a
 * full disk or a read-only mount alike): it must not say "regenerated" and exit 0 with the
 * record journaled as done. It stops, exits 1 naming the refusal, and `--resume` redoes the
 * refused records once the store is fixed.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/storage/file-store.js';
import { fixture, type Fixture } from './fixture.js';
import { journalEntries, runCli, runPrinted } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

describe('rethumb rebuild on a store that refuses writes', () => {
  it('exits 1 naming the refusal, does not journal the record, and --resume redoes it once the store is fixed', async () => {
    const f = await fixture({ count: 3 });
    open.push(f);
    const inTheWay = join(f.out, 'r', '1', 'small.webp');
    await mkdir(join(inTheWay, 'x'), { recursive: true });

    const run = await runCli(['rebuild', f.manifest, ...f.args, '--concurrency', '1', '--quiet']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('The store refused to write');
    expect(run.stderr).toContain(inTheWay);
    // The command it prints continues the job (with the settings the journal recorded).
    const printed = run.stderr.trimEnd().split('\n').at(-1)!.trim();
    expect(printed).toMatch(/ rebuild .+ --resume$/);
    const journaled = (await journalEntries(join(f.out, '.rethumb', 'journal.jsonl'))).map((e) => e.i);
    expect(journaled).not.toContain(1);

    await rm(inTheWay, { recursive: true });
    const resumed = await runPrinted(`${printed} --json`, { cwd: process.cwd() });
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!)).toMatchObject({ total: 3, counts: { regenerated: 3 } });
    const store = new FileStore(f.out);
    for (const r of f.records) {
      for (const variant of ['small', 'large']) expect(await store.head({ key: r.key, variant, format: 'webp' })).toBeDefined();
    }
  });
});
