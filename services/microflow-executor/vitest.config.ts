import { defineConfig } from 'vitest/config';

// Suites use the machine's PostgreSQL and NATS, each with a database and namespace of its own.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000 } });
