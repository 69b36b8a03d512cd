import { defineConfig } from 'vitest/config';

// Suites open PostgreSQL databases and PGlite instances (a few seconds each to start).
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
});
