/**
 * Table-driven cases: each expression is compiled against the fixture domain and evaluated at
 * 2024-03-30T10:15:30.250Z (a Saturday; 11:15 in Amsterdam, the night before daylight saving
 * time starts), asserting both the value and the type.
 */
import { describe, expect, it } from 'vitest';
import type { EvaluationContext } from '../context.js';
import { Decimal, RoundingMode } from '../decimal.js';
import { formatType } from '../mx-types.js';
import { createScenario } from '../testing/scenario.js';
import { fixtureSchema } from '../testing/fixture.js';
import type { MxValue } from '../types.js';
import { decimalToString, isMxObject } from '../values.js';
import { compileExpression } from './compiler.js';

type Expected = MxValue | { readonly object: string } | { readonly list: readonly string[] };

interface Case {
  readonly source: string;
  readonly value: Expected;
  readonly type: string;
}

const I = (n: number | string): bigint => BigInt(n);
const D = (text: string): Decimal => new Decimal(text);
const T = (iso: string): Date => new Date(iso);
const c = (source: string, value: Expected, type: string): Case => ({ source, value, type });

function show(value: Expected): string {
  if (value === null) return 'empty';
  if (typeof value === 'bigint') return `${value}`;
  if (typeof value === 'string') return `'${value}'`;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Decimal) return decimalToString(value);
  if (typeof value === 'object' && 'object' in value) return `object ${value.object}`;
  if (typeof value === 'object' && 'list' in value) return `[${value.list.join(', ')}]`;
  return typeof value === 'boolean' ? String(value) : 'a value';
}

function assertSame(actual: MxValue, expected: Expected): void {
  if (expected instanceof Decimal) {
    expect(actual).toBeInstanceOf(Decimal);
    expect(decimalToString(actual as Decimal)).toBe(decimalToString(expected));
  } else if (expected instanceof Date) {
    expect(actual).toBeInstanceOf(Date);
    expect((actual as Date).toISOString()).toBe(expected.toISOString());
  } else if (expected !== null && typeof expected === 'object' && 'object' in expected) {
    expect(isMxObject(actual)).toBe(true);
    expect((actual as { id: string }).id).toBe(expected.object);
  } else if (expected !== null && typeof expected === 'object' && 'list' in expected) {
    expect(Array.isArray(actual)).toBe(true);
    expect((actual as readonly { id: string }[]).map((o) => o.id)).toEqual(expected.list);
  } else {
    expect(actual).toStrictEqual(expected);
  }
}

function run(cases: readonly Case[], overrides: Partial<EvaluationContext> = {}): void {
  for (const testCase of cases) {
    it(`${testCase.source} gives ${show(testCase.value)} of type ${testCase.type}`, () => {
      const scenario = createScenario();
      const result = compileExpression(testCase.source, { schema: fixtureSchema, variables: scenario.types });
      if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
      expect(formatType(result.expression.type)).toBe(testCase.type);
      assertSame(result.expression.evaluate(scenario.variables, scenario.context(overrides)), testCase.value);
    });
  }
}

const TOTAL = 'Integer';
const LONG = 'Long';
const DEC = 'Decimal';
const STR = 'String';
const BOOL = 'Boolean';
const DATE = 'DateTime';

describe('literals', () => {
  run([
    c('42', I(42), TOTAL),
    c('2147483647', I('2147483647'), TOTAL),
    c('2147483648', I('2147483648'), LONG),
    c('9223372036854775807', I('9223372036854775807'), LONG),
    c('-2147483648', I('-2147483648'), TOTAL),
    c('-8', I(-8), TOTAL),
    c('1.5', D('1.5'), DEC),
    c('.5', D('0.5'), DEC),
    c('1e3', D('1000'), DEC),
    c('2.5E-3', D('0.0025'), DEC),
    c("'text'", 'text', STR),
    c("'this isn''t funny'", "this isn't funny", STR),
    c("''", '', STR),
    c('true', true, BOOL),
    c('false', false, BOOL),
    c('empty', null, 'Empty'),
    c('(((1)))', I(1), TOTAL),
    c('  7\n', I(7), TOTAL),
  ]);
});

describe('integer arithmetic', () => {
  run([
    c('2*3', I(6), TOTAL),
    c('3 + 4 * 2', I(11), TOTAL),
    c('(3 + 4) * 2', I(14), TOTAL),
    c('10 - 2 - 3', I(5), TOTAL),
    c('-3 + 4', I(1), TOTAL),
    c('5 - 4', I(1), TOTAL),
    c('1 - -1', I(2), TOTAL),
    c('23 mod 5', I(3), TOTAL),
    c('-7 mod 3', I(-1), TOTAL),
    c('7 mod -3', I(1), TOTAL),
    c('2 * 3 mod 4', I(2), TOTAL),
    c('$n + 1', I(43), TOTAL),
    c('$n * $n', I(1764), TOTAL),
    c('- $n', I(-42), TOTAL),
    c('$big + 1', I('9007199254740994'), LONG),
    c('$big * 2 - $big', I('9007199254740993'), LONG),
    c('9223372036854775807 - 1', I('9223372036854775806'), LONG),
    c('1000000 * 1000000 * 1000000', I('1000000000000000000'), TOTAL),
    c('$Order/Quantity * 2', I(6), TOTAL),
    c('$Order/Number + 1', I(1002), LONG),
    c('@Sales.MaxLines + 1', I(51), TOTAL),
  ]);
});

