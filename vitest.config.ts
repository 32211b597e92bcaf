import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers, real files, real sharp: generous per-test ceilings, never sleeps in tests.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own loopback servers; files run in parallel processes.
    pool: 'forks',
    // One file more than cores (vitest's default is one fewer): most files spend their time
    // waiting on loopback origins, child processes and Redis, not on the CPU. On 2 cores the
    // suite took 360 s with vitest's default of 1 worker and 171–174 s with 3 (three runs, all
    // green), which keeps `.ci/run` (two Node versions) well inside its 15 minutes.
    maxWorkers: availableParallelism() + 1,
  },
});
