import { describe, expect, it } from 'vitest';
import { loadModelOrThrow } from '@runplane/model';
import { join } from 'node:path';
import { DateStyle, valueFromJson, valueFromText, valueToJson } from './values.js';

const model = await loadModelOrThrow(join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'orders'));
const xas = { dates: DateStyle.EpochMs, where: 'Sales.Order.Total', code: 'INVALID_STATE' };
const rest = { ...xas, dates: DateStyle.Iso };

describe('JSON values of the client API and published REST', () => {
  it('carries Integers and Longs as numbers while safe, and as digits beyond 2^53', () => {
    expect(valueFromJson(model, { kind: 'Long' }, 42, xas)).toEqual({
      kind: { $case: 'integer', value: 42n },
    });
    expect(valueFromJson(model, { kind: 'Long' }, '9223372036854775807', xas)).toEqual({
      kind: { $case: 'integer', value: 9223372036854775807n },
    });
    expect(valueToJson({ kind: { $case: 'integer', value: 42n } }, DateStyle.EpochMs)).toBe(42);
    expect(valueToJson({ kind: { $case: 'integer', value: 2n ** 60n } }, DateStyle.EpochMs)).toBe(
      '1152921504606846976',
    );
    expect(() => valueFromJson(model, { kind: 'Long' }, 2 ** 60, xas)).toThrow(/takes an integer/);
    expect(() => valueFromJson(model, { kind: 'Long' }, '9223372036854775808', xas)).toThrow(/out of range/);
    expect(() => valueFromJson(model, { kind: 'Integer' }, 1.5, xas)).toThrow(
      /Sales.Order.Total takes an integer/,
    );
  });

  it('keeps Decimals exact as text and refuses anything that is not a plain number', () => {
    expect(valueFromJson(model, { kind: 'Decimal' }, '12345678901234567890.12345678', xas)).toEqual({
      kind: { $case: 'decimal', value: '12345678901234567890.12345678' },
    });
    expect(valueFromJson(model, { kind: 'Decimal' }, 12.5, xas)).toEqual({
      kind: { $case: 'decimal', value: '12.5' },
    });
    for (const bad of ['1e5', '12,5', 'NaN', '', true]) {
      expect(() => valueFromJson(model, { kind: 'Decimal' }, bad, xas)).toThrow(/decimal number/);
    }
  });

  it('reads dates as epoch milliseconds on the client API and as ISO 8601 in REST', () => {
    const ms = Date.UTC(2024, 4, 1, 10, 0, 0);
    expect(valueFromJson(model, { kind: 'DateTime' }, ms, xas)).toEqual({
      kind: { $case: 'dateTime', value: BigInt(ms) },
    });
    expect(valueFromJson(model, { kind: 'DateTime' }, '2024-05-01T12:00:00+02:00', rest)).toEqual({
      kind: { $case: 'dateTime', value: BigInt(ms) },
    });
    expect(() => valueFromJson(model, { kind: 'DateTime' }, '2024-05-01T10:00:00', rest)).toThrow(/ISO 8601/);
    expect(() => valueFromJson(model, { kind: 'DateTime' }, '2024-05-01', xas)).toThrow(/milliseconds/);
    const value = { kind: { $case: 'dateTime' as const, value: BigInt(ms) } };
    expect(valueToJson(value, DateStyle.EpochMs)).toBe(ms);
    expect(valueToJson(value, DateStyle.Iso)).toBe('2024-05-01T10:00:00.000Z');
  });

  it('takes enumeration keys the model declares, and only those', () => {
    const type = { kind: 'Enumeration' as const, enumeration: 'Sales.OrderStatus' };
    expect(valueFromJson(model, type, 'Placed', xas)).toEqual({
      kind: { $case: 'enumeration', value: 'Placed' },
    });
    expect(() => valueFromJson(model, type, 'Shipped', xas)).toThrow(
      /one of Draft, Placed, Approved, Rejected, Closed/,
    );
  });

  it('takes objects by id and lists by ids, and empty as null', () => {
    expect(valueFromJson(model, { kind: 'Object', entity: 'Sales.Order' }, 'abc', xas)).toEqual({
      kind: { $case: 'objectId', value: 'abc' },
    });
    expect(valueFromJson(model, { kind: 'List', entity: 'Sales.Order' }, ['a', 'b'], xas)).toEqual({
      kind: { $case: 'objectIds', value: { ids: ['a', 'b'] } },
    });
    expect(valueFromJson(model, { kind: 'String' }, null, xas)).toEqual({
      kind: { $case: 'empty', value: true },
    });
    expect(valueToJson({ kind: { $case: 'empty', value: true } }, DateStyle.Iso)).toBeNull();
    expect(() => valueFromJson(model, { kind: 'List', entity: 'Sales.Order' }, ['a', 7], xas)).toThrow(
      /list of Sales.Order/,
    );
  });

  it('reads path and query text by the parameter’s type, naming the parameter when it does not fit', () => {
    const opts = { dates: DateStyle.Iso, where: 'number', code: 'INVALID_PARAMETER' };
    expect(valueFromText(model, { kind: 'Long' }, '17', opts)).toEqual({
      kind: { $case: 'integer', value: 17n },
    });
    expect(valueFromText(model, { kind: 'Boolean' }, 'true', opts)).toEqual({
      kind: { $case: 'boolean', value: true },
    });
    expect(() => valueFromText(model, { kind: 'Long' }, '17abc', opts)).toThrow(
      expect.objectContaining({
        code: 'INVALID_PARAMETER',
        details: expect.objectContaining({ where: 'number' }) as unknown,
      }),
    );
    expect(() => valueFromText(model, { kind: 'Boolean' }, 'yes', opts)).toThrow(
      /number takes true or false/,
    );
  });
});
