import { defineConfig } from 'vitest/config';

// Suites run on a real PostgreSQL and NATS, each with its own database and namespace.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
