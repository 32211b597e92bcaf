// Runs the example of a user's own test suite (examples/user-suite) against the built package.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['examples/user-suite/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
