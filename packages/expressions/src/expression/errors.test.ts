import { describe, expect, it } from 'vitest';
import { Decimal } from '../decimal.js';
import { ExpressionRuntimeError, type LanguageError } from '../diagnostics.js';
import { MxTypes, formatType, objectType } from '../mx-types.js';
import { fixtureSchema } from '../testing/fixture.js';
import { createScenario } from '../testing/scenario.js';
import type { MxType } from '../types.js';
import { compileExpression } from './compiler.js';
import { parseExpression } from './parser.js';

function errorsOf(source: string, expectedType?: MxType): readonly LanguageError[] {
  const scenario = createScenario();
  const result = compileExpression(source, {
    schema: fixtureSchema,
    variables: scenario.types,
    ...(expectedType === undefined ? {} : { expectedType }),
  });
  if (result.ok) throw new Error(`expected errors for ${source}`);
  return result.errors;
}

function brief(error: LanguageError): string {
  return `${error.code}@${error.span.start.line}:${error.span.start.column}`;
}

describe('compile errors', () => {
  it('reports every unknown name of an expression in one run, each at its position', () => {
    const errors = errorsOf('$Ordr/Total + foo(1) + $Order/Totl + Sales.OrderStatus.Opne');
    expect(errors.map(brief)).toEqual([
      'EXPR_UNKNOWN_VARIABLE@1:1',
      'EXPR_UNKNOWN_FUNCTION@1:15',
      'EXPR_UNKNOWN_MEMBER@1:31',
      'EXPR_UNKNOWN_ENUMERATION@1:38',
    ]);
    expect(errors[0]?.hint).toBe('Did you mean $Order?');
    expect(errors[3]?.hint).toBe('Did you mean Sales.OrderStatus.Open?');
    expect(errors[0]?.message).toContain('$Ordr');
  });

  it('positions errors by line and column in multi-line expressions', () => {
    const errors = errorsOf("if $n > 1\nthen 'a'\nelse $Nope");
    expect(errors.map(brief)).toEqual(['EXPR_UNKNOWN_VARIABLE@3:6']);
    expect(errors[0]?.span.start.offset).toBe(24);
    expect(errors[0]?.span.end.offset).toBe(29);
  });

  it.each([
    ['1 +', 'EXPR_SYNTAX@1:4'],
    ['(1 + 2', 'EXPR_SYNTAX@1:7'],
    ['1 + 2)', 'EXPR_SYNTAX@1:6'],
    ['$n $n', 'EXPR_SYNTAX@1:4'],
    ["'unterminated", 'EXPR_SYNTAX@1:1'],
    ['if true then 1', 'EXPR_SYNTAX@1:15'],
    ['if true 1 else 2', 'EXPR_SYNTAX@1:9'],
    ['', 'EXPR_SYNTAX@1:1'],
    ['$', 'EXPR_SYNTAX@1:1'],
    ['[%CurrentDateTime', 'EXPR_SYNTAX@1:1'],
    ['12abc', 'EXPR_SYNTAX@1:1'],
    ['substring(', 'EXPR_SYNTAX@1:11'],
    ['max(1,,2)', 'EXPR_SYNTAX@1:7'],
    ['$Order/', 'EXPR_SYNTAX@1:8'],
    ['Name', 'EXPR_SYNTAX@1:1'],
    ['1 # 2', 'EXPR_SYNTAX@1:3'],
  ])('reports the syntax error in %s at its position', (source, expected) => {
    expect(errorsOf(source).map(brief)).toContain(expected);
  });

  it('explains that strings use single quotes and division is div or :', () => {
    expect(errorsOf('"text"')[0]?.hint).toContain('single quotes');
    expect(errorsOf('$n / 2')[0]?.hint).toContain('`div` or `:`');
  });

  it('recovers after a syntax error and keeps checking the rest', () => {
    const errors = errorsOf('(1 + ) + $Nope');
    expect(errors.map((e) => e.code)).toEqual(['EXPR_SYNTAX', 'EXPR_UNKNOWN_VARIABLE']);
  });

  it.each([
    ["substring('a')", 'EXPR_ARGUMENT_COUNT'],
    ['random(1)', 'EXPR_ARGUMENT_COUNT'],
    ['max(1)', 'EXPR_ARGUMENT_COUNT'],
    ['dateTime()', 'EXPR_ARGUMENT_COUNT'],
    ['not(true, false)', 'EXPR_ARGUMENT_COUNT'],
    ['1 + true', 'EXPR_TYPE_MISMATCH'],
    ["'a' - 1", 'EXPR_TYPE_MISMATCH'],
    ['$n and true', 'EXPR_TYPE_MISMATCH'],
    ['not 5', 'EXPR_TYPE_MISMATCH'],
    ["-'a'", 'EXPR_TYPE_MISMATCH'],
    ['if 1 then 2 else 3', 'EXPR_TYPE_MISMATCH'],
    ["if true then 1 else 'a'", 'EXPR_TYPE_MISMATCH'],
    ['$Order = $Customer', 'EXPR_TYPE_MISMATCH'],
    ['$when + 1', 'EXPR_TYPE_MISMATCH'],
    ['$n < empty', 'EXPR_TYPE_MISMATCH'],
    ['empty + 1', 'EXPR_TYPE_MISMATCH'],
    ['true < false', 'EXPR_TYPE_MISMATCH'],
    ["'a' + true", 'EXPR_TYPE_MISMATCH'],
    ['Sales.OrderStatus.Open = Sales.Grade.Gold', 'EXPR_TYPE_MISMATCH'],
    ['$lines/Quantity', 'EXPR_TYPE_MISMATCH'],
    ['$n/Name', 'EXPR_TYPE_MISMATCH'],
    ['length(5)', 'EXPR_TYPE_MISMATCH'],
    ["addDays('2020-01-01', 1)", 'EXPR_TYPE_MISMATCH'],
    ['round(1.5, 1.5)', 'EXPR_TYPE_MISMATCH'],
    ['getCaption($s)', 'EXPR_TYPE_MISMATCH'],
    ['toString($Order)', 'EXPR_TYPE_MISMATCH'],
    ['Sales.Nope.X', 'EXPR_UNKNOWN_ENUMERATION'],
    ['@Sales.Nope', 'EXPR_UNKNOWN_CONSTANT'],
    ['Sales.VatRate', 'EXPR_SYNTAX'],
    ['[%Nope%]', 'EXPR_UNKNOWN_TOKEN'],
    ['[%DayLength%]', 'EXPR_UNKNOWN_TOKEN'],
    ['$Order/Sales.Nope', 'EXPR_UNKNOWN_MEMBER'],
    ['$Order/Sales.SpecialOrder', 'EXPR_UNKNOWN_MEMBER'],
    ['$Customer/Sales.Customer_Address/Sales.Country', 'EXPR_UNKNOWN_MEMBER'],
    ['99999999999999999999', 'EXPR_INVALID_LITERAL'],
    ["formatDateTime($when, 'yyyy-MM-dd x')", 'EXPR_INVALID_LITERAL'],
    ["formatDateTime($when, 'yyyy ''open')", 'EXPR_INVALID_LITERAL'],
    ["formatDecimal(1, '#,##0.0#0')", 'EXPR_INVALID_LITERAL'],
    ["isMatch('a', '(')", 'EXPR_INVALID_LITERAL'],
    ["replaceAll('a', 'a++', 'b')", 'EXPR_INVALID_LITERAL'],
    ['dateTime(2024, 13)', 'EXPR_INVALID_LITERAL'],
    ['dateTime(2024, 1, 1, 24)', 'EXPR_INVALID_LITERAL'],
  ])('rejects %s with %s', (source, code) => {
    expect(errorsOf(source).map((e) => e.code)).toContain(code);
  });

  it('hints how to compare an enumeration with a string', () => {
    const [error] = errorsOf("$Order/Status = 'Open'");
    expect(error?.hint).toContain('Sales.OrderStatus.Open');
  });

  it('suggests the closest function name', () => {
    expect(errorsOf('toUppercase($s)')[0]?.hint).toBe('Did you mean toUpperCase?');
  });
});

