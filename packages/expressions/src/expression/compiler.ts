/**
 * The expression type checker and compiler: one pass over the syntax tree that checks every
 * name and type against the domain schema, reports every error it finds, and generates one
 * JavaScript function per expression (see `emit.ts`) that evaluates it without parsing or
 * schema lookups. Library functions are closures the generated code calls.
 */
import { AssociationDirection, type EvaluationContext, type VariableSource } from '../context.js';
import { Decimal } from '../decimal.js';
import { LanguageErrorCode, LineMap, RuntimeErrorCode, type LanguageError } from '../diagnostics.js';
import {
  formatType,
  isAssignable,
  isIntegral,
  isNumeric,
  listType,
  MxTypes,
  numericResultType,
  objectType,
  enumerationType,
  typesEqual,
  entityIsA,
  withArticle,
} from '../mx-types.js';
import { dateTokenValue, isPeriodToken, parseDateToken, DATE_TOKEN_NAMES } from '../runtime/tokens.js';
import type { DomainSchema, EntityInfo, MxObjectValue, MxType, MxValue, SourceSpan } from '../types.js';
import type { BinaryNode, BinaryOperator, ExpressionNode, MemberNode } from './ast.js';
import { FUNCTIONS } from './functions.js';
import { parseExpression } from './parser.js';
import { Emitter, type Emit, type Site } from './emit.js';
import {
  CallSite,
  FastKind,
  fastKindOf,
  Diagnostics,
  Failer,
  firstDayOfWeek,
  valueReader,
  zoneOf,
  type Checked,
  type Evaluator,
} from './support.js';

/** What an expression is checked against. */
export interface ExpressionEnvironment {
  readonly schema: DomainSchema;
  /** The variables in scope, by name without `$`. `$currentUser` is always in scope as `System.User`. */
  readonly variables: ReadonlyMap<string, MxType>;
  /** When given, the expression's type must be assignable to it (e.g. the attribute being set). */
  readonly expectedType?: MxType;
}

/** A path over associations from a variable, e.g. `$Order/Sales.Order_Customer/Sales.Customer_Address`. */
export interface AssociationPath {
  readonly variable: string;
  /** Association names in the order they are walked. */
  readonly path: readonly string[];
}

/** What an expression reads, so the caller can prefetch before evaluating synchronously. */
export interface ExpressionDependencies {
  /** Variables read, by name without `$`. */
  readonly variables: readonly string[];
  /** The longest association paths walked from each variable (prefixes are left out). */
  readonly associationPaths: readonly AssociationPath[];
}

/** An expression compiled once, evaluated many times. */
export interface CompiledExpression {
  readonly source: string;
  /** The type of the values it produces (the expected type, when one was given). */
  readonly type: MxType;
  readonly dependencies: ExpressionDependencies;
  /**
   * Evaluates the expression. Throws {@link ExpressionRuntimeError} on Mendix run-time errors
   * (division by zero, a member of an empty object, an unparsable `parseInteger` input...).
   * Needs no `this`: it can be passed around on its own.
   */
  readonly evaluate: (variables: VariableSource, context: EvaluationContext) => MxValue;
}

/** The result of {@link compileExpression}. */
export type CompileExpressionResult =
  | { readonly ok: true; readonly expression: CompiledExpression }
  | { readonly ok: false; readonly errors: readonly LanguageError[] };

const {
  String: STRING,
  Integer: INTEGER,
  Long: LONG,
  Decimal: DECIMAL,
  Boolean: BOOLEAN,
  DateTime: DATETIME,
} = MxTypes;
const INT_MAX = 2_147_483_647n;
const LONG_MAX = 2n ** 63n - 1n;
const USER_ENTITY = 'System.User';

/**
 * Parses, type-checks and compiles an expression. Reports every error the parser and checker
 * can find, each with its span in `source`; never throws.
 */