describe('division', () => {
  run([
    c('10 div 4', D('2.5'), DEC),
    c('12 : 3', D('4'), DEC),
    c('3 div 5', D('0.6'), DEC),
    c('100 div 8', D('12.5'), DEC),
    c('1 div 3', D('0.3333333333333333333333333333333333'), DEC),
    c('2 div 3', D('0.6666666666666666666666666666666667'), DEC),
    c('-1 div 3', D('-0.3333333333333333333333333333333333'), DEC),
    c('3 : 7', D('0.4285714285714285714285714285714286'), DEC),
    c('(3 : 7) * 7', D('3.0000000000000000000000000000000002'), DEC),
    c('ceil((3 : 7) * 7)', I(4), TOTAL),
    c('7.5 : 2.5', D('3'), DEC),
    c('$Order/Total div 4', D('25.125'), DEC),
    c('1 div 8 div 8', D('0.015625'), DEC),
  ]);
});

describe('exact Decimal arithmetic', () => {
  run([
    c('0.1 + 0.2', D('0.3'), DEC),
    c('0.1 + 0.2 = 0.3', true, BOOL),
    c('0.3 - 0.1', D('0.2'), DEC),
    c('1.0 - 0.9', D('0.1'), DEC),
    c('1.1 * 1.1', D('1.21'), DEC),
    c('0.1 * 3', D('0.3'), DEC),
    c('0.1 * 0.1', D('0.01'), DEC),
    c('1.10 + 2.20', D('3.3'), DEC),
    c('$Order/Total * 1.21', D('121.605'), DEC),
    c('$Order/Total * @Sales.VatRate', D('21.105'), DEC),
    c('1 + 0.5', D('1.5'), DEC),
    c('$n * 0.5', D('21'), DEC),
    c('$dec * $dec', D('6.25'), DEC),
    c('$Customer/Balance + 0.005', D('-12.34'), DEC),
    c('99999999999999999999.99999999 + 0.00000001', D('100000000000000000000'), DEC),
    c('12345678901234567890.12345678 * 10', D('123456789012345678901.2345678'), DEC),
    c('0.00000001 * 0.00000001', D('0.0000000000000001'), DEC),
    c(
      '12345678901234567890.12345678 * 98765432109876543210.98765432',
      D('1219326311370217952261850326434994665432.2511812221002896'),
      DEC,
    ),
    c('5.5 mod 2', D('1.5'), DEC),
    c('-5.5 mod 2', D('-1.5'), DEC),
    c('1.5 = 1.50', true, BOOL),
    c('2 = 2.0', true, BOOL),
    c('3 < 3.0001', true, BOOL),
    c('max(0.1 + 0.2, 0.3)', D('0.3'), DEC),
    c('0.1 + 0.2 - 0.3', D('0'), DEC),
    c('-(0.1 + 0.2)', D('-0.3'), DEC),
  ]);
});

describe('rounding half away from zero (the default)', () => {
  run([
    c('round(2.5)', I(3), TOTAL),
    c('round(-2.5)', I(-3), TOTAL),
    c('round(3.5)', I(4), TOTAL),
    c('round(2.4)', I(2), TOTAL),
    c('round(-2.6)', I(-3), TOTAL),
    c('round(88.725, 2)', D('88.73'), DEC),
    c('round(1.005, 2)', D('1.01'), DEC),
    c('round(2.345, 1)', D('2.3'), DEC),
    c('round(1234.5, -2)', D('1200'), DEC),
    c('round(7)', I(7), TOTAL),
    c('round($dec)', I(3), TOTAL),
    c('round($big)', I('9007199254740993'), LONG),
    c('round(0.125, 2)', D('0.13'), DEC),
    c('round(1 div 3, 4)', D('0.3333'), DEC),
  ]);
});

describe('rounding half to even (when the app selects it)', () => {
  run(
    [
      c('round(2.5)', I(2), TOTAL),
      c('round(3.5)', I(4), TOTAL),
      c('round(-2.5)', I(-2), TOTAL),
      c('round(-21.5)', I(-22), TOTAL),
      c('round(23.5)', I(24), TOTAL),
      c('round(24.5)', I(24), TOTAL),
      c('round(88.725, 2)', D('88.72'), DEC),
      c('round(0.125, 2)', D('0.12'), DEC),
      c('round(0.135, 2)', D('0.14'), DEC),
      c('round(1250, -2)', D('1200'), DEC),
    ],
    { roundingMode: RoundingMode.HalfEven },
  );
});

describe('floor, ceil and other mathematical functions', () => {
  run([
    c('floor(3.9)', I(3), TOTAL),
    c('floor(-1.2)', I(-2), TOTAL),
    c('ceil(3.2)', I(4), TOTAL),
    c('ceil(-1.9)', I(-1), TOTAL),
    c('floor(5)', I(5), TOTAL),
    c('ceil(2.0000000001)', I(3), TOTAL),
    c('abs(-5)', I(5), TOTAL),
    c('abs(5)', I(5), TOTAL),
    c('abs(-2.5)', D('2.5'), DEC),
    c('pow(2, 3)', D('8'), DEC),
    c('pow(2.5, 3)', D('15.625'), DEC),
    c('pow(2, -2)', D('0.25'), DEC),
    c('pow(4, 0.5)', D('2'), DEC),
    c('pow(1.1, 2)', D('1.21'), DEC),
    c('sqrt(9)', D('3'), DEC),
    c('sqrt(2)', D('1.414213562373095048801688724209698'), DEC),
    c('max(5, 1, 5, 6.7)', D('6.7'), DEC),
    c('min(5, 1, 5, 6.7)', D('1'), DEC),
    c('max(3, 9, 4)', I(9), TOTAL),
    c('min($n, 7)', I(7), TOTAL),
    c('max($n, $big)', I('9007199254740993'), LONG),
    c('random()', D('0.5'), DEC),
    c('random() < 1', true, BOOL),
  ]);
});

