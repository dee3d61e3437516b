import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: one test file per core; tfjs backends are process-global.
    pool: 'forks',
    maxWorkers: 2,
  },
});