export function compileExpression(source: string, env: ExpressionEnvironment): CompileExpressionResult {
  const parsed = parseExpression(source);
  const compiler = new ExpressionCompiler(source, env);
  let root: Node;
  try {
    root = compiler.check(parsed.ast);
  } catch (error) {
    // A schema implementation that throws is a bug on its side; report it at the whole expression.
    const span = new LineMap(source).span(0, source.length);
    return {
      ok: false,
      errors: [
        ...parsed.errors,
        {
          code: LanguageErrorCode.ExprTypeMismatch,
          message: `The expression could not be checked: ${error instanceof Error ? error.message : String(error)}`,
          span,
        },
      ],
    };
  }
  const errors = [...parsed.errors, ...compiler.diagnostics.errors];
  let type = root.type;
  let widen = false;
  const expected = env.expectedType;
  if (errors.length === 0 && type !== undefined && expected !== undefined) {
    if (!isAssignable(type, expected, env.schema)) {
      compiler.diagnostics.report(
        LanguageErrorCode.ExprTypeMismatch,
        `The expression is ${withArticle(type)} but ${withArticle(expected)} is expected`,
        root.span,
        expectedHint(type, expected),
      );
      errors.push(...compiler.diagnostics.errors);
    } else {
      widen = expected.kind === 'Decimal' && isIntegral(type);
      type = expected;
    }
  }
  if (errors.length > 0 || type === undefined) {
    return { ok: false, errors: errors.length > 0 ? sortErrors(errors) : compiler.diagnostics.errors };
  }
  const emitter = new Emitter();
  const code = root.emit(emitter);
  const evaluate = emitter.build(widen ? `R.toDecimalOrEmpty(${code})` : code);
  return {
    ok: true,
    expression: {
      source,
      type,
      dependencies: compiler.dependencies(),
      evaluate,
    },
  };
}

function sortErrors(errors: LanguageError[]): LanguageError[] {
  return errors.sort((a, b) => a.span.start.offset - b.span.start.offset);
}

function expectedHint(actual: MxType, expected: MxType): string | undefined {
  if (expected.kind === 'String') return 'Convert it with toString(...) or a format function.';
  if (isIntegral(expected) && actual.kind === 'Decimal')
    return 'Round it with round(...), floor(...) or ceil(...).';
  if (expected.kind === 'Decimal' && actual.kind === 'String') return 'Parse it with parseDecimal(...).';
  if (isIntegral(expected) && actual.kind === 'String') return 'Parse it with parseInteger(...).';
  return undefined;
}

/** The closest candidate to a misspelt name, if one is close. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const lower = name.toLowerCase();
  for (const candidate of candidates) {
    if (candidate.toLowerCase() === lower) return candidate;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? best : undefined;
}

/** Edit distance counting an adjacent transposition as one edit (optimal string alignment). */
function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i];
    if (row === undefined) continue;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        value = Math.min(value, at(i - 2, j - 2) + 1);
      row[j] = value;
    }
  }
  return at(a.length, b.length);
}

/** A checked node: its type, and how to write it as generated code. */
interface Node {
  readonly type: MxType | undefined;
  readonly span: SourceSpan;
  readonly literal?: { readonly value: MxValue };
  readonly emit: Emit;
  /** Never empty and always of its type's JS type (comparisons, concatenations...): no checks needed. */
  readonly certain?: boolean;
}

/** The kinds of a value in a concatenation, as `R.text` reads them. */
function textKindOf(type: MxType): number | undefined {
  switch (type.kind) {
    case 'String':
      return 0;
    case 'Integer':
    case 'Long':
      return 1;
    case 'Decimal':
      return 2;
    case 'Empty':
      return 3;
    default:
      return undefined;
  }
}

/** A node whose evaluator is generated on first use (function arguments compile to functions of their own). */
function asChecked(node: Node): Checked {
  let evaluator: Evaluator | undefined;
  return {
    type: node.type,
    span: node.span,
    ...(node.literal === undefined ? {} : { literal: node.literal }),
    get ev(): Evaluator {
      if (evaluator === undefined) {
        const emitter = new Emitter();
        evaluator = emitter.build(node.emit(emitter));
      }
      return evaluator;
    },
  };
}

class ExpressionCompiler {
  readonly diagnostics = new Diagnostics();
  private readonly failer: Failer;
  private readonly schema: DomainSchema;
  private readonly usedVariables = new Set<string>();
  private readonly paths = new Map<string, AssociationPath>();

  constructor(
    source: string,
    private readonly env: ExpressionEnvironment,
  ) {
    this.failer = new Failer(source);
    this.schema = env.schema;
  }

  dependencies(): { variables: readonly string[]; associationPaths: readonly AssociationPath[] } {
    const all = [...this.paths.values()];
    const longest = all.filter(
      (p) =>
        !all.some(
          (q) =>
            q !== p &&
            q.variable === p.variable &&
            q.path.length > p.path.length &&
            p.path.every((step, i) => q.path[i] === step),
        ),
    );
    return { variables: [...this.usedVariables], associationPaths: longest };
  }

  private site(span: SourceSpan, what: string): Site {
    return { failer: this.failer, span, what };
  }

  private unknown(span: SourceSpan): Node {
    return { type: undefined, span, emit: () => 'null' };
  }

  private literalNode(type: MxType, value: MxValue, span: SourceSpan): Node {
    return {
      type,
      span,
      literal: { value },
      certain: value !== null,
      emit: (e) => (value === null ? 'null' : typeof value === 'boolean' ? String(value) : e.constant(value)),
    };
  }

