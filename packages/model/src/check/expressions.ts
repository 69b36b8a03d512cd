/** Compiling expressions, templates and XPath constraints found in the model. */
import { ModelErrorCode } from '../errors.js';
import { compileExpression, compileXPath, formatType, isAssignable, type MxType } from '../languages.js';
import type { ModelExpression, ModelTemplate, ModelXPath } from '../compiled/types.js';
import { at, modelPath, type Loc } from './diagnostics.js';
import type { Context } from './context.js';

/** The variables visible at a place, and those whose type is unknown because their definition is broken. */
export interface Env {
  readonly types: ReadonlyMap<string, MxType>;
  /** Variables whose definitions failed: expressions using them are not checked (their errors would only echo). */
  readonly poisoned: ReadonlySet<string>;
}

/** An environment with a few more variables. */
export function extend(env: Env, more: Iterable<readonly [string, MxType]>): Env {
  return { types: new Map([...env.types, ...more]), poisoned: env.poisoned };
}

function usesPoisoned(source: string, env: Env): boolean {
  for (const name of env.poisoned) {
    if (new RegExp(`\\$${name}(?![A-Za-z0-9_])`).test(source)) return true;
  }
  return false;
}

/**
 * Compiles the expression at `loc` (a string scalar in the file). Errors are reported;
 * returns undefined when there were any, or when it uses a variable of unknown type.
 */
export function compileExpr(
  ctx: Context,
  loc: Loc,
  source: string,
  env: Env,
  expected?: MxType,
): ModelExpression | undefined {
  if (usesPoisoned(source, env)) return undefined;
  const result = compileExpression(source, {
    schema: ctx.domain,
    variables: env.types,
    ...(expected === undefined ? {} : { expectedType: expected }),
  });
  if (!result.ok) {
    for (const error of result.errors) ctx.diag.languageError(loc, error);
    return undefined;
  }
  const type = result.expression.type;
  if (expected !== undefined && !isAssignable(type, expected, ctx.domain)) {
    ctx.diag.error(
      loc,
      ModelErrorCode.TypeMismatch,
      `The expression is ${formatType(type)}, but ${formatType(expected)} is expected here.`,
      '',
    );
    return undefined;
  }
  return { source, type, compiled: result.expression, path: modelPath(loc) };
}

/** Compiles an XPath constraint on `entity` at `loc`. */
export function compileXPathAt(
  ctx: Context,
  loc: Loc,
  source: string,
  entity: string,
  env: Env,
): ModelXPath | undefined {
  if (usesPoisoned(source, env)) return undefined;
  const result = compileXPath(source, { schema: ctx.domain, entity, variables: env.types });
  if (!result.ok) {
    for (const error of result.errors) ctx.diag.languageError(loc, error);
    return undefined;
  }
  return { source, entity, query: result.query, path: modelPath(loc) };
}

const PRIMITIVE_KINDS = new Set([
  'String',
  'Integer',
  'Long',
  'Decimal',
  'Boolean',
  'DateTime',
  'Enumeration',
  'Empty',
]);

/**
 * Compiles a text template with `{1}`, `{2}` placeholders and its parameter expressions.
 * `loc` is the element holding `textKey` and `paramsKey`.
 */
export function compileTemplate(
  ctx: Context,
  loc: Loc,
  text: string,
  parameters: readonly string[] | undefined,
  env: Env,
  textKey = 'template',
  paramsKey = 'parameters',
): ModelTemplate | undefined {
  const params = parameters ?? [];
  let ok = true;
  for (const match of text.matchAll(/\{(\d+)\}/g)) {
    const n = Number(match[1]);
    if (n < 1 || n > params.length) {
      ok = false;
      const offset = match.index;
      const position = loc.file.positionInScalar([...loc.path, textKey], offset);
      ctx.diag.errors.push({
        code: ModelErrorCode.InvalidArguments,
        file: loc.file.path,
        line: position.line,
        column: position.column,
        path: modelPath(at(loc, textKey)),
        message: `Placeholder {${n}} has no parameter: ${params.length === 0 ? 'there are none' : `there ${params.length === 1 ? 'is 1' : `are ${params.length}`}`}.`,
        hint: `Add expressions under ${paramsKey}, one per placeholder.`,
      });
    }
  }
  const compiled: ModelExpression[] = [];
  params.forEach((source, i) => {
    const paramLoc = at(loc, paramsKey, i);
    const expression = compileExpr(ctx, paramLoc, source, env);
    if (expression === undefined) {
      ok = false;
      return;
    }
    if (!PRIMITIVE_KINDS.has(expression.type.kind)) {
      ok = false;
      ctx.diag.error(
        paramLoc,
        ModelErrorCode.TypeMismatch,
        `A template parameter must be a simple value, not ${formatType(expression.type)}.`,
        'Use an attribute of the object, e.g. $Order/Number.',
      );
      return;
    }
    compiled.push(expression);
  });
  return ok ? { text, parameters: compiled } : undefined;
}
