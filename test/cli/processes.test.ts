/**
 * `rethumb rebuild --processes N` with real processes: the built bin, its forked workers, a
 * real loopback origin that counts its requests in flight. One job, however many processes:
 * the same thumbnails and report as one process, one journal that resumes after SIGKILL of the
 * parent or of a worker, Ctrl-C handled by the parent, and never more than the per-host cap.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/storage/file-store.js';
import { damage } from '../helpers/damage.js';
import { decode } from '../helpers/images.js';
import { until } from '../regenerator/support.js';
import { fixture, type Fixture } from './fixture.js';
import { childrenOf, HAS_PROC, isAlive, journalEntries, readJsonLinesFile, runCli, runPrinted, startCli } from './support.js';

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

/** Every seventh source is gone: those records must end in the fallback report. */
const gone = (i: number): boolean => i % 7 === 3;
const PER_HOST = 3;
/** Generous bounds for a loaded 2-core machine: each run starts three Node processes. */
const RUN = { timeoutMs: 90_000 };
const TEST_MS = 180_000;

async function setup(count: number, delayMs: number): Promise<Fixture> {
  const f = await fixture({ count, delayMs, route: (i, photo) => (gone(i) ? { kind: 'status', status: 404 } : photo) });
  open.push(f);
  return f;
}

/** `--per-host 3`, quiet: each worker alone would send up to 10 at once. */
function args(f: Fixture, out = f.out): string[] {
  const i = f.args.indexOf('--out');
  const rest = [...f.args];
  rest.splice(i, 2, '--out', out);
  return [...rest, '--per-host', String(PER_HOST), '--quiet'];
}

/** Every file under `root` but the job's state, as relative path → bytes. */
async function files(root: string): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const rel = relative(root, path);
    if (!rel.startsWith('.rethumb')) found.set(rel, await readFile(path));
  }
  return found;
}

/** Every record that is not gone has both thumbnails, decodable; the fallback report holds exactly the gone ones. */
async function expectComplete(f: Fixture, fallbackPath: string): Promise<void> {
  const fallbacks = (await readJsonLinesFile<{ key: string }>(fallbackPath)).map((r) => r.key).sort();
  expect(fallbacks).toEqual(f.records.filter((_, i) => gone(i)).map((r) => r.key).sort());
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

/** Every manifest index journaled exactly once over every run. */
async function expectJournaledOnce(f: Fixture): Promise<void> {
  const all = (await journalEntries(join(f.out, '.rethumb', 'journal.jsonl'))).map((e) => e.i).sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: f.records.length }, (_, i) => i));
}