describe('the expected type', () => {
  const scenario = createScenario();
  const env = (expectedType: MxType) => ({ schema: fixtureSchema, variables: scenario.types, expectedType });

  it('rejects a result that does not fit, with a hint', () => {
    const errors = errorsOf('$Order/Total * 2', MxTypes.Integer);
    expect(errors.map(brief)).toEqual(['EXPR_TYPE_MISMATCH@1:1']);
    expect(errors[0]?.message).toContain('is a Decimal but an Integer is expected');
    expect(errors[0]?.hint).toContain('round');
    expect(errorsOf('1 + 1', MxTypes.String)[0]?.hint).toContain('toString');
  });

  it('widens an Integer result to Decimal when a Decimal is expected', () => {
    const result = compileExpression('$n + 1', env(MxTypes.Decimal));
    if (!result.ok) throw new Error('should compile');
    expect(formatType(result.expression.type)).toBe('Decimal');
    const value = result.expression.evaluate(scenario.variables, scenario.context());
    expect(value).toBeInstanceOf(Decimal);
    expect((value as Decimal).toString()).toBe('43');
  });

  it('accepts empty for any type, Integer for Long and a specialisation for its generalisation', () => {
    for (const [source, type] of [
      ['empty', objectType('Sales.Customer')],
      ['$n', MxTypes.Long],
      ['$SpecialOrder', objectType('Sales.Order')],
    ] as const) {
      const result = compileExpression(source, env(type));
      expect(result.ok).toBe(true);
      if (result.ok) expect(result.expression.type).toEqual(type);
    }
    expect(compileExpression('$Order', env(objectType('Sales.SpecialOrder'))).ok).toBe(false);
  });
});

