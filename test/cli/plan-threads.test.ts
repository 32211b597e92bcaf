import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// CommonJS (the bin reads it before libuv's pool starts): loaded the way the ESM CLI loads it.
const plan = createRequire(import.meta.url)('../../src/cli/plan-threads.cjs') as typeof import('../../src/cli/plan-threads.cjs');
const { CORES_PER_PROCESS, defaultProcesses, planInputOfArgv, planThreads, threadPoolOfEnv } = plan;

describe('planThreads: one machine, all its cores', () => {
  it('keeps one process on a machine one process keeps busy, and adds one per CORES_PER_PROCESS cores', () => {
    expect(CORES_PER_PROCESS).toBeGreaterThanOrEqual(2);
    expect(defaultProcesses(1)).toBe(1);
    expect(defaultProcesses(2)).toBe(1);
    expect(defaultProcesses(CORES_PER_PROCESS)).toBe(1);
    expect(defaultProcesses(CORES_PER_PROCESS + 1)).toBe(2);
    expect(defaultProcesses(32)).toBe(Math.ceil(32 / CORES_PER_PROCESS));
  });

  it('on 32 cores in one process: 33 images in sharp at once and a pool of 37 threads', () => {
    expect(planThreads({ cores: 32, processes: 1 })).toEqual({ cores: 32, processes: 1, coresPerProcess: 32, renderConcurrency: 33, threadPool: 37 });
  });

  it('on 32 cores by default: the cores split among the processes, each rendering its share + 1', () => {
    const p = planThreads({ cores: 32 });
    expect(p.processes).toBe(defaultProcesses(32));
    expect(p.coresPerProcess).toBe(Math.ceil(32 / p.processes));
    expect(p.renderConcurrency).toBe(p.coresPerProcess + 1);
    expect(p.threadPool).toBe(p.renderConcurrency + 4);
    // Every core has a render, and not much more than one each.
    expect(p.processes * p.renderConcurrency).toBeGreaterThan(32);
    expect(p.processes * p.coresPerProcess).toBeLessThan(32 + p.processes);
  });

  it('lets a pool that is already fixed (the user’s UV_THREADPOOL_SIZE) win, with one thread left for I/O', () => {
    expect(planThreads({ cores: 32, processes: 1, threadPool: 8 })).toMatchObject({ renderConcurrency: 7, threadPool: 8 });
    // libuv's default pool, as when the CLI runs without its bin: the library's old cap.
    expect(planThreads({ cores: 32, processes: 1, threadPool: 4 })).toMatchObject({ renderConcurrency: 3, threadPool: 4 });
    expect(planThreads({ cores: 32, processes: 1, threadPool: 1 })).toMatchObject({ renderConcurrency: 1, threadPool: 1 });
  });

  it('sizes the pool to an explicit render concurrency', () => {
    expect(planThreads({ cores: 2, processes: 1, renderConcurrency: 12 })).toMatchObject({ renderConcurrency: 12, threadPool: 16 });
    // The user's pool wins even then (sharp work then queues for threads).
    expect(planThreads({ cores: 2, processes: 1, renderConcurrency: 12, threadPool: 6 })).toMatchObject({ renderConcurrency: 12, threadPool: 6 });
  });

  it('reads UV_THREADPOOL_SIZE as libuv does', () => {
    expect(threadPoolOfEnv(undefined)).toBeUndefined();
    expect(threadPoolOfEnv('')).toBeUndefined();
    expect(threadPoolOfEnv('16')).toBe(16);
    expect(threadPoolOfEnv('0')).toBe(1);
    expect(threadPoolOfEnv('lots')).toBe(1);
    expect(threadPoolOfEnv('5000')).toBe(1024);
  });

  it('reads what the bin needs from argv before the command line is parsed', () => {
    expect(planInputOfArgv(['rebuild', 'm.jsonl', '--out', 'x', '--cores', '32'], 2)).toEqual({ cores: 32 });
    expect(planInputOfArgv(['rebuild', 'm.jsonl', '--processes=3', '--render-concurrency', '5'], 2)).toEqual({ cores: 2, processes: 3, renderConcurrency: 5 });
    // Only rebuild runs workers.
    expect(planInputOfArgv(['estimate', 'm.jsonl', '--cores', '32', '--processes', '3'], 2)).toEqual({ cores: 32, processes: 1 });
    // Malformed values are the real parser's to refuse.
    expect(planInputOfArgv(['rebuild', 'm.jsonl', '--cores', 'many', '--processes', '0'], 4)).toEqual({ cores: 4 });
  });

  it('with rebuild --resume, reads the machine flags the job’s journal recorded; flags given again win', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rethumb-plan-'));
    try {
      // No journal yet: argv alone.
      expect(planInputOfArgv(['rebuild', 'm.jsonl', '--out', out, '--resume'], 2)).toEqual({ cores: 2 });
      await mkdir(join(out, '.rethumb'));
      const header = { rethumbJournal: 1, settings: [['allow-host', '127.0.0.1:1'], ['cores', '32'], ['processes', '2'], ['render-concurrency', '9']] };
      await writeFile(join(out, '.rethumb', 'journal.jsonl'), `${JSON.stringify(header)}\n{"i":0,"o":"regenerated"}\n`);
      expect(planInputOfArgv(['rebuild', 'm.jsonl', '--out', out, '--resume'], 2)).toEqual({ cores: 32, processes: 2, renderConcurrency: 9 });
      expect(planInputOfArgv(['rebuild', 'm.jsonl', `--out=${out}`, '--resume', '--processes', '4'], 2)).toEqual({ cores: 32, processes: 4, renderConcurrency: 9 });
      // Not a resume: the journal is another job's.
      expect(planInputOfArgv(['rebuild', 'm.jsonl', '--out', out], 2)).toEqual({ cores: 2 });
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
