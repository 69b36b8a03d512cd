/**
 * Code generation for compiled expressions. Each expression becomes one JavaScript function of
 * its own, built with `new Function` from fixed templates: no text of the expression is ever
 * part of the generated code (names, literals and error sites travel in a constants table
 * `K`), so the generated code is as safe as the templates. A function of its own per
 * expression gives the engine per-expression type feedback, so it optimises each expression
 * like hand-written code instead of sharing one megamorphic closure tree between all of them.
 */
import { Decimal, divideDecimal } from '../decimal.js';
import { RuntimeErrorCode } from '../diagnostics.js';
import type { MxValue, SourceSpan } from '../types.js';
import { javaTrim, javaUrlEncode } from '../runtime/strings.js';
import { decimalToString, isMxList } from '../values.js';
import { checkLong, isFastValue, type Evaluator, type Failer } from './support.js';

/** Where a generated operation fails: the failer of the expression and the span of the node. */
export interface Site {
  readonly failer: Failer;
  readonly span: SourceSpan;
  /** Says what was empty, e.g. "An operand of +". */
  readonly what: string;
}

/** How deeply nodes nest inside one generated function before the rest moves to another. */
const MAX_INLINE_DEPTH = 64;

/** Builds the body of one generated function. */
export class Emitter {
  readonly constants: unknown[] = [];
  private temps = 0;
  private depth = 0;

  /** A reference to a constant value in the generated code. */
  constant(value: unknown): string {
    this.constants.push(value);
    return `K[${this.constants.length - 1}]`;
  }

  /**
   * The code of a child node. Deep trees (a thousand additions in a row) are cut into functions
   * of their own, so that neither this emitter nor the engine's parser recurses too deeply.
   */
  child(emit: Emit): string {
    if (this.depth >= MAX_INLINE_DEPTH) {
      const nested = new Emitter();
      return `${this.constant(nested.build(emit(nested)))}(v, c)`;
    }
    this.depth++;
    try {
      return emit(this);
    } finally {
      this.depth--;
    }
  }

  /** A fresh temporary variable. */
  temp(): string {
    return `t${this.temps++}`;
  }

  /** Compiles `code` (an expression over `v`, `c`, `K`, `R` and temporaries) into an evaluator. */
  build(code: string): Evaluator {
    const declarations = Array.from({ length: this.temps }, (_, i) => `t${i}`);
    const body =
      `"use strict";\nreturn function evaluate(v, c) {\n` +
      (declarations.length > 0 ? `  let ${declarations.join(', ')};\n` : '') +
      `  return ${code};\n};`;
    // The body is made of this module's templates and integer indices only (see the module comment).
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function('K', 'R', body) as (constants: unknown[], runtime: typeof R) => Evaluator;
    return factory(this.constants, R);
  }
}

/** A node that can write itself as generated code. */
export type Emit = (emitter: Emitter) => string;

function empty(site: Site, span?: SourceSpan): never {
  return site.failer.empty(site.what, span ?? site.span);
}

function toDecimal(value: MxValue, site: Site): Decimal {
  if (value instanceof Decimal) return value;
  if (typeof value === 'bigint') return new Decimal(value);
  return empty(site);
}

function toBigInt(value: MxValue, site: Site): bigint {
  if (typeof value === 'bigint') return value;
  return empty(site);
}

/**
 * The run-time helpers generated code calls. Small, shared, monomorphic functions: the engine
 * inlines them into each generated function.
 */