describe('comparisons', () => {
  run([
    c('4 < 3', false, BOOL),
    c('4 > 3', true, BOOL),
    c('6 <= 3', false, BOOL),
    c('3 <= 3', true, BOOL),
    c('4 >= 3', true, BOOL),
    c("'mystring' = 'myotherstring'", false, BOOL),
    c("'mystring' != 'mystring'", false, BOOL),
    c("'a' < 'b'", true, BOOL),
    c("'B' < 'a'", true, BOOL),
    c("'abc' = 'ABC'", false, BOOL),
    c('dateTime(2007) = dateTime(2007)', true, BOOL),
    c('dateTime(2007) < dateTime(2008)', true, BOOL),
    c('$Order/Status = Sales.OrderStatus.Open', true, BOOL),
    c('$Order/Status != Sales.OrderStatus.Closed', true, BOOL),
    c('$status = Sales.OrderStatus.Approved', true, BOOL),
    c('$flag = true', true, BOOL),
    c('true != false', true, BOOL),
    c('$Order/Sales.Order_Customer = $Customer', true, BOOL),
    c('$Order = $Order', true, BOOL),
    c('$SpecialOrder = $Order', false, BOOL),
    c('$n = 42', true, BOOL),
    c('$n = 42.0', true, BOOL),
    c('$big > $n', true, BOOL),
    c('$when > [%CurrentDateTime%]', true, BOOL),
    c('$Customer/Points >= 250', true, BOOL),
    c("$Customer/Name = 'Jäger'", true, BOOL),
    c('$Order/Quantity < 3.5', true, BOOL),
    c('$Order/Total > 100', true, BOOL),
    c('$Order/Paid = false', true, BOOL),
    c('1 < 2 = true', true, BOOL),
  ]);
});

describe('Boolean logic', () => {
  run([
    c('(6 > 4) and (3 < 5)', true, BOOL),
    c("('hello' = 'hallo') and (3 < 5)", false, BOOL),
    c("('hello' = 'nothello') or ('byebye' = 'stillnotbyebye')", false, BOOL),
    c('true or false', true, BOOL),
    c("not('hello' = 'hallo')", true, BOOL),
    c('not(true)', false, BOOL),
    c('not true', false, BOOL),
    c('not $flag', false, BOOL),
    c('not not true', true, BOOL),
    c('true and not false', true, BOOL),
    c('not 1 = 2', true, BOOL),
    c('false and $EmptyOrder/Total > 1', false, BOOL),
    c('true or $EmptyOrder/Total > 1', true, BOOL),
    c('$EmptyOrder = empty or $EmptyOrder/Total > 1', true, BOOL),
    c('not(4 > 3) or 1 = 1', true, BOOL),
    c('1 = 1 and 2 = 2 and 3 = 3', true, BOOL),
    c('true or false and false', true, BOOL),
    c('(true or false) and false', false, BOOL),
  ]);
});

describe('if expressions', () => {
  run([
    c("if 7 > 6 then 'correct' else 'incorrect'", 'correct', STR),
    c("if $n > 10 then 'big' else 'small'", 'big', STR),
    c("if $n > 100 then 'big' else 'small'", 'small', STR),
    c('if false then 1 else 2', I(2), TOTAL),
    c('if true then 1 else 2.5', D('1'), DEC),
    c('if false then 1 else 2.5', D('2.5'), DEC),
    c('if true then empty else 5', null, TOTAL),
    c('if $flag then $Order/Status else Sales.OrderStatus.Draft', 'Open', 'Enumeration(Sales.OrderStatus)'),
    c(
      'if 4 > 3 then Sales.OrderStatus.Closed else Sales.OrderStatus.Open',
      'Closed',
      'Enumeration(Sales.OrderStatus)',
    ),
    c('if $n < 10 then 1 else if $n < 100 then 2 else 3', I(2), TOTAL),
    c('if true then $Order else empty', { object: 'o1' }, 'Object(Sales.Order)'),
    c('if $flag then $SpecialOrder else $Order', { object: 'o2' }, 'Object(Sales.Order)'),
    c('if $n > 1 then dateTime(2020) else [%CurrentDateTime%]', T('2019-12-31T23:00:00Z'), DATE),
    c("(if true then 'a' else 'b') + 'c'", 'ac', STR),
    c("if $e = empty then 'none' else $e", 'none', STR),
    c('if $n > 1 then 1 else 2 + 3', I(1), TOTAL),
  ]);
});

describe('empty', () => {
  run([
    c('$e = empty', true, BOOL),
    c('$e != empty', false, BOOL),
    c('empty = $e', true, BOOL),
    c('empty = empty', true, BOOL),
    c('$s = empty', false, BOOL),
    c("'' = empty", false, BOOL),
    c('$EmptyOrder = empty', true, BOOL),
    c('$Order = empty', false, BOOL),
    c('$Order/Note = empty', true, BOOL),
    c('$Order/Total = empty', false, BOOL),
    c('$decEmpty = empty', true, BOOL),
    c('$decEmpty = $decEmpty', true, BOOL),
    c('$decEmpty = 0', false, BOOL),
    c('$noLines = empty', true, BOOL),
    c('$lines = empty', false, BOOL),
    c('$whenEmpty = empty', true, BOOL),
    c('$Order/Sales.Order_Customer != empty', true, BOOL),
    c('$Order/Sales.Order_Tag = empty', true, BOOL),
    c('length($e)', I(0), TOTAL),
    c('length($noLines)', I(0), TOTAL),
    c('length($lines)', I(2), TOTAL),
    c('toString($e)', '', STR),
    c('toString($decEmpty)', '', STR),
    c("'a' + $e", 'a', STR),
    c("$e + 'b'", 'b', STR),
    c("'n=' + $decEmpty", 'n=', STR),
    c("'x' + empty", 'x', STR),
    c('trim($e)', '', STR),
    c("contains('stringtosearchin', $e)", true, BOOL),
    c('toUpperCase($e)', '', STR),
    c("parseDecimal('noDecimal', empty)", null, DEC),
    c('parseDecimal($e, 0)', D('0'), DEC),
    c('parseInteger($e, 7)', I(7), TOTAL),
    c('if $decEmpty = empty then 0 else $decEmpty', D('0'), DEC),
    c('$Order/Note', null, STR),
    c('$EmptyOrder', null, 'Object(Sales.Order)'),
  ]);
});

