import { posix } from 'node:path';
import {
  formatModelError,
  loadModel,
  summarizeModel,
  type CompiledModel,
  type ModelError,
} from '@runplane/model';
import { parseArgs } from '../args.js';
import { ExitCode, type Command } from '../command.js';
import type { CliIo } from '../io.js';

/** The path of an error's file as the user named the model directory. */
export function displayPath(dir: string, error: ModelError): ModelError {
  if (error.file.startsWith('<')) return error;
  const base = dir.split('\\').join('/');
  return { ...error, file: error.file === base ? base : posix.join(base, error.file) };
}

/** Prints model errors as `file:line:col  path  message`, with hints when asked. */
export function printModelErrors(
  io: CliIo,
  dir: string,
  errors: readonly ModelError[],
  hints: boolean,
): void {
  for (const error of errors) {
    io.out(`${formatModelError(displayPath(dir, error))}\n`);
    if (hints && error.hint !== '') io.out(`    hint: ${error.hint}\n`);
  }
  io.err(`${errors.length} error${errors.length === 1 ? '' : 's'} in ${dir}\n`);
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** The one-line summary of a valid model. */
export function summaryLine(dir: string, model: CompiledModel): string {
  const s = summarizeModel(model);
  return (
    `${dir}: OK: ${plural(s.modules, 'module')}, ${plural(s.entities, 'entity', 'entities')}, ` +
    `${plural(s.associations, 'association')}, ${plural(s.enumerations, 'enumeration')}, ${plural(s.constants, 'constant')}, ` +
    `${plural(s.microflows, 'microflow')}, ${plural(s.pages, 'page')}, ${plural(s.scheduledEvents, 'scheduled event')}, ` +
    `${plural(s.restServices, 'REST service')}, ${plural(s.userRoles, 'user role')} (version ${model.version.slice(0, 12)})`
  );
}

/** `runplane check <model-dir>`: checks a model and reports every error. */
export const checkCommand: Command = {
  name: 'check',
  summary: 'Check an app model and print every error, or a summary when it is valid.',
  usage: `Usage: runplane check [--hints] <model-dir>

Checks the model in <model-dir>: YAML/JSON syntax, the JSON Schema, every reference,
and the types of every expression and XPath constraint.

Prints each error as "file:line:col  path  message" and exits 1, or prints a one-line
summary and exits 0.

  --hints   also print a hint under each error
`,
  async run(args, io) {
    const parsed = parseArgs(args, { switches: ['hints'] });
    const [dir, ...extra] = parsed.positionals;
    if (dir === undefined || extra.length > 0) {
      io.err(this.usage);
      return ExitCode.Usage;
    }
    const result = await loadModel(dir);
    if (!result.ok) {
      printModelErrors(io, dir, result.errors, parsed.switches.has('hints'));
      return ExitCode.Failed;
    }
    io.out(`${summaryLine(dir, result.model)}\n`);
    return ExitCode.Ok;
  },
};
