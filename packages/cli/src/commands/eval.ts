import {
  compileExpression,
  createEvaluationContext,
  formatType,
  toJsonValue,
  type MxType,
  type MxValue,
  type SourcePosition,
} from '@runplane/expressions';
import { isRunplaneError } from '@runplane/errors';
import { loadModel, loadModelFromFiles, type CompiledModel } from '@runplane/model';
import { parseArgs, UsageError } from '../args.js';
import { ExitCode, type Command } from '../command.js';
import { parseExactJson, toTypedValue } from '../json-values.js';
import { printModelErrors } from './check.js';

/** The JSON line printed for one expression. */
export type EvalOutput =
  | { readonly value: unknown; readonly type: string }
  | {
      readonly error: {
        readonly code: string;
        readonly message: string;
        readonly position: SourcePosition | null;
      };
    };

interface Evaluator {
  (source: string): EvalOutput;
}

const START: SourcePosition = { offset: 0, line: 1, column: 1 };

function evaluator(
  model: CompiledModel,
  variables: ReadonlyMap<string, MxType>,
  values: ReadonlyMap<string, MxValue>,
): Evaluator {
  const context = createEvaluationContext({
    roundingMode: model.settings.roundingMode,
    timeZone: model.settings.defaultTimeZone,
    constants: new Map([...model.constants.values()].map((c) => [c.name, c.value])),
  });
  return (source) => {
    const compiled = compileExpression(source, { schema: model.schema, variables });
    if (!compiled.ok) {
      const [first] = compiled.errors;
      return {
        error: {
          code: first?.code ?? 'EXPR_SYNTAX',
          message: first?.message ?? 'Invalid expression.',
          position: first?.span.start ?? START,
        },
      };
    }
    try {
      const value = compiled.expression.evaluate(values, context);
      return { value: toJsonValue(value), type: formatType(compiled.expression.type) };
    } catch (error) {
      if (!isRunplaneError(error)) throw error;
      const span = (error.details as { span?: { start?: SourcePosition } }).span;
      return { error: { code: error.code, message: error.message, position: span?.start ?? null } };
    }
  };
}

/** Reads `--var name=json` into variable types and values. */
function readVariables(
  specs: readonly string[],
  model: CompiledModel,
): { types: Map<string, MxType>; values: Map<string, MxValue> } {
  const types = new Map<string, MxType>();
  const values = new Map<string, MxValue>();
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    const name = (eq < 0 ? spec : spec.slice(0, eq)).replace(/^\$/, '');
    if (eq < 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(
        `--var takes name=json, e.g. --var Total=12.5 or --var 'Name="Ann"'; got '${spec}'.`,
      );
    }
    const typed = toTypedValue(parseExactJson(spec.slice(eq + 1)), model.schema);
    types.set(name, typed.type);
    values.set(name, typed.value);
  }
  return { types, values };
}

/** `runplane eval`: evaluates expressions and prints `{"value":…,"type":"…"}` per expression. */
export const evalCommand: Command = {
  name: 'eval',
  summary: 'Evaluate Mendix expressions, one argument or one per line of standard input.',
  usage: `Usage: runplane eval [--model <dir>] [--var name=json]... [expression]

Evaluates the expression and prints {"value":...,"type":"..."}. Without an expression,
reads one expression per line from standard input and prints one JSON line for each.
A bad expression prints {"error":{"code":"...","message":"...","position":{...}}}.

  --model <dir>      check names against this app model (entities, enumerations, constants)
  --var name=json    a variable: "text", 12, 12.5, true, null, {"$decimal":"1.5"},
                     {"$long":"12"}, {"$date":"2024-01-31T12:00:00Z"},
                     {"$enum":"Sales.OrderStatus.Placed"},
                     {"$entity":"Sales.Order","Total":"12.5"} or a list of objects

Exits 1 when an expression fails, 2 on a bad command line.
`,
  async run(args, io) {
    const parsed = parseArgs(args, { values: ['model', 'var'] });
    if (parsed.positionals.length > 1) {
      io.err(`${this.usage}\nQuote the expression as one argument.\n`);
      return ExitCode.Usage;
    }
    const modelDir = parsed.values.get('model')?.at(-1);
    let model: CompiledModel;
    if (modelDir === undefined) {
      const builtIn = loadModelFromFiles([]);
      if (!builtIn.ok) throw new TypeError('the built-in System module does not load');
      model = builtIn.model;
    } else {
      const result = await loadModel(modelDir);
      if (!result.ok) {
        printModelErrors(io, modelDir, result.errors, false);
        return ExitCode.Failed;
      }
      model = result.model;
    }
    const { types, values } = readVariables(parsed.values.get('var') ?? [], model);
    const evaluate = evaluator(model, types, values);
    const expression = parsed.positionals[0];
    if (expression !== undefined) {
      const output = evaluate(expression);
      io.out(`${JSON.stringify(output)}\n`);
      return 'error' in output ? ExitCode.Failed : ExitCode.Ok;
    }
    let failed = false;
    for await (const line of io.lines()) {
      if (line.trim() === '') continue;
      const output = evaluate(line);
      if ('error' in output) failed = true;
      io.out(`${JSON.stringify(output)}\n`);
    }
    return failed ? ExitCode.Failed : ExitCode.Ok;
  },
};
