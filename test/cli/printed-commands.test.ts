/**
 * Issue 13, point 3: the commands the CLI prints for pasting work when pasted — run here exactly
 * as printed, in a shell, from the directory the user was in (paths with spaces included).
 */
import { mkdir, readdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/storage/file-store.js';
import { decode } from '../helpers/images.js';
import { until } from '../regenerator/support.js';
import { fixture, type Fixture } from './fixture.js';
import { journalEntries, printedCommand, readJsonLinesFile, runCli, runPrinted, startCli, startPrinted } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

describe('printed commands work when pasted', () => {
  it('"to continue" after Ctrl-C resumes with the flags the job was started with (paths with spaces)', async () => {
    const f = await fixture({ count: 40, delayMs: 60 });
    open.push(f);
    // The user's own layout: a manifest and a store whose names have spaces, relative paths.
    await mkdir(join(f.dir, 'my jobs'));
    await rename(f.manifest, join(f.dir, 'my jobs', "photos (day 1).jsonl"));
    const manifest = "my jobs/photos (day 1).jsonl";
    const out = 'my thumbs';
    const flags = ['--variant', 'tile=32x32:cover', '--format', 'jpeg', '--quality', '70', '--allow-host', f.origin.host, '--concurrency', '2'];
    const first = startCli(['rebuild', manifest, '--out', out, ...flags], { cwd: f.dir });
    const journal = join(f.dir, out, '.rethumb', 'journal.jsonl');
    expect(await until(async () => (await journalEntries(journal)).length >= 4, 15_000)).toBe(true);
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.code).toBe(130);
    const command = printedCommand(stopped.stdout, 'to continue, run:');
    expect(command, stopped.stdout).toMatch(/ rebuild 'my jobs\/photos \(day 1\)\.jsonl' --out 'my thumbs' --resume$/);

    const resumed = await runPrinted(command!, { cwd: f.dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^rethumb rebuild: 40 records/m);
    expect(resumed.stdout).toMatch(/regenerated 40, stored 0, mirror 0, derived 0, placeholder 0/);
    expect(resumed.stdout).toMatch(/resumed: \d+ records were finished by earlier runs/);
    // Every record in the job's own output settings: one 32x32 JPEG variant.
    const store = new FileStore(join(f.dir, out));
    for (const r of f.records) {
      const entry = await store.get({ key: r.key, variant: 'tile', format: 'jpeg' });
      expect(await decode(entry!.body), r.key).toMatchObject({ width: 32, height: 32, format: 'jpeg' });
    }
    expect(f.origin.hits()).toBeLessThanOrEqual(40 + 2);
  });

  it('a resumed run that changes a setting prints a continue command that keeps the change', async () => {
    const f = await fixture({ count: 40, delayMs: 150 });
    open.push(f);
    const journal = join(f.out, '.rethumb', 'journal.jsonl');
    /** Start, let `more` records finish, Ctrl-C: the printed continue command. */
    const interrupt = async (args: string[], more: number): Promise<string> => {
      const before = (await journalEntries(journal)).length;
      const run = startCli(args, { cwd: f.dir });
      expect(await until(async () => (await journalEntries(journal)).length >= before + more, 15_000)).toBe(true);
      run.child.kill('SIGINT');
      const stopped = await run.done;
      expect(stopped.code).toBe(130);
      return printedCommand(stopped.stdout, 'to continue, run:')!;
    };
    // Started with a byte limit below the photos' size: its first records fall back (too large) …
    const first = await interrupt(['rebuild', f.manifest, ...f.args, '--concurrency', '1', '--max-bytes', '100'], 2);
    expect(first).not.toContain('--max-bytes');
    // … the user raises it when continuing: the next printed command must keep the change.
    const words = ['rebuild', f.manifest, '--out', f.out, '--max-bytes', '10000000', '--resume'];
    const second = await interrupt(words, 4);
    expect(second).toContain('--max-bytes 10000000');
    const done = await runPrinted(second, { cwd: f.dir });
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^rethumb rebuild: 40 records/m);
    // Only the records finished before the limit was raised fell back.
    const placeholders = Number(/placeholder (\d+)/.exec(done.stdout)![1]);
    expect(placeholders).toBeGreaterThanOrEqual(2);
    expect(placeholders).toBeLessThan(40 - 4);
    expect(done.stdout).toMatch(/^ +\d+ {2}RETHUMB_TOO_LARGE: /m);
  });

  it('"retry the fallbacks" carries the flags and --retry-failed for records the failure memory holds', async () => {
    const f = await fixture({ count: 6, route: (i, photo) => (i < 3 ? { kind: 'status', status: 404 } : photo) });
    open.push(f);
    const run = await runCli(['rebuild', f.manifest, ...f.args, '--format', 'png']);
    expect(run.code).toBe(0);
    const command = printedCommand(run.stdout, 'retry the fallbacks once their sources are back:');
    expect(command).toContain('--retry-failed');
    expect(command).toContain('--format png');
    // The sources come back; the printed command fetches exactly the three (not held).
    for (const r of f.records.slice(0, 3)) f.origin.route(r.path, { kind: 'image', body: f.photo, contentType: 'image/jpeg' });
    f.origin.resetCounts();
    const retried = await runPrinted(command!, { cwd: f.dir });
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(/regenerated 3, stored 0, mirror 0, derived 0, placeholder 0/);
    expect(f.origin.hits()).toBe(3);
    const store = new FileStore(f.out);
    const entry = await store.get({ key: 'r/0', variant: 'small', format: 'png' });
    expect(await decode(entry!.body)).toMatchObject({ format: 'png', width: 48, height: 48 });
  });

  it('"retry the fallbacks" pasted in another directory retries into the same store (its --out is absolute, like its manifest)', async () => {
    const f = await fixture({ count: 4, route: (i, photo) => (i < 2 ? { kind: 'status', status: 503 } : photo) });
    open.push(f);
    // The user's relative --out, in the directory they work in.
    const run = await runCli(['rebuild', f.manifest, '--out', 'thumbs', ...f.args.slice(2)], { cwd: f.dir });
    expect(run.code, run.stderr).toBe(0);
    const command = printedCommand(run.stdout, 'retry the fallbacks once their sources are back:')!;
    // Later, in another terminal, elsewhere: the sources are back.
    const elsewhere = join(f.dir, 'elsewhere');
    await mkdir(elsewhere);
    for (const r of f.records.slice(0, 2)) f.origin.route(r.path, { kind: 'image', body: f.photo, contentType: 'image/jpeg' });
    const retried = await runPrinted(command, { cwd: elsewhere });
    expect(retried.code, retried.stderr).toBe(0);
    expect(retried.stdout).toMatch(/regenerated 2, stored 0, mirror 0, derived 0, placeholder 0/);
    expect(await readdir(elsewhere)).toEqual([]);
    const store = new FileStore(join(f.dir, 'thumbs'));
    for (const r of f.records) expect(await store.get({ key: r.key, variant: 'small', format: 'webp' }), r.key).toBeDefined();
  });

  it('a manifest and a store whose names start with "-" are printed so that pasting does not take them for options', async () => {
    const f = await fixture({ count: 2 });
    open.push(f);
    await rename(f.manifest, join(f.dir, '-photos.jsonl'));
    // Typed the only way a shell user can: --out=VALUE, and the manifest after `--`.
    const run = await runCli(['rebuild', '--out=-thumbs', ...f.args.slice(2, -2), '--', '-photos.jsonl'], { cwd: f.dir });
    expect(run.code, run.stderr).toBe(0);
    // The advice's command: the first line indented under "what to do:" as a command.
    const command = run.stdout.split('\n').find((l) => l.startsWith('      '))?.trim();
    expect(command, run.stdout).toMatch(/ rebuild \.\/-photos\.jsonl --out \.\/-thumbs .*--allow-host /);
    const pasted = await runPrinted(command!, { cwd: f.dir });
    expect(pasted.code, pasted.stderr).toBe(0);
    expect(pasted.stdout).toMatch(/regenerated 2, stored 0, mirror 0, derived 0, placeholder 0/);
  });

  it('an interrupted retry of the fallbacks keeps its manifest: the printed --resume finishes it, and no hashes are overwritten', async () => {
    const f = await fixture({ count: 30, route: () => ({ kind: 'status', status: 404 }) });
    open.push(f);
    const first = await runCli(['rebuild', f.manifest, ...f.args, '--hashes', 'hashes.jsonl'], { cwd: f.dir });
    expect(first.code, first.stderr).toBe(0);
    const retry = printedCommand(first.stdout, 'retry the fallbacks once their sources are back:')!;
    const report = join(f.out, '.rethumb', 'fallbacks.jsonl');
    expect(retry).toContain(report);
    // The retry's hashes go beside the job's file, never over it.
    expect(retry).toContain('--hashes hashes.retry.jsonl');
    const listed = await readFile(report, 'utf8');
    expect(listed.trim().split('\n')).toHaveLength(30);

    // The sources come back, slowly; the user pastes the retry, then presses Ctrl-C part-way.
    for (const r of f.records) f.origin.route(r.path, { kind: 'image', body: f.photo, contentType: 'image/jpeg', delayMs: 100 });
    f.origin.resetCounts();
    const run = startPrinted(`${retry} --concurrency 2`, { cwd: f.dir });
    expect(await until(() => f.origin.hits() >= 6, 15_000)).toBe(true);
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    // The report it reads is untouched; its own went beside it.
    expect(await readFile(report, 'utf8')).toBe(listed);
    expect((await stat(join(f.out, '.rethumb', 'fallbacks.retry.jsonl'))).isFile()).toBe(true);

    const resume = printedCommand(stopped.stdout, 'to continue, run:')!;
    const resumed = await runPrinted(resume, { cwd: f.dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/^rethumb rebuild: 30 records/m);
    expect(resumed.stdout).toMatch(/regenerated 30, stored 0, mirror 0, derived 0, placeholder 0/);
    const store = new FileStore(f.out);
    for (const r of f.records) expect(await store.head({ key: r.key, variant: 'small', format: 'webp' }), r.key).toBeDefined();
    // The first job's hashes file is as that job left it (no record rendered: empty).
    expect((await stat(join(f.dir, 'hashes.jsonl'))).size).toBe(0);
    expect(await readJsonLinesFile(join(f.dir, 'hashes.retry.jsonl'))).toHaveLength(30);
  });

  it('offers no --resume for a manifest read from stdin (it cannot be resumed), and says so', async () => {
    const f = await fixture({ count: 30, delayMs: 100 });
    open.push(f);
    const run = startCli(['rebuild', '-', ...f.args, '--concurrency', '1'], { stdin: await readFile(f.manifest, 'utf8') });
    expect(await until(() => f.origin.hits() >= 3, 15_000)).toBe(true);
    run.child.kill('SIGINT');
    const stopped = await run.done;
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).not.toContain('--resume');
    expect(stopped.stdout).toContain('interrupted: a manifest read from stdin cannot be resumed (pass it as a file to resume a job)');
  });

  it('refuses --resume with other output settings in one line (exit 2), and with the same ones continues', async () => {
    const f = await fixture({ count: 2 });
    open.push(f);
    expect((await runCli(['rebuild', f.manifest, ...f.args, '--format', 'jpeg', '--quiet'])).code).toBe(0);
    const other = await runCli(['rebuild', f.manifest, '--out', f.out, '--format', 'png', '--resume']);
    expect(other.code).toBe(2);
    expect(other.stderr.trim().split('\n')).toEqual([
      'rethumb: --resume: this job was started with --format jpeg, not --format png; leave --format out to continue it, or run without --resume to start anew',
    ]);
    const same = await runCli(['rebuild', f.manifest, '--out', f.out, '--format', 'jpeg', '--resume', '--json']);
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ total: 2, resumed: 2 });
  });
});
