import { defineConfig } from 'vitest/config';

// The suites use the machine's NATS and start leader-election services in process.
export default defineConfig({ test: { testTimeout: 60_000, hookTimeout: 60_000, fileParallelism: false } });