export const R = {
  fast: isFastValue,
  isEmpty(value: MxValue): boolean {
    return value === null || (isMxList(value) && value.length === 0);
  },
  bool(value: MxValue, site: Site): boolean {
    return typeof value === 'boolean' ? value : empty(site);
  },
  dec: toDecimal,
  toDecimalOrEmpty(value: MxValue): MxValue {
    return typeof value === 'bigint' ? new Decimal(value) : value;
  },
  addI(a: MxValue, b: MxValue, site: Site): bigint {
    return checkLong(toBigInt(a, site) + toBigInt(b, site), site.failer, site.span);
  },
  subI(a: MxValue, b: MxValue, site: Site): bigint {
    return checkLong(toBigInt(a, site) - toBigInt(b, site), site.failer, site.span);
  },
  mulI(a: MxValue, b: MxValue, site: Site): bigint {
    return checkLong(toBigInt(a, site) * toBigInt(b, site), site.failer, site.span);
  },
  modI(a: MxValue, b: MxValue, site: Site): bigint {
    const x = toBigInt(a, site);
    const y = toBigInt(b, site);
    if (y === 0n)
      return site.failer.fail(RuntimeErrorCode.DivisionByZero, 'Division by zero in mod', site.span);
    return x % y;
  },
  negI(a: MxValue, site: Site): bigint {
    return checkLong(-toBigInt(a, site), site.failer, site.span);
  },
  addD(a: MxValue, b: MxValue, site: Site): Decimal {
    return toDecimal(a, site).plus(toDecimal(b, site));
  },
  subD(a: MxValue, b: MxValue, site: Site): Decimal {
    return toDecimal(a, site).minus(toDecimal(b, site));
  },
  mulD(a: MxValue, b: MxValue, site: Site): Decimal {
    return toDecimal(a, site).times(toDecimal(b, site));
  },
  divD(a: MxValue, b: MxValue, site: Site): Decimal {
    const x = toDecimal(a, site);
    const y = toDecimal(b, site);
    if (y.isZero()) return site.failer.fail(RuntimeErrorCode.DivisionByZero, 'Division by zero', site.span);
    return divideDecimal(x, y);
  },
  modD(a: MxValue, b: MxValue, site: Site): Decimal {
    const x = toDecimal(a, site);
    const y = toDecimal(b, site);
    if (y.isZero())
      return site.failer.fail(RuntimeErrorCode.DivisionByZero, 'Division by zero in mod', site.span);
    return x.mod(y);
  },
  negD(a: MxValue, site: Site): Decimal {
    return toDecimal(a, site).neg();
  },
  /** Orders two non-empty bigints or strings: negative, zero, positive. */
  order(a: MxValue, b: MxValue, site: Site, right: SourceSpan): number {
    if (a === null) return empty(site);
    if (b === null) return empty(site, right);
    return (a as bigint | string) < (b as bigint | string)
      ? -1
      : (a as bigint | string) > (b as bigint | string)
        ? 1
        : 0;
  },
  orderD(a: MxValue, b: MxValue, site: Site, right: SourceSpan): number {
    if (a === null) return empty(site);
    if (b === null) return empty(site, right);
    return toDecimal(a, site).comparedTo(toDecimal(b, site));
  },
  orderT(a: MxValue, b: MxValue, site: Site, right: SourceSpan): number {
    if (a === null) return empty(site);
    if (b === null) return empty(site, right);
    return (a as Date).getTime() - (b as Date).getTime();
  },
  /** Numeric equality across Integer/Long and Decimal; empty equals empty. */
  eqN(a: MxValue, b: MxValue): boolean {
    if (a === null || b === null) return a === b;
    if (typeof a === 'bigint' && typeof b === 'bigint') return a === b;
    return (typeof a === 'bigint' ? new Decimal(a) : (a as Decimal)).eq(
      typeof b === 'bigint' ? new Decimal(b) : (b as Decimal),
    );
  },
  eqT(a: MxValue, b: MxValue): boolean {
    if (a === null || b === null) return a === b;
    return (a as Date).getTime() === (b as Date).getTime();
  },
  eqO(a: MxValue, b: MxValue): boolean {
    if (a === null || b === null) return a === b;
    return (a as { id: string }).id === (b as { id: string }).id;
  },
  /** The text of a value in a concatenation (0 String, 1 Integer/Long, 2 Decimal, 3 empty). */
  text(kind: number, value: MxValue): string {
    if (value === null) return '';
    switch (kind) {
      case 0:
        return value as string;
      case 1:
        return (value as bigint).toString();
      case 2:
        return decimalToString(value as Decimal);
      default:
        return '';
    }
  },
  trim: javaTrim,
  urlEncode: javaUrlEncode,
  listLength(value: MxValue): bigint {
    return BigInt(isMxList(value) ? value.length : 0);
  },
  /** `substring` with constant positions; `count` is -1 when the length is not given. */
  substring(text: string, from: number, count: number, site: Site): string {
    if (from > text.length) {
      return site.failer.fail(
        RuntimeErrorCode.InvalidArgument,
        `substring: the start position ${from} is outside the string of length ${text.length}`,
        site.span,
      );
    }
    if (count < 0) return text.slice(from);
    if (from + count > text.length) {
      return site.failer.fail(
        RuntimeErrorCode.InvalidArgument,
        `substring: ${count} characters from position ${from} run past the end of the string of length ${text.length}`,
        site.span,
      );
    }
    return text.slice(from, from + count);
  },
  /** The object a member is read from; empty fails. */
  object(value: MxValue, site: Site): { get(name: string): MxValue } {
    if (value === null) return empty(site);
    return value as { get(name: string): MxValue };
  },
} as const;
