import { Decimal as OtherDecimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { Decimal, divideDecimal, isStorableDecimal, toStorageDecimal } from './decimal.js';
import {
  MxTypes,
  enumerationType,
  formatType,
  isAssignable,
  listType,
  objectType,
  parseType,
} from './mx-types.js';
import { FixtureObject, fixtureSchema } from './testing/fixture.js';
import { compareMxValues, defaultValueOf, mxValuesEqual, toJsonValue, toStringValue } from './values.js';
import { compileExpression } from './expression/compiler.js';
import { createEvaluationContext } from './context.js';

describe('Decimal storage', () => {
  it('rounds stored values half to even to 8 fractional digits', () => {
    expect(toStorageDecimal(new Decimal('1.123456785')).toString()).toBe('1.12345678');
    expect(toStorageDecimal(new Decimal('1.123456775')).toString()).toBe('1.12345678');
    expect(toStorageDecimal(new Decimal('1.123456795')).toString()).toBe('1.1234568');
    expect(toStorageDecimal(new Decimal('-0.000000005')).toString()).toBe('0');
    expect(toStorageDecimal(new Decimal('99999999999999999999.99999999')).toString()).toBe(
      '99999999999999999999.99999999',
    );
  });

  it('refuses more than 20 integer digits', () => {
    expect(isStorableDecimal(new Decimal('100000000000000000000'))).toBe(false);
    expect(() => toStorageDecimal(new Decimal('99999999999999999999.999999995'))).toThrow(
      expect.objectContaining({ code: 'DECIMAL_OUT_OF_RANGE' }),
    );
  });

  it('divides to 34 significant digits half to even and keeps sums and products exact', () => {
    expect(divideDecimal(new Decimal(2), new Decimal(3)).toString()).toBe(
      '0.6666666666666666666666666666666667',
    );
    const big = new Decimal('12345678901234567890.12345678');
    expect(big.times(big).toString()).toBe('152415787532388367504953515403139767652.7968299765279684');
  });

  it('reads Decimals from another decimal.js constructor at full precision', () => {
    const result = compileExpression('$d * 3', {
      schema: fixtureSchema,
      variables: new Map([['d', MxTypes.Decimal]]),
    });
    if (!result.ok) throw new Error('should compile');
    const foreign = new OtherDecimal('0.1');
    const value = result.expression.evaluate(new Map([['d', foreign]]), createEvaluationContext());
    expect(value).toBeInstanceOf(Decimal);
    expect((value as Decimal).toString()).toBe('0.3');
  });
});

describe('values as Mendix compares and prints them', () => {
  const a = new FixtureObject('Sales.Order', 'o1');
  const b = new FixtureObject('Sales.SpecialOrder', 'o1');

  it('compares numbers across types, dates by instant, objects by id and empty with empty lists', () => {
    expect(mxValuesEqual(1n, new Decimal('1.0'))).toBe(true);
    expect(mxValuesEqual(new Decimal('2.50'), new Decimal('2.5'))).toBe(true);
    expect(mxValuesEqual(new Date(5), new Date(5))).toBe(true);
    expect(mxValuesEqual(a, b)).toBe(true);
    expect(mxValuesEqual(null, [])).toBe(true);
    expect(mxValuesEqual(null, '')).toBe(false);
    expect(mxValuesEqual('a', 'A')).toBe(false);
    expect(mxValuesEqual([a], [b])).toBe(true);
    expect(mxValuesEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
  });

  it('orders numbers, strings by code unit and dates', () => {
    expect(compareMxValues(2n, new Decimal('1.5'))).toBeGreaterThan(0);
    expect(compareMxValues('B', 'a')).toBeLessThan(0);
    expect(compareMxValues(new Date(1), new Date(2))).toBeLessThan(0);
    expect(compareMxValues(null, 1n)).toBeUndefined();
    expect(compareMxValues('a', 1n)).toBeUndefined();
  });

  it('prints values as toString does and as JSON', () => {
    expect(toStringValue(new Decimal('-0.50'))).toBe('-0.5');
    expect(toStringValue(new Date('2007-01-01T00:00:00Z'), { timeZone: 'Europe/Amsterdam' })).toBe(
      'Mon Jan 01 01:00:00 CET 2007',
    );
    expect(toStringValue(null)).toBe('');
    expect(toJsonValue(new Decimal('0.1'))).toBe('0.1');
    expect(toJsonValue(9007199254740993n)).toBe('9007199254740993');
    expect(toJsonValue(42n)).toBe(42);
    expect(toJsonValue(new Date(0))).toBe('1970-01-01T00:00:00.000Z');
    expect(toJsonValue(a)).toEqual({ id: 'o1', entity: 'Sales.Order' });
    expect(toJsonValue(new Uint8Array([104, 105]))).toBe('aGk=');
  });

  it('gives Mendix defaults per type', () => {
    expect(defaultValueOf(MxTypes.Integer)).toBe(0n);
    expect((defaultValueOf(MxTypes.Decimal) as Decimal).isZero()).toBe(true);
    expect(defaultValueOf(MxTypes.Boolean)).toBe(false);
    expect(defaultValueOf(MxTypes.String)).toBeNull();
    expect(defaultValueOf(listType('Sales.Order'))).toEqual([]);
    expect(defaultValueOf(objectType('Sales.Order'))).toBeNull();
  });
});

describe('types', () => {
  it('formats and parses type names', () => {
    for (const type of [
      MxTypes.String,
      MxTypes.Long,
      enumerationType('Sales.OrderStatus'),
      objectType('Sales.Order'),
      listType('Sales.Order'),
      MxTypes.Empty,
    ]) {
      expect(parseType(formatType(type))).toEqual(type);
    }
    expect(parseType('Object(nope)')).toBeUndefined();
    expect(parseType('Float')).toBeUndefined();
  });

  it('decides assignability as Studio Pro does', () => {
    expect(isAssignable(MxTypes.Integer, MxTypes.Decimal)).toBe(true);
    expect(isAssignable(MxTypes.Long, MxTypes.Integer)).toBe(true);
    expect(isAssignable(MxTypes.Decimal, MxTypes.Integer)).toBe(false);
    expect(isAssignable(MxTypes.Empty, objectType('Sales.Order'))).toBe(true);
    expect(isAssignable(MxTypes.Empty, MxTypes.Void)).toBe(false);
    expect(isAssignable(objectType('Sales.SpecialOrder'), objectType('Sales.Order'), fixtureSchema)).toBe(
      true,
    );
    expect(isAssignable(objectType('Sales.SpecialOrder'), objectType('Sales.Order'))).toBe(false);
    expect(isAssignable(enumerationType('Sales.Grade'), enumerationType('Sales.OrderStatus'))).toBe(false);
    expect(isAssignable(MxTypes.String, enumerationType('Sales.OrderStatus'))).toBe(false);
  });
});
