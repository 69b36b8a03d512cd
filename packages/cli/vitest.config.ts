import { defineConfig } from 'vitest/config';

// Some tests start the runplane executable (tsx compiles it first): seconds on a busy CI machine.
export default defineConfig({ test: { testTimeout: 30_000 } });
