/** Issue 13, point 10: a manifest without records is said, not passed over in silence (exit 0). */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rethumb-empty-'));
  await writeFile(join(dir, 'empty.jsonl'), '\n\n');
  await writeFile(join(dir, 'bad.jsonl'), 'not json\n{"key":"no url"}\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('an empty manifest', () => {
  it.each(['rebuild', 'scan', 'estimate'])('%s warns on stderr, even with --quiet, and exits 0', async (command) => {
    const manifest = join(dir, 'empty.jsonl');
    const quiet = await runCli([command, manifest, '--out', join(dir, 'out'), '--quiet']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe(`rethumb ${command}: warning: the manifest ${manifest} has no records: nothing to do (is it the right file?)\n`);
    const json = await runCli([command, manifest, '--out', join(dir, 'out'), '--json']);
    expect(json.stderr.split('\n')).toContainEqual(JSON.stringify({ warning: `the manifest ${manifest} has no records: nothing to do (is it the right file?)` }));
  });

  it('a manifest whose every line is malformed says so', async () => {
    const manifest = join(dir, 'bad.jsonl');
    const run = await runCli(['rebuild', manifest, '--out', join(dir, 'out')]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`rethumb rebuild: warning: the manifest ${manifest} has no usable record: all 2 of its lines are malformed (see above)\n`);
  });
});
