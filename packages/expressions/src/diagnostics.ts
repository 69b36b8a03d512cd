/**
 * Compile-time diagnostics (`LanguageError`), run-time failures (`ExpressionRuntimeError`)
 * and the mapping from offsets to lines and columns.
 */
import { UserError } from '@runplane/errors';
import type { SourcePosition, SourceSpan } from './types.js';

/** The stable codes of compile-time errors in expressions and XPath constraints. */
export const LanguageErrorCode = {
  /** The text is not a well-formed expression. */
  ExprSyntax: 'EXPR_SYNTAX',
  /** `$name` is not a variable in scope. */
  ExprUnknownVariable: 'EXPR_UNKNOWN_VARIABLE',
  /** `$obj/Name`: the entity has no such attribute or association. */
  ExprUnknownMember: 'EXPR_UNKNOWN_MEMBER',
  ExprUnknownFunction: 'EXPR_UNKNOWN_FUNCTION',
  ExprArgumentCount: 'EXPR_ARGUMENT_COUNT',
  /** An operand or argument has the wrong type, or the result does not fit the expected type. */
  ExprTypeMismatch: 'EXPR_TYPE_MISMATCH',
  /** `Module.Enumeration.Value` names no enumeration or no value of it. */
  ExprUnknownEnumeration: 'EXPR_UNKNOWN_ENUMERATION',
  /** `@Module.Constant` names no constant. */
  ExprUnknownConstant: 'EXPR_UNKNOWN_CONSTANT',
  /** `[%Name%]` is not a token expressions know. */
  ExprUnknownToken: 'EXPR_UNKNOWN_TOKEN',
  /** A literal that cannot be represented, e.g. an integer beyond the Long range or a bad format pattern. */
  ExprInvalidLiteral: 'EXPR_INVALID_LITERAL',
  XPathSyntax: 'XPATH_SYNTAX',
  /** The entity has no such attribute or association. */
  XPathUnknownMember: 'XPATH_UNKNOWN_MEMBER',
  /** A path that does not follow the domain model (an association from the wrong entity, an attribute mid-path...). */
  XPathBadPath: 'XPATH_BAD_PATH',
  XPathUnknownVariable: 'XPATH_UNKNOWN_VARIABLE',
  XPathUnknownFunction: 'XPATH_UNKNOWN_FUNCTION',
  XPathArgumentCount: 'XPATH_ARGUMENT_COUNT',
  XPathTypeMismatch: 'XPATH_TYPE_MISMATCH',
  XPathUnknownToken: 'XPATH_UNKNOWN_TOKEN',
  XPathUnknownEntity: 'XPATH_UNKNOWN_ENTITY',
  /** Hashed strings, binaries and calculated attributes cannot be filtered on. */
  XPathNotFilterable: 'XPATH_NOT_FILTERABLE',
} as const;
/** The stable codes of compile-time errors in expressions and XPath constraints. */
export type LanguageErrorCode = (typeof LanguageErrorCode)[keyof typeof LanguageErrorCode];

/** A compile-time error in an expression or XPath constraint, positioned in its source text. */
export interface LanguageError {
  readonly code: LanguageErrorCode;
  /** What is wrong, and where, e.g. "Unknown variable $Ordr at 1:1". */
  readonly message: string;
  /** How to fix it, when there is something useful to say. */
  readonly hint?: string;
  /** Where in the source text (offsets relative to the expression text). */
  readonly span: SourceSpan;
}

/** The stable codes of failures while evaluating an expression. */
export const RuntimeErrorCode = {
  DivisionByZero: 'EXPR_DIVISION_BY_ZERO',
  /** An operation that needs a value got `empty` (arithmetic, ordering, reading a member of an empty object...). */
  EmptyValue: 'EXPR_EMPTY_VALUE',
  /** An argument outside what the function accepts (a substring beyond the end, a bad regular expression...). */
  InvalidArgument: 'EXPR_INVALID_ARGUMENT',
  /** `parseInteger`, `parseDecimal` or `parseDateTime` could not parse its input and had no default. */
  ParseFailed: 'EXPR_PARSE_FAILED',
  /** An integer result beyond the 64-bit Long range. */
  Overflow: 'EXPR_OVERFLOW',
  /** A date or number format pattern that Java would reject. */
  BadPattern: 'EXPR_BAD_PATTERN',
  /** A value of an unexpected JS type reached the evaluator: the caller passed a wrong variable. */
  BadValue: 'EXPR_BAD_VALUE',
} as const;
/** The stable codes of failures while evaluating an expression. */
export type RuntimeErrorCode = (typeof RuntimeErrorCode)[keyof typeof RuntimeErrorCode];

/** What an {@link ExpressionRuntimeError} carries besides its message. */
export interface ExpressionRuntimeErrorDetails {
  readonly [key: string]: unknown;
  /** Where in the expression the failing operation is. */
  readonly span: SourceSpan;
  /** The expression's source text. */
  readonly source: string;
}

/**
 * An expression failed while it was evaluated, as Mendix raises an error from an activity:
 * division by zero, `parseInteger('x')`, a member of an empty object. The microflow engine
 * catches it like any other user error.
 */
export class ExpressionRuntimeError extends UserError {
  declare readonly details: ExpressionRuntimeErrorDetails;
  constructor(init: {
    code: RuntimeErrorCode;
    message: string;
    span: SourceSpan;
    source: string;
    cause?: unknown;
  }) {
    super({
      code: init.code,
      message: `${init.message} (at ${init.span.start.line}:${init.span.start.column} in \`${abbreviate(init.source)}\`)`,
      details: { span: init.span, source: init.source },
      cause: init.cause,
    });
  }
}

function abbreviate(source: string): string {
  const oneLine = source.replace(/\s+/g, ' ').trim();
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}

/** Maps UTF-16 offsets of a source text to 1-based lines and columns. */
export class LineMap {
  private readonly lineStarts: number[] = [0];
  private readonly length: number;

  constructor(source: string) {
    this.length = source.length;
    for (let i = 0; i < source.length; i++) {
      const ch = source.charCodeAt(i);
      if (ch === 10) {
        this.lineStarts.push(i + 1);
      } else if (ch === 13) {
        if (source.charCodeAt(i + 1) === 10) i++;
        this.lineStarts.push(i + 1);
      }
    }
  }

  /** The position of an offset, clamped to the source. */
  position(offset: number): SourcePosition {
    const clamped = Math.max(0, Math.min(offset, this.length));
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= clamped) low = mid;
      else high = mid - 1;
    }
    const lineStart = this.lineStarts[low] ?? 0;
    return { offset: clamped, line: low + 1, column: clamped - lineStart + 1 };
  }

  /** The span between two offsets. */
  span(start: number, end: number): SourceSpan {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }
}

/** Formats a position as `line:column`. */
export function formatPosition(position: SourcePosition): string {
  return `${position.line}:${position.column}`;
}
