/**
 * Issue 13, point 5: I/O and input errors print one line saying what and what to do, and exit 2
 * for the user's input (never a stack trace); exit 1 is for rethumb's own failure.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, type CliRun } from './support.js';

let dir: string;
let manifest: string;
/** As root every permission check passes: run those cases as `nobody`. */
const asUser = process.getuid?.() === 0 ? { uid: 65534 } : {};
/** Whether that user can run the bin at all (a checkout under a private home directory cannot be read by `nobody`). */
const canRunAsUser = spawnSync(process.execPath, [CLI, '--version'], { ...asUser, ...(asUser.uid === undefined ? {} : { gid: asUser.uid }) }).status === 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rethumb-input-'));
  // `nobody` must reach the files of the permission cases.
  await chmod(dir, 0o755);
  manifest = join(dir, 'm.jsonl');
  await writeFile(manifest, '{"url":"http://127.0.0.1:9/a.jpg"}\n');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function expectOneLine(run: CliRun, code: number, text: string | RegExp): void {
  expect(run.code, run.stderr).toBe(code);
  const lines = run.stderr.split('\n').filter(Boolean);
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^rethumb: /);
  expect(lines[0]).toMatch(text);
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stdout).toBe('');
}

describe('one line and exit 2 for the user\'s input', () => {
  it('a missing manifest, or a directory given as one', async () => {
    expectOneLine(await runCli(['rebuild', join(dir, 'nope.jsonl'), '--out', join(dir, 'o')]), 2, /cannot read the manifest .*nope\.jsonl: no such file or directory/);
    expectOneLine(await runCli(['estimate', dir, '--out', join(dir, 'o')]), 2, /is a directory; pass a JSON Lines or CSV file/);
  });

  it('--out that is a file', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    expectOneLine(await runCli(['rebuild', manifest, '--out', file]), 2, `rethumb: --out ${file} is a file, not a directory; pass a directory (it is created if missing)`);
    expectOneLine(await runCli(['scan', manifest, '--out', file]), 2, /is a file, not a directory/);
  });

  it.skipIf(!canRunAsUser)('--out, a manifest or a report the user may not write or read (permission denied)', async () => {
    const locked = join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o555);
    expectOneLine(await runCli(['rebuild', manifest, '--out', join(locked, 'thumbs')], asUser), 2, /cannot create --out .*: permission denied \(choose a directory you can write to\)/);
    expectOneLine(await runCli(['rebuild', manifest, '--out', locked], asUser), 2, /cannot write to --out .*: permission denied/);
    const secret = join(dir, 'secret.jsonl');
    await writeFile(secret, '{"url":"http://127.0.0.1:9/a.jpg"}\n');
    await chmod(secret, 0o000);
    expectOneLine(await runCli(['rebuild', secret, '--out', join(dir, 'o2')], asUser), 2, /cannot read the manifest .*secret\.jsonl: permission denied/);
    expectOneLine(await runCli(['scan', manifest, '--out', join(dir, 'o3'), '--list', join(locked, 'list.jsonl')], asUser), 2, /cannot write --list .*: permission denied/);
  });

  it('a report path that is a directory', async () => {
    expectOneLine(await runCli(['rebuild', manifest, '--out', join(dir, 'o4'), '--report', dir]), 2, `rethumb: --report ${dir} is a directory; pass a file name`);
  });

  it('estimate --sample 0 and scan --concurrency out of range (checked before any work, like every count)', async () => {
    expectOneLine(await runCli(['estimate', manifest, '--out', join(dir, 'o6'), '--sample', '0']), 2, 'rethumb: Expected --sample to be a whole number ≥ 1, got `0`');
    expectOneLine(await runCli(['scan', manifest, '--out', join(dir, 'o6'), '--concurrency', '0']), 2, 'rethumb: Expected --concurrency to be from 1 to 1000, got `0`');
    expectOneLine(await runCli(['scan', manifest, '--out', join(dir, 'o6'), '--concurrency', '100000000']), 2, /Expected --concurrency to be from 1 to 1000/);
  });

  it('a --report or --list that is the manifest itself: refused, the manifest kept whole', async () => {
    const list = join(dir, 'list.jsonl');
    const lines = '{"key":"a","url":"http://127.0.0.1:9/a.jpg"}\n{"key":"b","url":"http://127.0.0.1:9/b.jpg"}\n';
    await writeFile(list, lines);
    // A scan's list is a manifest: scanning it again into itself emptied it before reading it.
    expectOneLine(await runCli(['scan', list, '--out', join(dir, 'o7'), '--list', list]), 2, `rethumb: --list ${list} is the manifest this command reads; pass another file`);
    expectOneLine(await runCli(['rebuild', list, '--out', join(dir, 'o7'), '--report', list]), 2, /--report .*list\.jsonl is the manifest this command reads/);
    expect(await readFile(list, 'utf8')).toBe(lines);
  });

  it('a CSV manifest without a url column', async () => {
    const csv = join(dir, 'photos.csv');
    await writeFile(csv, 'key,link\na,http://127.0.0.1:9/a.jpg\n');
    expectOneLine(
      await runCli(['rebuild', csv, '--out', join(dir, 'o5')]),
      2,
      'rethumb: The manifest cannot be read: the CSV header row (line 1) has no `url` column (it has: key, link); the first row must name the columns, e.g. key,url,mirrors',
    );
  });
});
