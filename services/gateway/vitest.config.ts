import { defineConfig } from 'vitest/config';

// The /xas/ suites start a session service and gateways on a real PostgreSQL and NATS.
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