  /** A node computed by a closure (tokens, constants, library functions): generated code calls it. */
  private closureNode(type: MxType, ev: Evaluator, span: SourceSpan): Node {
    return { type, span, emit: (e) => `${e.constant(ev)}(v, c)` };
  }

  private report(code: LanguageErrorCode, message: string, span: SourceSpan, hint?: string): void {
    this.diagnostics.report(code, message, span, hint);
  }

  check(node: ExpressionNode): Node {
    switch (node.kind) {
      case 'String':
        return this.literalNode(STRING, node.value, node.span);
      case 'Number':
        return this.number(node.text, node.integral, node.span);
      case 'Boolean':
        return this.literalNode(BOOLEAN, node.value, node.span);
      case 'Empty':
        return this.literalNode(MxTypes.Empty, null, node.span);
      case 'Variable':
        return this.variable(node.name, node.span);
      case 'Member':
        return this.member(node);
      case 'Token':
        return this.token(node.name, node.span);
      case 'Constant':
        return this.constant(node.name, node.span);
      case 'QualifiedName':
        return this.qualifiedName(node.name, node.span);
      case 'Call':
        return this.call(node.name, node.args, node.span, node.nameSpan);
      case 'Unary':
        return node.operator === '-'
          ? this.negate(node.operand, node.span)
          : this.not(node.operand, node.span);
      case 'Binary':
        return this.binary(node);
      case 'If':
        return this.conditional(node.condition, node.then, node.else, node.span);
      default:
        return this.unknown(node.span);
    }
  }

  // ---- leaves ------------------------------------------------------------------------

  private number(text: string, integral: boolean, span: SourceSpan): Node {
    if (integral) {
      const value = BigInt(text);
      if (value > LONG_MAX) {
        this.report(
          LanguageErrorCode.ExprInvalidLiteral,
          `The integer ${text} is larger than the largest Long (${LONG_MAX})`,
          span,
          'Write it as a Decimal, e.g. with a fraction: `' + text + '.0`.',
        );
        return this.unknown(span);
      }
      return this.literalNode(value > INT_MAX ? LONG : INTEGER, value, span);
    }
    return this.literalNode(DECIMAL, new Decimal(text), span);
  }

  /** Code reading a value whose type is `type`: the fast check inline, the careful reader otherwise. */
  private readCode(e: Emitter, valueCode: string, type: MxType, what: string, span: SourceSpan): string {
    const read = valueReader(type, this.failer);
    const t = e.temp();
    return `(${t} = ${valueCode}, R.fast(${fastKindOf(type)}, ${t}) ? ${t} : ${e.constant((value: MxValue | undefined) => read(value, what, span))}(${t}))`;
  }

  private variable(name: string, span: SourceSpan): Node {
    const declared = this.env.variables.get(name);
    if (declared === undefined && name === 'currentUser') {
      this.usedVariables.add(name);
      const type = objectType(USER_ENTITY);
      return { type, span, emit: (e) => this.readCode(e, 'c.currentUser', type, '$currentUser', span) };
    }
    if (declared === undefined) {
      const suggestion = closest(name, this.env.variables.keys());
      this.report(
        LanguageErrorCode.ExprUnknownVariable,
        `Unknown variable $${name}`,
        span,
        suggestion !== undefined
          ? `Did you mean $${suggestion}?`
          : this.env.variables.size > 0
            ? `Variables in scope: ${[...this.env.variables.keys()].map((v) => `$${v}`).join(', ')}.`
            : 'No variables are in scope here.',
      );
      return this.unknown(span);
    }
    this.usedVariables.add(name);
    const what = `The variable $${name}`;
    const read = valueReader(declared, this.failer);
    const failer = this.failer;
    const slow = (value: MxValue | undefined): MxValue =>
      value === undefined
        ? failer.fail(RuntimeErrorCode.BadValue, `${what} was not given a value`, span)
        : read(value, what, span);
    return {
      type: declared,
      span,
      emit: (e) => {
        const t = e.temp();
        return `(${t} = v.get(${e.constant(name)}), R.fast(${fastKindOf(declared)}, ${t}) ? ${t} : ${e.constant(slow)}(${t}))`;
      },
    };
  }

