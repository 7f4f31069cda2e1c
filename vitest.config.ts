import { defineConfig } from 'vitest/config';

// One test file at a time: lavapipe runs shaders on the same 2 cores, and Dawn is a native addon
// (forks, not worker threads).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
