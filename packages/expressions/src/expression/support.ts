/**
 * The pieces the expression compiler and its function library share: compiled nodes,
 * run-time failures at a span, value validation and coercions.
 */
import type { EvaluationContext, VariableSource } from '../context.js';
import { Decimal, isDecimal } from '../decimal.js';
import {
  ExpressionRuntimeError,
  LanguageErrorCode,
  RuntimeErrorCode,
  type LanguageError,
} from '../diagnostics.js';
import { isIntegral, isNumeric, withArticle } from '../mx-types.js';
import { effectiveZone } from '../runtime/calendar.js';
import { dateLocale } from '../runtime/locale.js';
import type { DomainSchema, MxType, MxValue, SourceSpan } from '../types.js';
import { isMxList, isMxObject } from '../values.js';

/** A compiled expression node: a closure from variables and context to a value. */
export type Evaluator<T extends MxValue = MxValue> = (
  variables: VariableSource,
  context: EvaluationContext,
) => T;

/** A type-checked, compiled node. `type` is undefined after an error, so that errors do not cascade. */
export interface Checked {
  readonly type: MxType | undefined;
  readonly ev: Evaluator;
  readonly span: SourceSpan;
  /** Present when the node is a literal: its value, for checks at compile time (patterns, ranges). */
  readonly literal?: { readonly value: MxValue };
}

/** Throws run-time errors positioned in one expression's source. */
export class Failer {
  constructor(readonly source: string) {}

  fail(code: RuntimeErrorCode, message: string, span: SourceSpan, cause?: unknown): never {
    throw new ExpressionRuntimeError({ code, message, span, source: this.source, cause });
  }

  empty(what: string, span: SourceSpan): never {
    return this.fail(RuntimeErrorCode.EmptyValue, `${what} is empty`, span);
  }
}

const MIN_LONG = -(2n ** 63n);
const MAX_LONG = 2n ** 63n - 1n;

/** The value if it fits a 64-bit Long; an overflow error otherwise. */
export function checkLong(value: bigint, failer: Failer, span: SourceSpan): bigint {
  if (value < MIN_LONG || value > MAX_LONG) {
    failer.fail(
      RuntimeErrorCode.Overflow,
      `The result ${value.toString()} is outside the range of a Long`,
      span,
    );
  }
  return value;
}

/** True when a bigint fits a 64-bit Long. */
export function fitsLong(value: bigint): boolean {
  return value >= MIN_LONG && value <= MAX_LONG;
}

/** Converts a non-empty integral or decimal value to Decimal. */
export function toDecimalValue(value: bigint | Decimal): Decimal {
  return typeof value === 'bigint' ? new Decimal(value) : value;
}

/** The zone an evaluation uses for non-UTC date functions. */
export function zoneOf(context: EvaluationContext): string {
  return effectiveZone(context.timeZone);
}

/** The ISO first day of the week of the context's locale. */
export function firstDayOfWeek(context: EvaluationContext): number {
  return dateLocale(context.locale).firstDayOfWeek;
}

/**
 * A function that checks a value read from a variable, attribute or constant against its
 * declared type, normalising what can be normalised (Decimals of another decimal.js
 * constructor, integral JS numbers for Integer, Long and Decimal).
 */
export type ValueReader = (value: MxValue | undefined, what: string, span: SourceSpan) => MxValue;

/** Which cheap check proves a value already has the right JS type for its Mendix type. */
export const FastKind = {
  String: 0,
  BigInt: 1,
  Decimal: 2,
  Boolean: 3,
  Date: 4,
  Object: 5,
  None: 6,
} as const;
/** Which cheap check proves a value already has the right JS type for its Mendix type. */
export type FastKind = (typeof FastKind)[keyof typeof FastKind];