describe('string functions', () => {
  run([
    c("toLowerCase('thisISmyString')", 'thisismystring', STR),
    c("toUpperCase('thisISmyString')", 'THISISMYSTRING', STR),
    c("length('thisismystring')", I(14), TOTAL),
    c("substring('thisismystring', 6)", 'mystring', STR),
    c("substring('funwithmendixapps', 7,6)", 'mendix', STR),
    c("substring('thisismystring', 6, 2)", 'my', STR),
    c("substring('abc', 3)", '', STR),
    c("substring('thisismystring', 0, min(length('thisismystring'), 20))", 'thisismystring', STR),
    c("find('thisismystring', 'my')", I(6), TOTAL),
    c("find('thisismystring', 'yourstring')", I(-1), TOTAL),
    c("find('thisismystring', 'i', 5)", I(11), TOTAL),
    c("find('abc', '')", I(0), TOTAL),
    c("findLast('thisismystring', 't')", I(9), TOTAL),
    c("findLast('thisismystring', 'yourstring')", I(-1), TOTAL),
    c("findLast('thisismystring', 'i', 5)", I(4), TOTAL),
    c("contains('thisismystring', 'my')", true, BOOL),
    c("contains('abc', 'B')", false, BOOL),
    c("startsWith('thisismystring', 'this')", true, BOOL),
    c("endsWith('thisismystring', 'ring')", true, BOOL),
    c("trim(' this is my string     ')", 'this is my string', STR),
    c("isMatch('234hello6432', '^([0-9]+)$')", false, BOOL),
    c("isMatch('234hello6432', '([0-9]+)')", false, BOOL),
    c("isMatch('234', '([0-9]+)')", true, BOOL),
    c("isMatch('NLG 123.45', '[0-9]')", false, BOOL),
    c("isMatch('NLG 123.45', '.*[0-9].*')", true, BOOL),
    c("isMatch('', '.*[0-9].*')", false, BOOL),
    c("isMatch('ABC', '(?i)abc')", true, BOOL),
    c(
      "replaceAll('this is a string with 75 some numbers 234 thrown in', '([0-9])', 'NUMBER')",
      'this is a string with NUMBERNUMBER some numbers NUMBERNUMBERNUMBER thrown in',
      STR,
    ),
    c(
      "replaceAll('this is a string with no numbers thrown in', '([0-9])', 'NUMBER')",
      'this is a string with no numbers thrown in',
      STR,
    ),
    c(
      "replaceFirst('this is a string with 75 some numbers 234 thrown in', '([0-9])', 'NUMBER')",
      'this is a string with NUMBER5 some numbers 234 thrown in',
      STR,
    ),
    c("replaceAll('Paul S. Mueller', '\\QS.\\E', 'X')", 'Paul X Mueller', STR),
    c("replaceAll('a.b.c', '.', '-')", '-----', STR),
    c("replaceAll('price: 5', 'price', '$1')", '$1: 5', STR),
    c("'foo' + 'bar'", 'foobar', STR),
    c("4.73 + ' kilometers'", '4.73 kilometers', STR),
    c("'n' + 42", 'n42', STR),
    c("'x' + 1.50 + 'y'", 'x1.5y', STR),
    c("1 + 2 + 'a'", '3a', STR),
    c("urlEncode('Hello, world!')", 'Hello%2C+world%21', STR),
    c("urlDecode('Hello%2C+world%21')", 'Hello, world!', STR),
    c("'http://google.com/search?q=' + urlEncode('a b&c')", 'http://google.com/search?q=a+b%26c', STR),
    c("urlEncode('*-._~')", '*-._%7E', STR),
  ]);
});

describe('string functions on non-ASCII text', () => {
  run([
    c("length('Jäger')", I(5), TOTAL),
    c("toUpperCase('straße')", 'STRASSE', STR),
    c("toLowerCase('ÀÉÎ')", 'àéî', STR),
    c("length('日本語')", I(3), TOTAL),
    c("length('😀')", I(2), TOTAL),
    c("substring('Ölçü', 1, 2)", 'lç', STR),
    c("find('naïve café', 'café')", I(6), TOTAL),
    c('toUpperCase($Customer/Name)', 'JÄGER', STR),
    c("contains('Zürich', 'ü')", true, BOOL),
    c("'ß' = 'SS'", false, BOOL),
    c("replaceAll('Crème brûlée', '[éè]', 'e')", 'Creme brûlee', STR),
    c("isMatch('Ωmega', '\\p{L}+')", true, BOOL),
    c("startsWith('Ärger', 'Ä')", true, BOOL),
    c("length(toLowerCase('İ'))", I(2), TOTAL),
    c("urlEncode('café & crème')", 'caf%C3%A9+%26+cr%C3%A8me', STR),
    c("urlDecode('caf%C3%A9')", 'café', STR),
    c("trim('  日本  ')", '日本', STR),
    c("'Grüße, ' + $Customer/Name", 'Grüße, Jäger', STR),
    c("findLast('ääää', 'ä')", I(3), TOTAL),
    c("'é' < 'z'", false, BOOL),
  ]);
});