describe('dependencies', () => {
  it('lists the variables read and the longest association paths walked from each', () => {
    const scenario = createScenario();
    const result = compileExpression(
      '$Order/Sales.Order_Customer/Name + $Order/Sales.Order_Customer/Sales.Customer_Address/Sales.Address_Country/Name + toString($n) + $Customer/Sales.Customer_User/Name',
      { schema: fixtureSchema, variables: scenario.types },
    );
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join());
    expect([...result.expression.dependencies.variables].sort()).toEqual(['Customer', 'Order', 'n']);
    expect(result.expression.dependencies.associationPaths).toEqual([
      {
        variable: 'Order',
        path: ['Sales.Order_Customer', 'Sales.Customer_Address', 'Sales.Address_Country'],
      },
      { variable: 'Customer', path: ['Sales.Customer_User'] },
    ]);
  });

  it('treats $currentUser as always in scope', () => {
    const result = compileExpression('$currentUser/Name', { schema: fixtureSchema, variables: new Map() });
    expect(result.ok).toBe(true);
    if (result.ok) expect(formatType(result.expression.type)).toBe('String');
  });
});

describe('run-time errors', () => {
  it.each([
    ['1 div 0', 'EXPR_DIVISION_BY_ZERO', '1:1'],
    ['5 mod 0', 'EXPR_DIVISION_BY_ZERO', '1:1'],
    ['$Order/Total : ($n - 42)', 'EXPR_DIVISION_BY_ZERO', '1:1'],
    ["parseInteger('x')", 'EXPR_PARSE_FAILED', '1:1'],
    ['parseInteger($e)', 'EXPR_PARSE_FAILED', '1:1'],
    ["parseDecimal('1,5')", 'EXPR_PARSE_FAILED', '1:1'],
    ["parseDateTime('x', 'yyyy')", 'EXPR_PARSE_FAILED', '1:1'],
    ['1 + $EmptyOrder/Total', 'EXPR_EMPTY_VALUE', '1:5'],
    ['$EmptyOrder/Sales.Order_Customer = empty', 'EXPR_EMPTY_VALUE', '1:1'],
    ['$decEmpty + 1', 'EXPR_EMPTY_VALUE', '1:1'],
    ["$e < 'a'", 'EXPR_EMPTY_VALUE', '1:1'],
    ['$flagEmpty and true', 'EXPR_EMPTY_VALUE', '1:1'],
    ['if $flagEmpty then 1 else 2', 'EXPR_EMPTY_VALUE', '1:4'],
    ['not $flagEmpty', 'EXPR_EMPTY_VALUE', '1:5'],
    ['round($decEmpty)', 'EXPR_EMPTY_VALUE', '1:7'],
    ['addDays($whenEmpty, 1)', 'EXPR_EMPTY_VALUE', '1:9'],
    ["substring('abc', 4)", 'EXPR_INVALID_ARGUMENT', '1:1'],
    ["substring('abc', 1, 5)", 'EXPR_INVALID_ARGUMENT', '1:1'],
    ["substring('abc', -1)", 'EXPR_INVALID_ARGUMENT', '1:1'],
    ['sqrt(-1)', 'EXPR_INVALID_ARGUMENT', '1:1'],
    ["urlDecode('%zz')", 'EXPR_INVALID_ARGUMENT', '1:1'],
    ["isMatch('a', $badRegex)", 'EXPR_INVALID_ARGUMENT', '1:1'],
    ['dateTime(2024, $n)', 'EXPR_INVALID_ARGUMENT', '1:1'],
    ['formatDateTime($when, $s)', 'EXPR_BAD_PATTERN', '1:1'],
    ["formatDecimal(1, '0.0' + '#0')", 'EXPR_BAD_PATTERN', '1:1'],
    ['9223372036854775807 + 1', 'EXPR_OVERFLOW', '1:1'],
    ['-9223372036854775807 - 2', 'EXPR_OVERFLOW', '1:1'],
    ['$big * $big', 'EXPR_OVERFLOW', '1:1'],
    ['floor(99999999999999999999.5)', 'EXPR_OVERFLOW', '1:1'],
    ['addYears($when, 999999999)', 'EXPR_OVERFLOW', '1:1'],
  ])('%s fails with %s at %s', (source, code, position) => {
    const scenario = createScenario();
    const result = compileExpression(source, { schema: fixtureSchema, variables: scenario.types });
    if (!result.ok) throw new Error(result.errors.map((e) => e.message).join());
    let caught: unknown;
    try {
      result.expression.evaluate(scenario.variables, scenario.context());
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ExpressionRuntimeError);
    const error = caught as ExpressionRuntimeError;
    expect(error.code).toBe(code);
    expect(`${error.details.span.start.line}:${error.details.span.start.column}`).toBe(position);
    expect(error.details.source).toBe(source);
    expect(error.kind).toBe('user');
  });

  it('fails with EXPR_BAD_VALUE when a caller passes a value of the wrong JS type', () => {
    const scenario = createScenario();
    const result = compileExpression('$n + 1', { schema: fixtureSchema, variables: scenario.types });
    if (!result.ok) throw new Error('should compile');
    expect(() => result.expression.evaluate(new Map([['n', 'forty-two']]), scenario.context())).toThrow(
      expect.objectContaining({ code: 'EXPR_BAD_VALUE' }),
    );
    expect(() => result.expression.evaluate(new Map(), scenario.context())).toThrow(
      expect.objectContaining({ code: 'EXPR_BAD_VALUE' }),
    );
    // A caller passing a plain JS integer for an Integer gets it read as a bigint.
    const lenient = { get: (name: string) => (name === 'n' ? (41 as unknown as bigint) : undefined) };
    expect(result.expression.evaluate(lenient, scenario.context())).toBe(42n);
  });
});

describe('the syntax tree', () => {
  it('carries exact spans for every node', () => {
    const { ast, errors } = parseExpression('$Order/Total * 1.21');
    expect(errors).toEqual([]);
    expect(ast.kind).toBe('Binary');
    if (ast.kind !== 'Binary') return;
    expect(ast.operator).toBe('*');
    expect(ast.left.span.start.offset).toBe(0);
    expect(ast.left.span.end.offset).toBe(12);
    expect(ast.right.span.start.column).toBe(16);
    expect(ast.operatorSpan.start.offset).toBe(13);
  });

  it('reads `:` as div and `not(x)` as a unary operator binding tighter than comparisons', () => {
    const { ast } = parseExpression('not($a) = false');
    expect(ast.kind === 'Binary' && ast.operator === '=' && ast.left.kind === 'Unary').toBe(true);
    const division = parseExpression('6 : 3').ast;
    expect(division.kind === 'Binary' && division.operator === 'div').toBe(true);
  });
});