/** The cheap check for a type. */
export function fastKindOf(type: MxType): FastKind {
  switch (type.kind) {
    case 'String':
    case 'Enumeration':
      return FastKind.String;
    case 'Integer':
    case 'Long':
      return FastKind.BigInt;
    case 'Decimal':
      return FastKind.Decimal;
    case 'Boolean':
      return FastKind.Boolean;
    case 'DateTime':
      return FastKind.Date;
    case 'Object':
      return FastKind.Object;
    default:
      return FastKind.None;
  }
}

/**
 * True when a value needs no validation: empty, or of the JS type its Mendix type uses. One
 * shared function (rather than a closure per type) keeps call sites monomorphic, so the
 * engine inlines it into every compiled node.
 */
export function isFastValue(kind: FastKind, value: unknown): boolean {
  if (value === null) return true;
  switch (kind) {
    case FastKind.String:
      return typeof value === 'string';
    case FastKind.BigInt:
      return typeof value === 'bigint';
    case FastKind.Decimal:
      return value instanceof Decimal;
    case FastKind.Boolean:
      return typeof value === 'boolean';
    case FastKind.Date:
      return value instanceof Date && !Number.isNaN(value.getTime());
    case FastKind.Object:
      return (
        typeof value === 'object' &&
        typeof (value as { get?: unknown }).get === 'function' &&
        typeof (value as { id?: unknown }).id === 'string'
      );
    default:
      return false;
  }
}

/** A reader that validates values of a type, failing with `EXPR_BAD_VALUE` on a wrong JS type. */
export function valueReader(type: MxType, failer: Failer): ValueReader {
  const bad = (value: unknown, what: string, span: SourceSpan): never =>
    failer.fail(
      RuntimeErrorCode.BadValue,
      `${what} should hold ${withArticle(type)} but holds ${describeJs(value)}`,
      span,
    );
  switch (type.kind) {
    case 'String':
    case 'Enumeration':
      return (value, what, span) => {
        if (typeof value === 'string' || value === null) return value;
        if (value === undefined) return null;
        return bad(value, what, span);
      };
    case 'Integer':
    case 'Long':
      return (value, what, span) => {
        if (typeof value === 'bigint' || value === null) return value;
        if (value === undefined) return null;
        if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
        return bad(value, what, span);
      };
    case 'Decimal':
      return (value, what, span) => {
        if (value instanceof Decimal || value === null) return value;
        if (value === undefined) return null;
        if (isDecimal(value) || typeof value === 'bigint') return new Decimal(value);
        if (typeof value === 'number' && Number.isSafeInteger(value)) return new Decimal(value);
        return bad(value, what, span);
      };
    case 'Boolean':
      return (value, what, span) => {
        if (typeof value === 'boolean' || value === null) return value;
        if (value === undefined) return null;
        return bad(value, what, span);
      };
    case 'DateTime':
      return (value, what, span) => {
        if (value instanceof Date) {
          if (Number.isNaN(value.getTime())) return bad(value, what, span);
          return value;
        }
        if (value === null || value === undefined) return null;
        return bad(value, what, span);
      };
    case 'Binary':
      return (value, what, span) => {
        if (value instanceof Uint8Array || value === null) return value;
        if (value === undefined) return null;
        return bad(value, what, span);
      };
    case 'Object':
      return (value, what, span) => {
        if (value === null || value === undefined) return null;
        if (isMxObject(value)) return value;
        return bad(value, what, span);
      };
    case 'List':
      return (value, what, span) => {
        if (value === null || value === undefined) return [];
        if (isMxList(value)) return value;
        return bad(value, what, span);
      };
    default:
      return (value) => (value === undefined ? null : value);
  }
}

function describeJs(value: unknown): string {
  if (value === null) return 'empty';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'an invalid date';
  if (isDecimal(value)) return 'a Decimal';
  if (isMxObject(value)) return `an object of ${(value as { entity: string }).entity}`;
  if (typeof value === 'number') return `the JS number ${value}`;
  return `a ${typeof value}`;
}

/** Collects compile-time errors with positions. */
export class Diagnostics {
  readonly errors: LanguageError[] = [];

