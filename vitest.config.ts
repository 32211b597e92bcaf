import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real servers, real files, real sharp: generous per-test ceilings, never sleeps in tests.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Each file starts its own loopback servers; files run in parallel processes.
    pool: 'forks',
  },
});