describe('rethumb rebuild --processes 2', () => {
  it('writes the same thumbnails, report and fallback report as one process, never over the per-host cap', async () => {
    const f = await setup(56, 40);
    const one = join(f.dir, 'one');
    const oneReport = join(f.dir, 'one.json');
    const single = await runCli(['rebuild', f.manifest, ...args(f, one), '--processes', '1', '--report', oneReport], RUN);
    expect(single.code, single.stderr).toBe(0);
    expect(f.origin.maxInFlight).toBeLessThanOrEqual(PER_HOST);

    f.origin.resetCounts();
    const twoReport = join(f.dir, 'two.json');
    const multi = await runCli(['rebuild', f.manifest, ...args(f), '--processes', '2', '--report', twoReport], RUN);
    expect(multi.code, multi.stderr).toBe(0);
    // Two workers of ten downloads each, and still one client to the origin.
    expect(f.origin.maxInFlight).toBeGreaterThan(0);
    expect(f.origin.maxInFlight).toBeLessThanOrEqual(PER_HOST);
    expect(f.origin.hits()).toBe(f.records.length);

    const a = JSON.parse(await readFile(oneReport, 'utf8'));
    const b = JSON.parse(await readFile(twoReport, 'utf8'));
    expect(b.machine).toMatchObject({ processes: 2 });
    for (const field of ['total', 'counts', 'fallbacks', 'bytesDownloaded', 'bytesWritten', 'resumed', 'onHold', 'malformedLines', 'interrupted']) {
      expect(b[field], field).toEqual(a[field]);
    }
    expect(b.counts).toEqual({ stored: 0, regenerated: f.records.filter((_, i) => !gone(i)).length, mirror: 0, derived: 0, placeholder: f.records.filter((_, i) => gone(i)).length });
    const key = (line: { key: string }) => line.key;
    expect((await readJsonLinesFile<{ key: string }>(b.fallbackReport)).map(key).sort()).toEqual((await readJsonLinesFile<{ key: string }>(a.fallbackReport)).map(key).sort());
    await expectComplete(f, b.fallbackReport);

    // The same files, byte for byte.
    const [x, y] = [await files(one), await files(f.out)];
    expect([...y.keys()].sort()).toEqual([...x.keys()].sort());
    for (const [path, bytes] of x) expect(y.get(path)?.equals(bytes), path).toBe(true);
  }, TEST_MS);

  it('after SIGKILL of the parent, the workers exit and --resume completes without fetching a finished record again', async () => {
    const f = await setup(120, 60);
    const journal = join(f.out, '.rethumb', 'journal.jsonl');
    const first = startCli(['rebuild', f.manifest, ...args(f), '--processes', '2'], RUN);
    expect(await until(async () => (await journalEntries(journal)).length >= 20, 60_000)).toBe(true);
    const workers = HAS_PROC ? childrenOf(first.child.pid!) : [];
    if (HAS_PROC) expect(workers).toHaveLength(2);
    first.child.kill('SIGKILL');
    expect((await first.done).signal).toBe('SIGKILL');
    // Orphaned, they see the channel close and exit (nothing of theirs keeps running).
    expect(await until(() => workers.every((pid) => !isAlive(pid)), 30_000)).toBe(true);

    const finished = await journalEntries(journal);
    expect(finished.length).toBeGreaterThanOrEqual(20);
    expect(finished.length).toBeLessThan(f.records.length);
    const hitsBefore = f.records.map((r) => f.origin.hits(r.path));

    const report = join(f.dir, 'report.json');
    const resumed = await runCli(['rebuild', f.manifest, ...args(f), '--processes', '2', '--resume', '--report', report], RUN);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(await readFile(report, 'utf8'));
    expect(summary).toMatchObject({ total: f.records.length, resumed: finished.length, interrupted: false, fallbacks: f.records.filter((_, i) => gone(i)).length });
    await expectComplete(f, join(f.dir, 'report.fallbacks.jsonl'));
    for (const { i } of finished) {
      // Durable in the journal before the kill: not fetched again.
      expect(f.origin.hits(f.records[i]!.path), f.records[i]!.path).toBe(hitsBefore[i]);
      expect(hitsBefore[i]).toBe(1);
    }
    for (const r of f.records) expect(f.origin.hits(r.path)).toBeLessThanOrEqual(2);
    await expectJournaledOnce(f);
    expect(f.origin.maxInFlight).toBeLessThanOrEqual(PER_HOST);
  }, TEST_MS);

  it.runIf(HAS_PROC)('after SIGKILL of a worker, its records are redone by another: nothing lost, nothing counted twice', async () => {
    const f = await setup(120, 60);
    const journal = join(f.out, '.rethumb', 'journal.jsonl');
    const report = join(f.dir, 'report.json');
    const run = startCli(['rebuild', f.manifest, ...args(f), '--processes', '2', '--report', report], RUN);
    expect(await until(async () => (await journalEntries(journal)).length >= 10, 60_000)).toBe(true);
    const [victim] = childrenOf(run.child.pid!);
    expect(victim).toBeDefined();
    process.kill(victim!, 'SIGKILL');
    // A new worker takes its place.
    expect(await until(() => childrenOf(run.child.pid!).some((pid) => pid !== victim) && childrenOf(run.child.pid!).length === 2, 30_000)).toBe(true);

    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    const summary = JSON.parse(await readFile(report, 'utf8'));
    const goneCount = f.records.filter((_, i) => gone(i)).length;
    expect(summary).toMatchObject({ total: f.records.length, interrupted: false, fallbacks: goneCount });
    // A record the killed worker finished but could not report is found in the store: `stored`.
    expect(summary.counts.regenerated + summary.counts.stored).toBe(f.records.length - goneCount);
    expect(summary.counts.placeholder).toBe(goneCount);
    await expectComplete(f, join(f.dir, 'report.fallbacks.jsonl'));
    await expectJournaledOnce(f);
    for (const r of f.records) expect(f.origin.hits(r.path)).toBeLessThanOrEqual(2);
    // The dead worker's permits went back, and the cap held throughout.
    expect(f.origin.maxInFlight).toBeLessThanOrEqual(PER_HOST);
  }, TEST_MS);

  it.runIf(HAS_PROC)('workers killed again and again (the OOM killer): one line, exit 1, no stack, and the command that continues, which finishes the job', async () => {
    const f = await setup(60, 100);
    const run = startCli(['rebuild', f.manifest, ...args(f), '--processes', '2'], RUN);
    // Kill every worker as it appears until the job gives up (2N + 2 deaths are tolerated), bounded.
    for (let round = 0; round < 100 && run.child.exitCode === null; round += 1) {
      for (const pid of childrenOf(run.child.pid!)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const failed = await run.done;
    expect(failed.code, failed.stderr).toBe(1);
    const lines = failed.stderr.split('\n').filter(Boolean);
    expect(lines, failed.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^rethumb: A record worker was killed by SIGKILL, and workers have now stopped unexpectedly \d+ times; giving up/);
    expect(failed.stderr).not.toMatch(/^\s+at |This is a bug/m);
    const command = /; to continue, run: (.+)$/.exec(lines[0]!)?.[1];
    expect(command, lines[0]).toMatch(/ rebuild .* --resume$/);
    const resumed = await runPrinted(command!, { cwd: process.cwd(), timeoutMs: 90_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    await expectComplete(f, join(f.out, '.rethumb', 'fallbacks.jsonl'));
  }, TEST_MS);

  it.runIf(HAS_PROC)('Ctrl-C (SIGINT to the whole process group) stops the job in the parent: exit 130, in-flight records finished and journaled, --resume finishes', async () => {
    const f = await setup(120, 60);
    const journal = join(f.out, '.rethumb', 'journal.jsonl');
    const report = join(f.dir, 'report.json');
    const first = startCli(['rebuild', f.manifest, ...args(f), '--processes', '2', '--report', report], { ...RUN, detached: true });
    expect(await until(async () => (await journalEntries(journal)).length >= 5 || f.origin.hits() >= 15, 60_000)).toBe(true);
    const workers = childrenOf(first.child.pid!);
    expect(workers).toHaveLength(2);
    // As a terminal's Ctrl-C does: the parent and its workers all get SIGINT.
    process.kill(-first.child.pid!, 'SIGINT');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(130);
    expect(await until(() => workers.every((pid) => !isAlive(pid)), 30_000)).toBe(true);
    const partial = JSON.parse(await readFile(report, 'utf8'));
    expect(partial.interrupted).toBe(true);
    expect(partial.total).toBeGreaterThan(0);
    expect(partial.total).toBeLessThan(f.records.length);
    // The workers did not die of the signal: what they held was finished, and all of it journaled.
    expect(await journalEntries(journal)).toHaveLength(partial.total);
    expect(f.origin.hits()).toBe(partial.total);

    const resumed = await runCli(['rebuild', f.manifest, ...args(f), '--processes', '2', '--resume', '--report', report], RUN);
    expect(resumed.code, resumed.stderr).toBe(0);
    const summary = JSON.parse(await readFile(report, 'utf8'));
    expect(summary).toMatchObject({ total: f.records.length, resumed: partial.total, interrupted: false });
    expect(f.origin.hits()).toBe(f.records.length);
    await expectComplete(f, join(f.dir, 'report.fallbacks.jsonl'));
    await expectJournaledOnce(f);
  }, TEST_MS);

  it.runIf(HAS_PROC)('with --grace 0, SIGTERM abandons what the workers hold at once: exit 143, only finished records journaled, --resume finishes', async () => {
    const f = await setup(120, 60);
    const journal = join(f.out, '.rethumb', 'journal.jsonl');
    const report = join(f.dir, 'report.json');
    const first = startCli(['rebuild', f.manifest, ...args(f), '--processes', '2', '--grace', '0', '--report', report], RUN);
    expect(await until(async () => (await journalEntries(journal)).length >= 5, 60_000)).toBe(true);
    const workers = childrenOf(first.child.pid!);
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(143);
    expect(await until(() => workers.every((pid) => !isAlive(pid)), 30_000)).toBe(true);
    const partial = JSON.parse(await readFile(report, 'utf8'));
    expect(partial).toMatchObject({ interrupted: true });
    expect(partial.total).toBeLessThan(f.records.length);
    // Abandoned records are neither counted nor journaled: a resumed run redoes them.
    expect(await journalEntries(journal)).toHaveLength(partial.total);

    const resumed = await runCli(['rebuild', f.manifest, ...args(f), '--processes', '2', '--resume', '--report', report], RUN);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(await readFile(report, 'utf8'))).toMatchObject({ total: f.records.length, resumed: partial.total, interrupted: false });
    await expectComplete(f, join(f.dir, 'report.fallbacks.jsonl'));
    await expectJournaledOnce(f);
    for (const r of f.records) expect(f.origin.hits(r.path)).toBeLessThanOrEqual(2);
  }, TEST_MS);

  it('checks stored entries in the workers: --verify heals damage, and so does a scan --verify list', async () => {
    const f = await setup(14, 0);
    expect((await runCli(['rebuild', f.manifest, ...args(f), '--processes', '2'], RUN)).code).toBe(0);
    const spoil = async (key: string, variant: string): Promise<void> => {
      const file = join(f.out, key, `${variant}.webp`);
      await writeFile(file, damage('flipped byte', await readFile(file), 'webp', Buffer.from('not an image')));
    };
    await spoil('r/0', 'large');
    await spoil('r/5', 'small');
    f.origin.resetCounts();
    const verified = await runCli(['rebuild', f.manifest, ...args(f).filter((a) => a !== '--quiet'), '--processes', '2', '--verify', '--json'], RUN);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout.trim().split('\n').at(-1)!)).toMatchObject({ counts: { regenerated: 2 } });
    expect(f.origin.hits()).toBe(2);

    // A list from scan --verify marks its records damaged: only those are read and checked.
    await spoil('r/1', 'small');
    const list = join(f.dir, 'damaged.jsonl');
    const scanArgs = args(f).filter((a, i, all) => !['--allow-host', '--per-host', '--quiet'].includes(a) && !['--allow-host', '--per-host'].includes(all[i - 1]!));
    expect((await runCli(['scan', f.manifest, ...scanArgs, '--verify', '--list', list], RUN)).code).toBe(0);
    // The damaged one, and the gone ones (missing).
    expect((await readJsonLinesFile<{ key: string }>(list)).map((r) => r.key).sort()).toEqual(['r/1', 'r/10', 'r/3']);
    f.origin.resetCounts();
    const repaired = await runCli(['rebuild', list, ...args(f).filter((a) => a !== '--quiet'), '--processes', '2', '--json'], RUN);
    expect(repaired.code, repaired.stderr).toBe(0);
    // The gone ones are on hold (their 404 is remembered): only the damaged one is fetched.
    expect(JSON.parse(repaired.stdout.trim().split('\n').at(-1)!)).toMatchObject({ total: 3, counts: { regenerated: 1, placeholder: 2 } });
    expect(f.origin.hits()).toBe(1);
    const after = await runCli(['scan', f.manifest, ...scanArgs, '--verify', '--json'], RUN);
    expect(JSON.parse(after.stdout.trim())).toMatchObject({ counts: { damaged: 0 }, variantsDamaged: 0 });
  }, TEST_MS);
});
