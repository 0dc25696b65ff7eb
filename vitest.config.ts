import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'cli/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    // Two cores: run test files on two forks; heavy engine tests share them politely.
    pool: 'forks',
    maxWorkers: 2,
  },
});