  private token(name: string, span: SourceSpan): Node {
    const date = parseDateToken(name);
    if (date !== undefined) {
      if (date.edge === 'Now') return { type: DATETIME, span, emit: () => 'c.now' };
      return this.closureNode(
        DATETIME,
        (_v, c) => new Date(dateTokenValue(date, c.now.getTime(), zoneOf(c), firstDayOfWeek(c))),
        span,
      );
    }
    if (name === 'CurrentUser') {
      const type = objectType(USER_ENTITY);
      return { type, span, emit: (e) => this.readCode(e, 'c.currentUser', type, '[%CurrentUser%]', span) };
    }
    if (isPeriodToken(name) || name.startsWith('UserRole_') || name === 'CurrentObject') {
      this.report(
        LanguageErrorCode.ExprUnknownToken,
        `The token [%${name}%] can only be used in XPath constraints`,
        span,
        isPeriodToken(name)
          ? 'Use addDays(...), addHours(...) and the like to shift dates in expressions.'
          : undefined,
      );
      return this.unknown(span);
    }
    const suggestion = closest(name, [...DATE_TOKEN_NAMES, 'CurrentUser']);
    this.report(
      LanguageErrorCode.ExprUnknownToken,
      `Unknown token [%${name}%]`,
      span,
      suggestion !== undefined
        ? `Did you mean [%${suggestion}%]?`
        : 'Tokens are e.g. [%CurrentDateTime%], [%BeginOfCurrentDay%], [%CurrentUser%].',
    );
    return this.unknown(span);
  }

  private constant(name: string, span: SourceSpan): Node {
    const type = this.schema.constant(name);
    if (type === undefined) {
      this.report(
        LanguageErrorCode.ExprUnknownConstant,
        `Unknown constant @${name}`,
        span,
        'Constants are written @Module.ConstantName.',
      );
      return this.unknown(span);
    }
    const read = valueReader(type, this.failer);
    const what = `The constant @${name}`;
    return this.closureNode(type, (_v, c) => read(c.constant(name), what, span), span);
  }

  private qualifiedName(name: string, span: SourceSpan): Node {
    const lastDot = name.lastIndexOf('.');
    const parts = name.split('.');
    if (parts.length === 3) {
      const enumName = name.slice(0, lastDot);
      const key = name.slice(lastDot + 1);
      const info = this.schema.enumeration(enumName);
      if (info === undefined) {
        this.report(
          LanguageErrorCode.ExprUnknownEnumeration,
          `Unknown enumeration ${enumName}`,
          span,
          'Enumeration values are written Module.Enumeration.Value.',
        );
        return this.unknown(span);
      }
      if (!info.values.some((v) => v.key === key)) {
        const suggestion = closest(
          key,
          info.values.map((v) => v.key),
        );
        this.report(
          LanguageErrorCode.ExprUnknownEnumeration,
          `The enumeration ${enumName} has no value ${key}`,
          span,
          suggestion !== undefined
            ? `Did you mean ${enumName}.${suggestion}?`
            : `Its values are: ${info.values.map((v) => v.key).join(', ')}.`,
        );
        return this.unknown(span);
      }
      return this.literalNode(enumerationType(enumName), key, span);
    }
    if (parts.length === 2 && this.schema.constant(name) !== undefined) {
      this.report(
        LanguageErrorCode.ExprSyntax,
        `${name} is a constant and must be written @${name}`,
        span,
        `Write @${name}.`,
      );
      return this.unknown(span);
    }
    this.report(
      LanguageErrorCode.ExprSyntax,
      `Unexpected name ${name}`,
      span,
      'Enumeration values are written Module.Enumeration.Value, constants @Module.Constant, variables $Name.',
    );
    return this.unknown(span);
  }

  // ---- members -----------------------------------------------------------------------

  private rootPath(node: MemberNode): { variable: string; path: string[] } | undefined {
    const steps: string[] = [];
    let current: ExpressionNode = node;
    while (current.kind === 'Member') {
      steps.unshift(current.member);
      current = current.object;
    }
    if (current.kind !== 'Variable') return undefined;
    return { variable: current.name, path: steps };
  }

  private recordPath(node: MemberNode, includeLast: boolean): void {
    const root = this.rootPath(node);
    if (root === undefined) return;
    const steps = includeLast ? root.path : root.path.slice(0, -1);
    const associations = steps.filter((step) => step.includes('.') && this.schema.entity(step) === undefined);
    if (associations.length === 0) return;
    const path = { variable: root.variable, path: associations };
    this.paths.set(`${path.variable}/${path.path.join('/')}`, path);
  }

