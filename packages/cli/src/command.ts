import type { CliIo } from './io.js';

/** A command of the `runplane` CLI. */
export interface Command {
  /** The word that selects it: `runplane <name> ...`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The usage text shown by `runplane <name> --help` and on usage errors. */
  readonly usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/** Exit codes shared by every command. */
export const ExitCode = {
  Ok: 0,
  /** The command ran and found problems (an invalid model, a failing expression). */
  Failed: 1,
  /** The command line itself is wrong. */
  Usage: 2,
} as const;
/** An exit code of {@link ExitCode}. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
