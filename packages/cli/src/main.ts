/**
 * The entry point of the `runplane` command: picks the command from the first argument
 * and runs it. `bin/runplane.js` calls {@link main} with the process arguments.
 */
import { UsageError } from './args.js';
import { ExitCode } from './command.js';
import { COMMANDS } from './commands/index.js';
import { processIo, type CliIo } from './io.js';

function overview(): string {
  const width = Math.max(...[...COMMANDS.keys()].map((n) => n.length));
  const lines = [...COMMANDS.values()].map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `Usage: runplane <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun runplane <command> --help for a command's options.\n`;
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and resolves to the
 * exit code: 0 success, 1 the command found problems, 2 a bad command line.
 */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.err : io.out)(overview());
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  const command = COMMANDS.get(name);
  if (command === undefined) {
    io.err(`Unknown command '${name}'.\n\n${overview()}`);
    return ExitCode.Usage;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(command.usage);
    return ExitCode.Ok;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\n${command.usage}`);
      return ExitCode.Usage;
    }
    throw error;
  }
}