  private member(node: MemberNode): Node {
    const object = this.check(node.object);
    const type = object.type;
    if (type === undefined) return this.unknown(node.span);
    if (type.kind === 'List') {
      this.report(
        LanguageErrorCode.ExprTypeMismatch,
        `A list of ${type.entity} has no member ${node.member}`,
        node.memberSpan,
        'Read members of one object: loop over the list, or use a list operation such as Find or Head.',
      );
      return this.unknown(node.span);
    }
    if (type.kind !== 'Object') {
      this.report(
        LanguageErrorCode.ExprTypeMismatch,
        `${capitalize(withArticle(type))} has no member ${node.member}`,
        node.memberSpan,
        '`/` reads an attribute or association of an object; division is written `div` or `:`.',
      );
      return this.unknown(node.span);
    }
    const entity = this.schema.entity(type.entity);
    if (entity === undefined) {
      this.report(LanguageErrorCode.ExprUnknownMember, `Unknown entity ${type.entity}`, node.object.span);
      return this.unknown(node.span);
    }
    const objectSite = this.site(object.span, `The object whose ${node.member} is read`);
    if (!node.member.includes('.')) return this.attribute(entity, node, object, objectSite);
    const association = entity.association(node.member);
    if (association !== undefined) {
      const forward = entity.isA(association.owner);
      if (!forward && !entity.isA(association.target)) {
        this.report(
          LanguageErrorCode.ExprUnknownMember,
          `The association ${node.member} does not connect ${type.entity}`,
          node.memberSpan,
        );
        return this.unknown(node.span);
      }
      const direction = forward ? AssociationDirection.OwnerToTarget : AssociationDirection.TargetToOwner;
      const other = forward ? association.target : association.owner;
      const single = forward && association.type === 'Reference';
      const resultType = single ? objectType(other) : listType(other);
      this.recordPath(node, true);
      const name = node.member;
      const span = node.span;
      const what = `${name} of ${type.entity}`;
      const read = valueReader(resultType, this.failer);
      const failer = this.failer;
      const slow = (value: MxValue | readonly MxObjectValue[] | undefined): MxValue => {
        if (single && Array.isArray(value)) {
          return failer.fail(
            RuntimeErrorCode.BadValue,
            `${what} should be one object but follow() returned a list`,
            span,
          );
        }
        return read(value, what, span);
      };
      return {
        type: resultType,
        span,
        emit: (e) => {
          const t = e.temp();
          const followed = `c.follow(R.object(${e.child(object.emit)}, ${e.constant(objectSite)}), ${e.constant(name)}, ${e.constant(direction)})`;
          const fastKind = single ? FastKind.Object : FastKind.None;
          return `(${t} = ${followed}, R.fast(${fastKind}, ${t}) ? ${t} : ${e.constant(slow)}(${t}))`;
        },
      };
    }
    const named = this.schema.entity(node.member);
    if (named !== undefined) {
      if (entity.isA(node.member)) return { type, span: node.span, emit: object.emit };
      this.report(
        LanguageErrorCode.ExprUnknownMember,
        named.isA(type.entity)
          ? `${node.member} specialises ${type.entity}; a path cannot cast to it`
          : `${node.member} is not the entity at this point of the path (${type.entity})`,
        node.memberSpan,
        named.isA(type.entity) ? 'Use an inheritance split and a cast in the microflow.' : undefined,
      );
      return this.unknown(node.span);
    }
    this.report(
      LanguageErrorCode.ExprUnknownMember,
      `${type.entity} has no association ${node.member}`,
      node.memberSpan,
      'Associations are written with their module, e.g. Sales.Order_Customer.',
    );
    return this.unknown(node.span);
  }

  private attribute(entity: EntityInfo, node: MemberNode, object: Node, objectSite: Site): Node {
    const attribute = entity.attribute(node.member);
    if (attribute === undefined) {
      this.report(
        LanguageErrorCode.ExprUnknownMember,
        `${entity.name} has no attribute ${node.member}`,
        node.memberSpan,
        'Attribute names are case-sensitive; associations are written with their module, e.g. Sales.Order_Customer.',
      );
      return this.unknown(node.span);
    }
    this.recordPath(node, false);
    const name = attribute.name;
    const what = `${entity.name}/${name}`;
    const span = node.span;
    return {
      type: attribute.type,
      span,
      emit: (e) =>
        this.readCode(
          e,
          `R.object(${e.child(object.emit)}, ${e.constant(objectSite)}).get(${e.constant(name)})`,
          attribute.type,
          what,
          span,
        ),
    };
  }

  // ---- calls -------------------------------------------------------------------------

