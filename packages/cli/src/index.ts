/**
 * The `runplane` operator's command line: `check` and `eval` today, `migrate` and
 * `users` later. Each command is a {@link Command} in the command table; {@link main}
 * dispatches on the first argument.
 */
export { main } from './main.js';
export { COMMANDS } from './commands/index.js';
export { ExitCode, type Command } from './command.js';
export { parseArgs, UsageError, type FlagSpec, type ParsedArgs } from './args.js';
export { processIo, type CliIo } from './io.js';
export { checkCommand, printModelErrors, summaryLine } from './commands/check.js';
export { evalCommand, type EvalOutput } from './commands/eval.js';
export { parseExactJson, toTypedValue, type TypedValue } from './json-values.js';
