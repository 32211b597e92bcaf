import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../regenerator/support.js';
import { fixture, type Fixture } from './fixture.js';
import { childrenOf, HAS_PROC, runCli, startCli, threadsOf } from './support.js';

const { defaultProcesses } = createRequire(import.meta.url)('../../src/cli/plan-threads.cjs') as typeof import('../../src/cli/plan-threads.cjs');

const open: Fixture[] = [];
afterEach(async () => {
  for (const f of open.splice(0)) await f.close();
});

async function setup(options: Parameters<typeof fixture>[0]): Promise<Fixture> {
  const f = await fixture(options);
  open.push(f);
  return f;
}

/** Whatever the test runner's environment says, the bin decides the pool. */
const NO_POOL = { UV_THREADPOOL_SIZE: undefined };

describe('one machine, all its cores: the CLI sizes itself to the cores before libuv’s pool starts', () => {
  it('with --cores 32 in one process: 33 images in sharp at once, on a pool of 37 threads that really exists', async () => {
    // A slow answer keeps the process alive, its pool started, while its threads are counted.
    const f = await setup({ count: 1, delayMs: 6_000 });
    const run = startCli(['rebuild', f.manifest, ...f.args, '--cores', '32', '--processes', '1', '--json'], { env: NO_POOL, timeoutMs: 60_000 });
    expect(await until(() => f.origin.inFlight >= 1, 30_000)).toBe(true);
    // libuv starts every thread of its pool at its first use (module loading): 37 of them,
    // beside the main thread and V8's. Unsized, the process would have about a dozen in all.
    if (HAS_PROC) expect(threadsOf(run.child.pid!)).toBeGreaterThanOrEqual(37);
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    const summary = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
    expect(summary.machine).toEqual({ cores: 32, processes: 1, renderConcurrency: 33, threadPool: 37 });
    expect(summary.counts.regenerated).toBe(1);
  }, 90_000);

  it('with --cores 32 --processes 2: each worker renders its 16 cores + 1, on its own pool of 21 threads', async () => {
    const f = await setup({ count: 4, delayMs: 2_000 });
    const run = startCli(['rebuild', f.manifest, ...f.args, '--cores', '32', '--processes', '2', '--json'], { env: NO_POOL, timeoutMs: 60_000 });
    expect(await until(() => f.origin.inFlight >= 1, 30_000)).toBe(true);
    if (HAS_PROC) {
      const workers = childrenOf(run.child.pid!);
      expect(workers).toHaveLength(2);
      // A worker's pool starts when it loads its first module; the second may still be starting.
      expect(await until(() => workers.every((pid) => threadsOf(pid) >= 21), 30_000)).toBe(true);
    }
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    const summary = JSON.parse(done.stdout.trim().split('\n').at(-1)!);
    expect(summary.machine).toEqual({ cores: 32, processes: 2, renderConcurrency: 17, threadPool: 21 });
    expect(summary).toMatchObject({ total: 4, counts: { regenerated: 4 }, interrupted: false });
  }, 90_000);

  it('with --cores 32 and no --processes: one process per CORES_PER_PROCESS cores, each rendering its share + 1', async () => {
    const f = await setup({ count: 3 });
    const processes = defaultProcesses(32);
    const share = Math.ceil(32 / processes);
    const run = await runCli(['rebuild', f.manifest, ...f.args, '--cores', '32', '--json'], { env: NO_POOL, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!);
    expect(processes).toBeGreaterThan(1);
    expect(summary.machine).toEqual({ cores: 32, processes, renderConcurrency: share + 1, threadPool: share + 5 });
    expect(summary).toMatchObject({ total: 3, counts: { regenerated: 3 }, interrupted: false });
  }, 90_000);

  it('--resume sizes the pool for the --cores and --processes the job was started with (the journal restores them)', async () => {
    const f = await setup({ count: 2 });
    const first = await runCli(['rebuild', f.manifest, ...f.args, '--cores', '32', '--processes', '1', '--json'], { env: NO_POOL, timeoutMs: 60_000 });
    expect(first.code, first.stderr).toBe(0);
    // Exactly as the CLI prints it after an interruption: the manifest, --out and --resume.
    const resumed = await runCli(['rebuild', f.manifest, '--out', f.out, '--resume', '--json'], { env: NO_POOL, timeoutMs: 60_000 });
    expect(resumed.code, resumed.stderr).toBe(0);
    // Before the fix the bin sized the pool from the command line alone (7 threads on 2 cores),
    // and the restored --cores 32 rendered 6 images at once instead of 33.
    expect(JSON.parse(resumed.stdout.trim().split('\n').at(-1)!).machine).toEqual({ cores: 32, processes: 1, renderConcurrency: 33, threadPool: 37 });
  }, 90_000);

  it('lets the user’s UV_THREADPOOL_SIZE win, leaving one thread for the file system and DNS', async () => {
    const f = await setup({ count: 2 });
    const run = await runCli(['rebuild', f.manifest, ...f.args, '--cores', '32', '--processes', '1', '--json'], { env: { UV_THREADPOOL_SIZE: '8' } });
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1)!).machine).toEqual({ cores: 32, processes: 1, renderConcurrency: 7, threadPool: 8 });
  });

  it('refuses a core or process count that is not a whole number ≥ 1 (exit 2)', async () => {
    const f = await setup({ count: 1 });
    for (const [flag, value] of [['--cores', '0'], ['--processes', '0'], ['--processes', 'two'], ['--processes', '100000']] as const) {
      const run = await runCli(['rebuild', f.manifest, ...f.args, flag, value]);
      expect(run.code, `${flag} ${value}`).toBe(2);
      expect(run.stderr).toContain(`Expected ${flag} to be`);
    }
  });
});