  private call(
    name: string,
    argNodes: readonly ExpressionNode[],
    span: SourceSpan,
    nameSpan: SourceSpan,
  ): Node {
    const args = argNodes.map((arg) => this.check(arg));
    const definition = FUNCTIONS.get(name);
    if (definition === undefined) {
      const suggestion = closest(name, FUNCTIONS.keys());
      this.report(
        LanguageErrorCode.ExprUnknownFunction,
        `Unknown function ${name}`,
        nameSpan,
        suggestion !== undefined
          ? `Did you mean ${suggestion}?`
          : 'See the function list in the README of @runplane/expressions.',
      );
      return this.unknown(span);
    }
    if (args.some((a) => a.type === undefined)) return this.unknown(span);
    const site = new CallSite(
      name,
      args.map(asChecked),
      span,
      nameSpan,
      this.diagnostics,
      this.failer,
      this.schema,
    );
    const result = definition.check(site);
    if (result === undefined) return this.unknown(span);
    const inline = result.inline;
    if (inline !== undefined) {
      return {
        type: result.type,
        span,
        // Inlined library calls never give empty.
        certain: true,
        emit: (e) => {
          const code = inline(
            (index) => {
              const arg = args[index];
              return arg === undefined ? 'null' : e.child(arg.emit);
            },
            (value) => e.constant(value),
          );
          return `(${code})`;
        },
      };
    }
    return this.closureNode(result.type, result.ev, span);
  }

  // ---- operators ---------------------------------------------------------------------

  private negate(operandNode: ExpressionNode, span: SourceSpan): Node {
    const operand = this.check(operandNode);
    const type = operand.type;
    if (type === undefined) return this.unknown(span);
    if (!isNumeric(type)) {
      this.report(
        LanguageErrorCode.ExprTypeMismatch,
        `Unary minus needs a number but got ${withArticle(type)}`,
        operand.span,
      );
      return this.unknown(span);
    }
    const literal = operand.literal?.value;
    if (typeof literal === 'bigint') {
      const value = -literal;
      return this.literalNode(value < -INT_MAX - 1n ? LONG : INTEGER, value, span);
    }
    if (literal instanceof Decimal) return this.literalNode(type, literal.neg(), span);
    const site = this.site(span, 'The number to negate');
    const operandSite = this.site(operand.span, 'The number to negate');
    return {
      type,
      span,
      emit: (e) =>
        isIntegral(type)
          ? `R.negI(${e.child(operand.emit)}, ${e.constant(site)})`
          : `R.negD(${e.child(operand.emit)}, ${e.constant(operandSite)})`,
    };
  }

  private not(operandNode: ExpressionNode, span: SourceSpan): Node {
    const operand = this.check(operandNode);
    if (operand.type === undefined) return this.unknown(span);
    if (operand.type.kind !== 'Boolean') {
      this.report(
        LanguageErrorCode.ExprTypeMismatch,
        `not needs a Boolean but got ${withArticle(operand.type)}`,
        operand.span,
      );
      return this.unknown(span);
    }
    const site = this.site(operand.span, 'The operand of not');
    return {
      type: BOOLEAN,
      span,
      certain: true,
      emit: (e) => `!${this.booleanCode(e, operand, site)}`,
    };
  }

  private binary(node: BinaryNode): Node {
    const left = this.check(node.left);
    const right = this.check(node.right);
    if (left.type === undefined || right.type === undefined) return this.unknown(node.span);
    switch (node.operator) {
      case 'and':
      case 'or':
        return this.logical(node.operator, left, right, node);
      case '=':
      case '!=':
      case '<':
      case '<=':
      case '>':
      case '>=':
        return this.comparison(node.operator, left, right, node);
      case '+':
        if (left.type.kind === 'String' || right.type.kind === 'String')
          return this.concatenation(left, right, node);
        return this.arithmetic(node.operator, left, right, node);
      default:
        return this.arithmetic(node.operator, left, right, node);
    }
  }

  /** Code for a Boolean operand: checked for empty unless it cannot be empty. */
  private booleanCode(e: Emitter, node: Node, site: Site): string {
    return node.certain === true ? e.child(node.emit) : `R.bool(${e.child(node.emit)}, ${e.constant(site)})`;
  }

  /** Code for the text of a concatenation operand. */
  private textCode(e: Emitter, node: Node, kind: number): string {
    const literal = node.literal?.value;
    if (typeof literal === 'string') return e.constant(literal);
    if (kind === 0 && node.certain === true) return e.child(node.emit);
    return `R.text(${kind}, ${e.child(node.emit)})`;
  }

  private mismatch(node: BinaryNode, left: MxType, right: MxType, hint?: string): Node {
    this.report(
      LanguageErrorCode.ExprTypeMismatch,
      `The operator ${node.operator} cannot combine ${withArticle(left)} and ${withArticle(right)}`,
      node.operatorSpan,
      hint,
    );
    return this.unknown(node.span);
  }