describe('toString', () => {
  run([
    c('toString(1.4)', '1.4', STR),
    c('toString(true)', 'true', STR),
    c('toString(false)', 'false', STR),
    c('toString(42)', '42', STR),
    c('toString(-0.50)', '-0.5', STR),
    c('toString(1 div 4)', '0.25', STR),
    c('toString(1e3)', '1000', STR),
    c('toString(0.0000001)', '0.0000001', STR),
    c('toString($big)', '9007199254740993', STR),
    c('toString(Sales.OrderStatus.Open)', 'Open', STR),
    c("toString('as is')", 'as is', STR),
    c('toString(dateTime(2007))', 'Mon Jan 01 00:00:00 CET 2007', STR),
    c('toString(dateTime(2024, 7, 1, 14, 5, 9))', 'Mon Jul 01 14:05:09 CEST 2024', STR),
    c('toString(dateTimeUTC(2024, 7, 1, 14, 5, 9))', 'Mon Jul 01 16:05:09 CEST 2024', STR),
  ]);
});

describe('parsing and formatting numbers', () => {
  run([
    c("parseInteger('42')", I(42), TOTAL),
    c("parseInteger('not_an_integer', 42)", I(42), TOTAL),
    c("parseInteger('-17')", I(-17), TOTAL),
    c("parseInteger('+5')", I(5), TOTAL),
    c("parseInteger('9223372036854775807')", I('9223372036854775807'), TOTAL),
    c("parseInteger('9223372036854775808', -1)", I(-1), TOTAL),
    c("parseInteger(' 5', 0)", I(0), TOTAL),
    c("parseInteger('3.0', 0)", I(0), TOTAL),
    c("parseDecimal('3.45')", D('3.45'), DEC),
    c("parseDecimal('noDecimal', 5.05)", D('5.05'), DEC),
    c("parseDecimal('-0.5')", D('-0.5'), DEC),
    c("parseDecimal('1.5E3')", D('1500'), DEC),
    c("parseDecimal('3,241.98', '#,###.##')", D('3241.98'), DEC),
    c("parseDecimal('12,5', '#,##0.00')", D('125'), DEC),
    c("parseDecimal('50%', '0%')", D('0.5'), DEC),
    c("parseDecimal('abc', '#,##0.00', 1)", D('1'), DEC),
    c("parseDecimal('1.234,5', '#,##0.00', empty)", D('1.234'), DEC),
    c("formatDecimal(1234.56, '#,###.#')", '1,234.6', STR),
    c("formatDecimal(1234.56, '¤ #,##0.00')", '$ 1,234.56', STR),
    c("formatDecimal(0.56, '% ##0')", '% 56', STR),
    c("formatDecimal(1234.56, '#,##0.00', 'nl-NL')", '1.234,56', STR),
    c("formatDecimal(1234.5678, '#,##0.00 ¤', 'de-DE')", '1.234,57 €', STR),
    c("formatDecimal(1234.5, '#,##0.00', 'fr-FR')", '1\u202f234,50', STR),
    c("formatDecimal(1234.5, '0.00')", '1234.50', STR),
    c("formatDecimal(0.125, '0.00')", '0.12', STR),
    c("formatDecimal(0.135, '0.00')", '0.14', STR),
    c("formatDecimal(-1234.5, '#,##0.00;(#,##0.00)')", '(1,234.50)', STR),
    c("formatDecimal(-1234.5, '#,##0.00')", '-1,234.50', STR),
    c("formatDecimal(0.5, '#.##')", '.5', STR),
    c("formatDecimal(0, '#.##')", '0', STR),
    c("formatDecimal(1234567, '#,##0')", '1,234,567', STR),
    c("formatDecimal(12345, '0.###E0')", '1.234E4', STR),
    c("formatDecimal(0.00012, '00.###E0')", '12E-5', STR),
    c("formatDecimal(42, '000000')", '000042', STR),
    c("formatDecimal(3.14159, '''pi = ''0.00')", 'pi = 3.14', STR),
    c("formatDecimal(0.256, '0.0%')", '25.6%', STR),
  ]);
});

