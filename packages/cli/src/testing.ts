import type { CliIo } from './io.js';

/** An in-memory {@link CliIo}: what was written, and stdin from the given lines. */
export function memoryIo(
  stdinLines: readonly string[] = [],
): CliIo & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (text) => {
      out += text;
    },
    err: (text) => {
      err += text;
    },
    lines: async function* () {
      for (const line of stdinLines) {
        await Promise.resolve();
        yield line;
      }
    },
    stdout: () => out,
    stderr: () => err,
  };
}
