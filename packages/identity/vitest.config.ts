import { defineConfig } from 'vitest/config';

// Suites run on a real PostgreSQL, each with its own database; scrypt makes logins slow on
// purpose, so tests get more time than vitest's default.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