describe('date creation and calendar arithmetic in the user time zone', () => {
  run([
    c('dateTime(2007)', T('2006-12-31T23:00:00Z'), DATE),
    c('dateTime(2007, 1)', T('2006-12-31T23:00:00Z'), DATE),
    c('dateTimeUTC(2007)', T('2007-01-01T00:00:00Z'), DATE),
    c('dateTime(2007, 1, 1, 1, 1, 1)', T('2007-01-01T00:01:01Z'), DATE),
    c('dateTime(2024, 7, 1)', T('2024-06-30T22:00:00Z'), DATE),
    c('addDays(dateTime(2024, 3, 30, 12, 0, 0), 1)', T('2024-03-31T10:00:00Z'), DATE),
    c('addHours(dateTime(2024, 3, 30, 12, 0, 0), 24)', T('2024-03-31T11:00:00Z'), DATE),
    c('addDaysUTC(dateTime(2024, 3, 30, 12, 0, 0), 1)', T('2024-03-31T11:00:00Z'), DATE),
    c('addDays(dateTime(2024, 10, 26, 12, 0, 0), 1)', T('2024-10-27T11:00:00Z'), DATE),
    c('addWeeks(dateTime(2024, 3, 28, 9, 0, 0), 1)', T('2024-04-04T07:00:00Z'), DATE),
    c('addMonths(dateTime(2007, 1, 31), 1)', T('2007-02-27T23:00:00Z'), DATE),
    c('addMonths(dateTime(2024, 1, 31), 1)', T('2024-02-28T23:00:00Z'), DATE),
    c('addMonths(dateTime(2007, 1, 1, 1, 1, 1), 13)', T('2008-02-01T00:01:01Z'), DATE),
    c('addMonthsUTC(dateTimeUTC(2024, 3, 31), -1)', T('2024-02-29T00:00:00Z'), DATE),
    c('addQuarters(dateTime(2007, 1, 1, 1, 1, 1), 1)', T('2007-03-31T23:01:01Z'), DATE),
    c('addYears(dateTime(2024, 2, 29), 1)', T('2025-02-27T23:00:00Z'), DATE),
    c('addYears(dateTime(2007, 1, 1, 1, 1, 1), 11)', T('2018-01-01T00:01:01Z'), DATE),
    c('addYearsUTC(dateTimeUTC(2020, 2, 29), 4)', T('2024-02-29T00:00:00Z'), DATE),
    c('addMilliseconds(dateTime(2007, 1, 1, 1, 1, 1), 1400)', T('2007-01-01T00:01:02.400Z'), DATE),
    c('addSeconds(dateTime(2007, 1, 1, 1, 1, 1), 2)', T('2007-01-01T00:01:03Z'), DATE),
    c('addMinutes(dateTime(2007, 1, 1, 1, 1, 1), 3)', T('2007-01-01T00:04:01Z'), DATE),
    c('addHours(dateTime(2007, 1, 1, 1, 1, 1), 25)', T('2007-01-02T01:01:01Z'), DATE),
    c('addSeconds(dateTimeUTC(1970, 1, 1, 0, 0, 0), 2147483647 + 100)', T('2038-01-19T03:15:47Z'), DATE),
    c('subtractDays(dateTime(2024, 3, 31, 12, 0, 0), 1)', T('2024-03-30T11:00:00Z'), DATE),
    c('subtractHours(dateTime(2024, 3, 31, 12, 0, 0), 24)', T('2024-03-30T10:00:00Z'), DATE),
    c('subtractMonths(dateTime(2024, 3, 31), 1)', T('2024-02-28T23:00:00Z'), DATE),
    c('subtractWeeksUTC(dateTimeUTC(2024, 1, 10), 2)', T('2023-12-27T00:00:00Z'), DATE),
    c('dateTime(2024, 3, 31, 2, 30)', T('2024-03-31T01:30:00Z'), DATE),
    c('max(dateTime(2020), dateTime(2021))', T('2020-12-31T23:00:00Z'), DATE),
    c('min($when, [%CurrentDateTime%])', T('2024-03-30T10:15:30.250Z'), DATE),
  ]);
});

describe('time between dates', () => {
  run([
    c('millisecondsBetween(dateTime(2007, 1, 1, 1, 1, 1), dateTime(2007,1,1,1,1,3))', D('2000'), DEC),
    c('secondsBetween(dateTime(2007, 1, 1, 1, 1, 1), dateTime(2007,1,1,1,2,3))', D('62'), DEC),
    c('minutesBetween(dateTime(2007, 1, 1, 1, 2, 1), dateTime(2007,1,1,1,1,1))', D('1'), DEC),
    c('hoursBetween(dateTime(2007, 1, 1, 3, 31, 1), dateTime(2007,1,1,1,1,1))', D('2.5'), DEC),
    c('daysBetween(dateTime(2007, 2, 13, 1, 1, 1), dateTime(2007,1,1,1,1,1))', D('43'), DEC),
    c('daysBetween(dateTime(2007, 2, 13, 0, 0, 0), dateTime(2007,2,13,6,0,0))', D('0.25'), DEC),
    c(
      'weeksBetween(dateTime(2007, 1, 9, 1, 1, 1), dateTime(2007,1,1,1,1,1))',
      D('1.142857142857142857142857142857143'),
      DEC,
    ),
    c('hoursBetween(dateTime(2024, 3, 31), dateTime(2024, 4, 1))', D('23'), DEC),
    c(
      'daysBetween(dateTime(2024, 3, 31), dateTime(2024, 4, 1))',
      D('0.9583333333333333333333333333333333'),
      DEC,
    ),
    c('hoursBetween(dateTime(2024, 10, 27), dateTime(2024, 10, 28))', D('25'), DEC),
    c('calendarMonthsBetween(dateTime(2007, 1, 1, 10, 1, 1), dateTime(2007, 8, 1, 1, 1, 1))', I(7), TOTAL),
    c('calendarYearsBetween(dateTime(2007, 1, 1, 10, 1, 1), dateTime(2017, 1, 1, 1, 1, 1))', I(10), TOTAL),
    c('calendarMonthsBetween(dateTime(2024, 1, 31), dateTime(2024, 2, 29))', I(0), TOTAL),
    c('calendarYearsBetween(dateTime(2017, 6, 1), dateTime(2007, 7, 1))', I(9), TOTAL),
  ]);
});