  private logical(operator: 'and' | 'or', left: Node, right: Node, node: BinaryNode): Node {
    let ok = true;
    for (const side of [left, right]) {
      if (side.type !== undefined && side.type.kind !== 'Boolean') {
        this.report(
          LanguageErrorCode.ExprTypeMismatch,
          `${operator} needs Boolean values but got ${withArticle(side.type)}`,
          side.span,
        );
        ok = false;
      }
    }
    if (!ok) return this.unknown(node.span);
    const what = `The operand of ${operator}`;
    const leftSite = this.site(left.span, what);
    const rightSite = this.site(right.span, what);
    return {
      type: BOOLEAN,
      span: node.span,
      emit: (e) => {
        const a = this.booleanCode(e, left, leftSite);
        const b = this.booleanCode(e, right, rightSite);
        return operator === 'and' ? `(${a} ? ${b} : false)` : `(${a} ? true : ${b})`;
      },
    };
  }

  private arithmetic(operator: BinaryOperator, left: Node, right: Node, node: BinaryNode): Node {
    const lt = left.type ?? MxTypes.Empty;
    const rt = right.type ?? MxTypes.Empty;
    if (!isNumeric(lt) || !isNumeric(rt)) {
      if (lt.kind === 'DateTime' || rt.kind === 'DateTime') {
        return this.mismatch(node, lt, rt, 'Shift dates with addDays(...), subtractHours(...) and the like.');
      }
      if (lt.kind === 'Empty' || rt.kind === 'Empty') {
        return this.mismatch(node, lt, rt, '`empty` has no value to calculate with.');
      }
      return this.mismatch(node, lt, rt);
    }
    const resultType = operator === 'div' ? DECIMAL : numericResultType(lt, rt);
    const integral = resultType.kind !== 'Decimal';
    const helper = {
      '+': integral ? 'addI' : 'addD',
      '-': integral ? 'subI' : 'subD',
      '*': integral ? 'mulI' : 'mulD',
      mod: integral ? 'modI' : 'modD',
      div: 'divD',
    }[operator as '+' | '-' | '*' | 'mod' | 'div'];
    const site = this.site(node.span, `An operand of ${operator}`);
    // Integer literals in Decimal arithmetic are converted once, at compile time.
    const decimalOperand =
      (side: Node) =>
      (e: Emitter): string => {
        const literal = side.literal?.value;
        if (!integral && typeof literal === 'bigint') return e.constant(new Decimal(literal));
        return e.child(side.emit);
      };
    return {
      type: resultType,
      span: node.span,
      emit: (e) =>
        `R.${helper}(${decimalOperand(left)(e)}, ${decimalOperand(right)(e)}, ${e.constant(site)})`,
    };
  }

  private concatenation(left: Node, right: Node, node: BinaryNode): Node {
    const lk = left.type === undefined ? undefined : textKindOf(left.type);
    const rk = right.type === undefined ? undefined : textKindOf(right.type);
    if (lk === undefined || rk === undefined) {
      return this.mismatch(
        node,
        left.type ?? MxTypes.Empty,
        right.type ?? MxTypes.Empty,
        'Convert the value with toString(...) first.',
      );
    }
    return {
      type: STRING,
      span: node.span,
      certain: true,
      emit: (e) => `(${this.textCode(e, left, lk)} + ${this.textCode(e, right, rk)})`,
    };
  }