  report(code: LanguageErrorCode, message: string, span: SourceSpan, hint?: string): void {
    this.errors.push({
      code,
      message: `${message} at ${span.start.line}:${span.start.column}`,
      ...(hint === undefined ? {} : { hint }),
      span,
    });
  }
}

/** What the function library needs to type-check and compile one call. */
export class CallSite {
  constructor(
    readonly name: string,
    readonly args: readonly Checked[],
    readonly span: SourceSpan,
    readonly nameSpan: SourceSpan,
    readonly diagnostics: Diagnostics,
    readonly failer: Failer,
    readonly schema: DomainSchema,
  ) {}

  /** Checks the argument count; reports and returns false when it is off. */
  arity(min: number, max: number, signature: string): boolean {
    const n = this.args.length;
    if (n >= min && n <= max) return true;
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    this.diagnostics.report(
      LanguageErrorCode.ExprArgumentCount,
      `${this.name} takes ${expected} argument${max === 1 && min === 1 ? '' : 's'} but got ${n}`,
      this.span,
      `Use ${signature}.`,
    );
    return false;
  }

  /** The type of an argument; undefined when it is unknown after an earlier error. */
  typeOf(index: number): MxType | undefined {
    return this.args[index]?.type;
  }

  /**
   * Checks an argument's type. `Empty` is accepted everywhere (it fails at run time where a
   * value is needed, as in Mendix). Unknown types pass silently.
   */
  expect(index: number, accepts: (type: MxType) => boolean, expected: string): boolean {
    const arg = this.args[index];
    if (arg === undefined) return false;
    if (arg.type === undefined) return false;
    if (arg.type.kind === 'Empty' || accepts(arg.type)) return true;
    this.diagnostics.report(
      LanguageErrorCode.ExprTypeMismatch,
      `Argument ${index + 1} of ${this.name} must be ${expected} but is ${withArticle(arg.type)}`,
      arg.span,
      hintForArgument(expected, arg.type),
    );
    return false;
  }

  /** Checks several arguments at once; all are checked even when one fails. */
  expectAll(...checks: readonly [number, (type: MxType) => boolean, string][]): boolean {
    let ok = true;
    for (const [index, accepts, expected] of checks) {
      if (index < this.args.length && !this.expect(index, accepts, expected)) ok = false;
    }
    return ok;
  }

  private evaluator(index: number): Evaluator {
    const arg = this.args[index];
    return arg === undefined ? () => null : arg.ev;
  }

  /** A String argument; empty reads as `''`, as Mendix's string functions treat it. */
  string(index: number): Evaluator<string> {
    const literal = this.literal(index);
    if (typeof literal === 'string') return () => literal;
    const ev = this.evaluator(index);
    return (v, c) => {
      const value = ev(v, c);
      return typeof value === 'string' ? value : '';
    };
  }

  /** An Integer/Long argument as a bigint; empty fails. */
  integer(index: number): Evaluator<bigint> {
    const literal = this.literal(index);
    if (typeof literal === 'bigint') return () => literal;
    const ev = this.evaluator(index);
    const span = this.args[index]?.span ?? this.span;
    const failer = this.failer;
    const what = `Argument ${index + 1} of ${this.name}`;
    return (v, c) => {
      const value = ev(v, c);
      if (typeof value === 'bigint') return value;
      return failer.empty(what, span);
    };
  }

  /** A numeric argument as a Decimal; empty fails. */
  decimal(index: number): Evaluator<Decimal> {
    const literal = this.literal(index);
    if (literal instanceof Decimal) return () => literal;
    if (typeof literal === 'bigint') {
      const value = new Decimal(literal);
      return () => value;
    }
    const ev = this.evaluator(index);
    const span = this.args[index]?.span ?? this.span;
    const failer = this.failer;
    const what = `Argument ${index + 1} of ${this.name}`;
    const integral =
      this.args[index]?.type !== undefined && isIntegral(this.args[index]?.type ?? { kind: 'Empty' });
    if (integral) {
      return (v, c) => {
        const value = ev(v, c);
        if (typeof value === 'bigint') return new Decimal(value);
        return failer.empty(what, span);
      };
    }
    return (v, c) => {
      const value = ev(v, c);
      if (value instanceof Decimal) return value;
      if (typeof value === 'bigint') return new Decimal(value);
      return failer.empty(what, span);
    };
  }