describe('date tokens in the user time zone and in UTC', () => {
  run([
    c('[%CurrentDateTime%]', T('2024-03-30T10:15:30.250Z'), DATE),
    c('[%BeginOfCurrentMinute%]', T('2024-03-30T10:15:00Z'), DATE),
    c('[%EndOfCurrentMinute%]', T('2024-03-30T10:15:59.999Z'), DATE),
    c('[%BeginOfCurrentHour%]', T('2024-03-30T10:00:00Z'), DATE),
    c('[%BeginOfCurrentDay%]', T('2024-03-29T23:00:00Z'), DATE),
    c('[%BeginOfCurrentDayUTC%]', T('2024-03-30T00:00:00Z'), DATE),
    c('[%EndOfCurrentDay%]', T('2024-03-30T22:59:59.999Z'), DATE),
    c('[%EndOfCurrentDayUTC%]', T('2024-03-30T23:59:59.999Z'), DATE),
    c('[%BeginOfYesterday%]', T('2024-03-28T23:00:00Z'), DATE),
    c('[%BeginOfTomorrow%]', T('2024-03-30T23:00:00Z'), DATE),
    c('[%EndOfTomorrow%]', T('2024-03-31T21:59:59.999Z'), DATE),
    c('[%BeginOfCurrentWeek%]', T('2024-03-23T23:00:00Z'), DATE),
    c('[%EndOfCurrentWeek%]', T('2024-03-30T22:59:59.999Z'), DATE),
    c('[%BeginOfCurrentMonth%]', T('2024-02-29T23:00:00Z'), DATE),
    c('[%EndOfCurrentMonth%]', T('2024-03-31T21:59:59.999Z'), DATE),
    c('[%BeginOfCurrentYear%]', T('2023-12-31T23:00:00Z'), DATE),
    c('[%EndOfCurrentYearUTC%]', T('2024-12-31T23:59:59.999Z'), DATE),
    c('[%BeginOfTomorrow%] > [%CurrentDateTime%]', true, BOOL),
    c('$Order/OrderDate >= [%BeginOfCurrentDay%] and $Order/OrderDate < [%BeginOfTomorrow%]', true, BOOL),
  ]);
});

describe('begin, end and trim functions', () => {
  run([
    c('beginOfDay(dateTime(2007, 2, 7, 1, 1))', T('2007-02-06T23:00:00Z'), DATE),
    c('beginOfWeek(dateTime(2007, 2, 7, 1, 1))', T('2007-02-03T23:00:00Z'), DATE),
    c('beginOfMonth(dateTime(2007, 2, 7, 1, 1))', T('2007-01-31T23:00:00Z'), DATE),
    c('beginOfYear(dateTime(2007, 2, 7, 1, 1))', T('2006-12-31T23:00:00Z'), DATE),
    c('endOfDay(dateTime(2007, 2, 7, 1, 1))', T('2007-02-07T22:59:59.999Z'), DATE),
    c('endOfWeek(dateTime(2007, 2, 7, 1, 1, 1))', T('2007-02-10T22:59:59.999Z'), DATE),
    c('endOfMonth(dateTime(2007, 2, 7, 1, 1, 1))', T('2007-02-28T22:59:59.999Z'), DATE),
    c('endOfYear(dateTime(2007, 2, 7, 1, 1, 1))', T('2007-12-31T22:59:59.999Z'), DATE),
    c(
      'trimToSeconds(addMilliseconds(dateTime(2008, 6, 8, 10, 12, 51), 387))',
      T('2008-06-08T08:12:51Z'),
      DATE,
    ),
    c('trimToMinutes(dateTime(2008, 6, 8, 10, 12, 51))', T('2008-06-08T08:12:00Z'), DATE),
    c('trimToHours(dateTime(2008, 6, 8, 10, 12, 51))', T('2008-06-08T08:00:00Z'), DATE),
    c('trimToDays(dateTime(2008, 6, 8, 10, 12, 51))', T('2008-06-07T22:00:00Z'), DATE),
    c('trimToMonths(dateTime(2008, 6, 8, 10, 12, 51))', T('2008-05-31T22:00:00Z'), DATE),
    c('trimToYears(dateTime(2008, 6, 8, 10, 12, 51))', T('2007-12-31T23:00:00Z'), DATE),
    c('trimToDaysUTC(dateTime(2008, 6, 8, 1, 0, 0))', T('2008-06-07T00:00:00Z'), DATE),
    c('dateTimeToEpoch(dateTimeUTC(1974, 7, 2, 9, 50, 10))', I('141990610000'), LONG),
    c('epochToDateTime(141990610000)', T('1974-07-02T09:50:10Z'), DATE),
  ]);
});

