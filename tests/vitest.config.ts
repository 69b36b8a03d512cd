import { defineConfig } from 'vitest/config';

// End-to-end suites start processes; they run one file at a time so that two suites
// never compete for the machine's two cores while timing shutdowns.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