  /** A numeric argument as it is (bigint or Decimal); empty fails. */
  number(index: number): Evaluator<bigint | Decimal> {
    const ev = this.evaluator(index);
    const span = this.args[index]?.span ?? this.span;
    const failer = this.failer;
    const what = `Argument ${index + 1} of ${this.name}`;
    return (v, c) => {
      const value = ev(v, c);
      if (typeof value === 'bigint' || value instanceof Decimal) return value;
      return failer.empty(what, span);
    };
  }

  /** A DateTime argument; empty fails. */
  date(index: number): Evaluator<Date> {
    const ev = this.evaluator(index);
    const span = this.args[index]?.span ?? this.span;
    const failer = this.failer;
    const what = `Argument ${index + 1} of ${this.name}`;
    return (v, c) => {
      const value = ev(v, c);
      if (value instanceof Date) return value;
      return failer.empty(what, span);
    };
  }

  /** An argument as it is, empty included. */
  raw(index: number): Evaluator {
    return this.evaluator(index);
  }

  /** The literal value of an argument, when it is a literal. */
  literal(index: number): MxValue | undefined {
    return this.args[index]?.literal?.value;
  }

  /** Reports a compile-time problem with an argument. */
  invalid(index: number, message: string, hint?: string): void {
    this.diagnostics.report(
      LanguageErrorCode.ExprInvalidLiteral,
      message,
      this.args[index]?.span ?? this.span,
      hint,
    );
  }

  /** A run-time failure at this call. */
  fail(code: RuntimeErrorCode, message: string, cause?: unknown): never {
    return this.failer.fail(code, message, this.span, cause);
  }

  /** The compiled call, as a closure the generated code calls. */
  result(type: MxType, ev: Evaluator): CallResult {
    return { type, ev };
  }

  /** The compiled call, written into the generated code itself (for the most used functions). */
  inline(type: MxType, code: InlineCode): CallResult {
    return { type, inline: code };
  }

  /** Where this call fails, for run-time helpers of inlined code. */
  get runtimeSite(): { readonly failer: Failer; readonly span: SourceSpan; readonly what: string } {
    return { failer: this.failer, span: this.span, what: this.name };
  }
}

/** Writes a call into generated code, given the code of each argument and a way to reference constants. */
export type InlineCode = (
  argument: (index: number) => string,
  constant: (value: unknown) => string,
) => string;

/** What a library function compiles a call to: a closure, or code written inline. */
export type CallResult =
  | { readonly type: MxType; readonly ev: Evaluator; readonly inline?: undefined }
  | { readonly type: MxType; readonly inline: InlineCode; readonly ev?: undefined };

function hintForArgument(expected: string, actual: MxType): string | undefined {
  if (expected.includes('String') && actual.kind !== 'String') return 'Convert it with toString(...).';
  if (expected.includes('Enumeration') && actual.kind === 'String') {
    return 'Pass an enumeration value, e.g. Module.Enumeration.Value.';
  }
  if (/Integer|Decimal|number/.test(expected) && actual.kind === 'String') {
    return 'Parse it with parseInteger(...) or parseDecimal(...).';
  }
  return undefined;
}

/** Type predicates for {@link CallSite.expect}. */
export const accepts = {
  string: (t: MxType) => t.kind === 'String',
  integer: (t: MxType) => isIntegral(t),
  numeric: (t: MxType) => isNumeric(t),
  dateTime: (t: MxType) => t.kind === 'DateTime',
  boolean: (t: MxType) => t.kind === 'Boolean',
  enumeration: (t: MxType) => t.kind === 'Enumeration',
  object: (t: MxType) => t.kind === 'Object',
} as const;
