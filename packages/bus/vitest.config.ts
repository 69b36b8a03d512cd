import { defineConfig } from 'vitest/config';

// The NATS suite waits on ack waits, nak delays and TTLs of about a second each; a busy CI
// machine stretches them.
export default defineConfig({ test: { testTimeout: 20_000 } });