describe('formatting and parsing dates', () => {
  run([
    c(
      "formatDateTime(dateTime(2008, 6, 8, 10, 12, 1), 'EEE, d MMM yyyy HH:mm:ss Z')",
      'Sun, 8 Jun 2008 10:12:01 +0200',
      STR,
    ),
    c(
      "formatDateTime(dateTime(2008, 6, 8, 10, 12, 1), 'yyyy-MM-dd') + 'T' + formatDateTime(dateTime(2008, 6, 8, 10, 12, 1), 'HH:mm:ss')",
      '2008-06-08T10:12:01',
      STR,
    ),
    c(
      "formatDateTimeUTC(dateTime(2008, 6, 8, 10, 12, 1), 'yyyy-MM-dd''T''HH:mm:ssXXX')",
      '2008-06-08T08:12:01Z',
      STR,
    ),
    c(
      "formatDateTime(dateTime(2008, 6, 8, 10, 12, 1), 'yyyy-MM-dd''T''HH:mm:ss.SSSXXX')",
      '2008-06-08T10:12:01.000+02:00',
      STR,
    ),
    c(
      "formatDateTime(dateTime(2024, 1, 5, 15, 4, 5), 'h:mm a, EEEE d MMMM yy')",
      '3:04 PM, Friday 5 January 24',
      STR,
    ),
    c("formatDateTime(dateTime(2024, 1, 5), 'D w W F u E')", '5 1 1 1 5 Fri', STR),
    c("formatDateTime(dateTime(2024, 12, 30), 'YYYY-ww')", '2025-01', STR),
    c("formatDateTime(dateTime(2024, 3, 31, 2, 30), 'HH:mm z')", '03:30 CEST', STR),
    c("formatDateTime(dateTime(2024, 1, 1, 0, 5), 'k:mm K:mm G')", '24:05 0:05 AD', STR),
    c("formatDateTime(dateTime(2024, 1, 1), 'yyyyy ''o''''clock''')", "02024 o'clock", STR),
    c('formatTime(dateTime(1974, 7, 2, 9, 50, 10))', '9:50 AM', STR),
    c('formatDate(dateTime(1974, 7, 2, 9, 50, 10))', '7/2/74', STR),
    c('formatDateTime(dateTime(1974, 7, 2, 9, 50, 10))', '7/2/74, 9:50 AM', STR),
    c(
      "formatDateTimeUTC(dateTimeUTC(2024, 2, 3, 4, 5, 6), 'dd.MM.yyyy HH:mm:ss.SSS z')",
      '03.02.2024 04:05:06.000 UTC',
      STR,
    ),
    c(
      "parseDateTime('2022-04-30T22:00:00.000', 'yyyy-MM-dd''T''HH:mm:ss.SSS')",
      T('2022-04-30T20:00:00Z'),
      DATE,
    ),
    c("parseDateTime('noDateTime', 'dd-MM-yyyy', dateTime(2007))", T('2006-12-31T23:00:00Z'), DATE),
    c("parseDateTime('35-11-2015', 'dd-MM-yyyy', dateTime(2015))", T('2015-12-04T23:00:00Z'), DATE),
    c("parseDateTimeUTC('2015-11-05', 'yyyy-MM-dd')", T('2015-11-05T00:00:00Z'), DATE),
    c("parseDateTime('05/11/15 3:04 PM', 'dd/MM/yy h:mm a')", T('2015-11-05T14:04:00Z'), DATE),
    c("parseDateTime('20240131', 'yyyyMMdd')", T('2024-01-30T23:00:00Z'), DATE),
    c("parseDateTime('31 January 2024', 'd MMMM yyyy')", T('2024-01-30T23:00:00Z'), DATE),
    c("parseDateTime('Jan 31, 2024', 'MMM d, yyyy')", T('2024-01-30T23:00:00Z'), DATE),
    c("parseDateTime('2024-01-31 10:00 +0000', 'yyyy-MM-dd HH:mm Z')", T('2024-01-31T10:00:00Z'), DATE),
    c("parseDateTime('2024-01-31T10:00:00Z', 'yyyy-MM-dd''T''HH:mm:ssX')", T('2024-01-31T10:00:00Z'), DATE),
    c("parseDateTime('2024-06-15 trailing text', 'yyyy-MM-dd')", T('2024-06-14T22:00:00Z'), DATE),
    c("parseDateTime('x', 'yyyy', empty)", null, DATE),
    c(
      "parseDateTime(formatDateTime($when, 'yyyy-MM-dd HH:mm:ss'), 'yyyy-MM-dd HH:mm:ss')",
      T('2024-03-30T12:00:00Z'),
      DATE,
    ),
  ]);
});

describe('formatting dates in the user locale', () => {
  run(
    [
      c("formatDateTime(dateTime(2024, 5, 1), 'EEEE d MMMM yyyy')", 'woensdag 1 mei 2024', STR),
      c("formatDecimal(1234.5, '#,##0.00')", '1.234,50', STR),
      c("parseDateTime('1 mei 2024', 'd MMMM yyyy')", T('2024-04-30T22:00:00Z'), DATE),
      c('[%BeginOfCurrentWeek%]', T('2024-03-24T23:00:00Z'), DATE),
    ],
    { locale: 'nl-NL' },
  );
});

describe('members, associations, enumerations, constants and system items', () => {
  run([
    c('Sales.OrderStatus.Open', 'Open', 'Enumeration(Sales.OrderStatus)'),
    c('getKey(Sales.OrderStatus.Approved)', 'Approved', STR),
    c('getCaption($Customer/Grade)', 'Gouden', STR),
    c('getKey($Customer/Grade)', 'Gold', STR),
    c('getCaption(Sales.Grade.Silver)', 'Zilveren', STR),
    c('$Customer/Grade = Sales.Grade.Gold', true, BOOL),
    c('toString($Customer/Grade)', 'Gold', STR),
    c('$Order/Total', D('100.5'), DEC),
    c('$Order/Sales.Order_Customer/Name', 'Jäger', STR),
    c('$Order/Sales.Order_Customer/Sales.Customer/Name', 'Jäger', STR),
    c('$Order/Sales.Order_Customer/Sales.Customer_Address/Sales.Address_Country/Name', 'Nederland', STR),
    c('$Order/Sales.Order_Customer', { object: 'c1' }, 'Object(Sales.Customer)'),
    c('$Order/Sales.Order_Tag', { list: [] }, 'List(Sales.Tag)'),
    c('$Customer/Sales.Order_Customer', { list: ['o1'] }, 'List(Sales.Order)'),
    c('length($Order/Sales.OrderLine_Order)', I(2), TOTAL),
    c('$SpecialOrder/Total', D('5'), DEC),
    c('$SpecialOrder/Priority * 10', I(20), TOTAL),
    c('@Sales.AppName', 'Orders', STR),
    c("@Sales.AppName + ' v1'", 'Orders v1', STR),
    c('$currentUser/Name', 'alice', STR),
    c('[%CurrentUser%] = $currentUser', true, BOOL),
    c('$Order/Sales.Order_Customer/Sales.Customer_User = [%CurrentUser%]', true, BOOL),
    c('isNew($Order)', false, BOOL),
    c('isNew($NewOrder)', true, BOOL),
    c("getCaption(if $flag then $Order/Status else Sales.OrderStatus.Draft) + '!'", 'Open!', STR),
  ]);
});