  private comparison(operator: BinaryOperator, left: Node, right: Node, node: BinaryNode): Node {
    const lt = left.type ?? MxTypes.Empty;
    const rt = right.type ?? MxTypes.Empty;
    const equality = operator === '=' || operator === '!=';
    const negate = operator === '!=';
    const span = node.span;
    const boolean = (emit: Emit): Node => ({ type: BOOLEAN, span, emit, certain: true });
    const site = this.site(left.span, `An operand of ${operator}`);
    // bigints and strings compare with the operator itself; only empty needs a check.
    const primitive = (): Node =>
      boolean((e) => {
        const a = e.temp();
        const b = e.temp();
        return `((${a} = ${e.child(left.emit)}) === null || (${b} = ${e.child(right.emit)}) === null ? R.order(${a}, ${b}, ${e.constant(site)}, ${e.constant(right.span)}) : ${a} ${operator} ${b})`;
      });
    const ordered = (helper: string): Node =>
      boolean(
        (e) =>
          `(R.${helper}(${e.child(left.emit)}, ${e.child(right.emit)}, ${e.constant(site)}, ${e.constant(right.span)}) ${operator} 0)`,
      );
    const equal = (helper: string): Node =>
      boolean((e) => `${negate ? '!' : ''}R.${helper}(${e.child(left.emit)}, ${e.child(right.emit)})`);
    // Strings, enumeration keys, booleans and bigints are equal exactly when ===, empty included.
    const identical = (): Node =>
      boolean((e) => `(${e.child(left.emit)} ${negate ? '!==' : '==='} ${e.child(right.emit)})`);
    if (lt.kind === 'Empty' || rt.kind === 'Empty') {
      if (!equality) return this.mismatch(node, lt, rt, 'Only = and != can compare with `empty`.');
      const other = lt.kind === 'Empty' ? right : left;
      return boolean((e) => `(R.isEmpty(${e.child(other.emit)}) !== ${negate})`);
    }
    if (isNumeric(lt) && isNumeric(rt)) {
      if (isIntegral(lt) && isIntegral(rt)) return equality ? identical() : primitive();
      return equality ? equal('eqN') : ordered('orderD');
    }
    if (lt.kind === 'String' && rt.kind === 'String') return equality ? identical() : primitive();
    if (lt.kind === 'DateTime' && rt.kind === 'DateTime') return equality ? equal('eqT') : ordered('orderT');
    if (!equality) {
      return this.mismatch(node, lt, rt, `${operator} orders numbers, strings and dates.`);
    }
    if (lt.kind === 'Boolean' && rt.kind === 'Boolean') return identical();
    if (lt.kind === 'Enumeration' && rt.kind === 'Enumeration') {
      if (lt.enumeration !== rt.enumeration) return this.mismatch(node, lt, rt);
      return identical();
    }
    if (
      (lt.kind === 'Enumeration' && rt.kind === 'String') ||
      (lt.kind === 'String' && rt.kind === 'Enumeration')
    ) {
      const enumType = lt.kind === 'Enumeration' ? lt : rt;
      const key = (lt.kind === 'String' ? left : right).literal?.value;
      return this.mismatch(
        node,
        lt,
        rt,
        typeof key === 'string' && enumType.kind === 'Enumeration'
          ? `Compare with the enumeration value ${enumType.enumeration}.${key}, or compare getKey(...) with the string.`
          : 'Compare with an enumeration value (Module.Enumeration.Value), or compare getKey(...) with the string.',
      );
    }
    if (lt.kind === 'Object' && rt.kind === 'Object') {
      if (!entityIsA(this.schema, lt.entity, rt.entity) && !entityIsA(this.schema, rt.entity, lt.entity)) {
        return this.mismatch(node, lt, rt, 'Objects of unrelated entities are never equal.');
      }
      return equal('eqO');
    }
    return this.mismatch(node, lt, rt);
  }

  private conditional(
    conditionNode: ExpressionNode,
    thenNode: ExpressionNode,
    elseNode: ExpressionNode,
    span: SourceSpan,
  ): Node {
    const condition = this.check(conditionNode);
    const whenTrue = this.check(thenNode);
    const whenFalse = this.check(elseNode);
    if (condition.type !== undefined && condition.type.kind !== 'Boolean') {
      this.report(
        LanguageErrorCode.ExprTypeMismatch,
        `The condition of if must be a Boolean but is ${withArticle(condition.type)}`,
        condition.span,
      );
      return this.unknown(span);
    }
    if (condition.type === undefined || whenTrue.type === undefined || whenFalse.type === undefined) {
      return this.unknown(span);
    }
    const type = this.unify(whenTrue.type, whenFalse.type);
    if (type === undefined) {
      this.report(
        LanguageErrorCode.ExprTypeMismatch,
        `The branches of if have different types: ${formatType(whenTrue.type)} and ${formatType(whenFalse.type)}`,
        whenFalse.span,
        'Both branches must give values of one type.',
      );
      return this.unknown(span);
    }
    const widen =
      (branch: Node) =>
      (e: Emitter): string =>
        type.kind === 'Decimal' && branch.type !== undefined && isIntegral(branch.type)
          ? `R.toDecimalOrEmpty(${e.child(branch.emit)})`
          : e.child(branch.emit);
    const site = this.site(condition.span, 'The condition of if');
    return {
      type,
      span,
      emit: (e) =>
        `(${this.booleanCode(e, condition, site)} ? ${widen(whenTrue)(e)} : ${widen(whenFalse)(e)})`,
    };
  }

  private unify(a: MxType, b: MxType): MxType | undefined {
    if (a.kind === 'Empty') return b;
    if (b.kind === 'Empty') return a;
    if (isNumeric(a) && isNumeric(b)) return numericResultType(a, b);
    if ((a.kind === 'Object' && b.kind === 'Object') || (a.kind === 'List' && b.kind === 'List')) {
      if (entityIsA(this.schema, a.entity, b.entity)) return b;
      if (entityIsA(this.schema, b.entity, a.entity)) return a;
      return undefined;
    }
    return typesEqual(a, b) ? a : undefined;
  }
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
