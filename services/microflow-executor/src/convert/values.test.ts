import { Decimal } from '@runplane/expressions';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { executor, type common } from '@runplane/proto';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAB_MODEL_DIR } from '../testing/harness.js';
import { EMPTY_VALUE, MemberTypes, primitiveFromValue, valueOf } from './values.js';

/** A value as it arrives after crossing the wire. */
function overTheWire(value: common.Value): common.Value | undefined {
  const bytes = executor.ExecuteResponse.encode({ result: value, instructions: [] }).finish();
  return executor.ExecuteResponse.decode(bytes).result;
}

describe('values at the gRPC edge', () => {
  let model: CompiledModel;
  let types: MemberTypes;

  beforeAll(async () => {
    model = await loadModelOrThrow(LAB_MODEL_DIR);
    types = new MemberTypes(model);
  });

  it('round-trip every attribute type exactly, across the wire', () => {
    const cases: [string, unknown][] = [
      ['Text', 'naïve – ✓'],
      ['Count', -2147483648n],
      ['Big', -9223372036854775808n],
      ['Big', 9007199254740993n],
      ['Amount', new Decimal('-12345678901234567890.12345678')],
      ['Amount', new Decimal('0.00000001')],
      ['Flag', false],
      ['When', new Date(-62135596800000)],
      ['Color', 'Green'],
      ['Text', null],
    ];
    for (const [member, value] of cases) {
      const wire = overTheWire(types.toValue('Lab.Sample', member, value as never));
      const back = types.fromValue('Lab.Sample', member, wire);
      if (value instanceof Decimal) expect((back as Decimal).equals(value)).toBe(true);
      else expect(back).toEqual(value);
    }
  });

  it('write Decimals in plain notation and enumerations as their key', () => {
    expect(valueOf(new Decimal('1e21'))).toEqual({
      kind: { $case: 'decimal', value: '1000000000000000000000' },
    });
    expect(valueOf(new Decimal('1.50'))).toEqual({ kind: { $case: 'decimal', value: '1.5' } });
    expect(valueOf('Blue', { kind: 'Enumeration', enumeration: 'Lab.Color' })).toEqual({
      kind: { $case: 'enumeration', value: 'Blue' },
    });
    expect(valueOf('Blue')).toEqual({ kind: { $case: 'string', value: 'Blue' } });
    expect(valueOf(new Date(Number.NaN))).toEqual(EMPTY_VALUE);
  });

  it('carry associations as object ids', () => {
    expect(types.toValue('Lab.Sample', 'Lab.Sample_Tag', 'a')).toEqual({
      kind: { $case: 'objectId', value: 'a' },
    });
    expect(types.toValue('Lab.Sample', 'Lab.Sample_Tag', null)).toEqual(EMPTY_VALUE);
    expect(types.toValue('Lab.Sample', 'Lab.Sample_Tags', ['a', 'b'])).toEqual({
      kind: { $case: 'objectIds', value: { ids: ['a', 'b'] } },
    });
    expect(types.fromValue('Lab.Sample', 'Lab.Sample_Tags', EMPTY_VALUE)).toEqual([]);
    expect(types.fromValue('Lab.Sample', 'Lab.Sample_Tag', undefined)).toBeNull();
  });

  it('refuse values that do not fit, naming where', () => {
    const refuse = (value: common.Value, type: Parameters<typeof primitiveFromValue>[1]) => () =>
      primitiveFromValue(value, type, 'Lab.Sample.X', model);
    expect(refuse({ kind: { $case: 'string', value: '12' } }, { kind: 'Integer' })).toThrow(
      expect.objectContaining({ code: 'INVALID_VALUE' }),
    );
    expect(refuse({ kind: { $case: 'decimal', value: '1,5' } }, { kind: 'Decimal' })).toThrow(
      expect.objectContaining({ code: 'INVALID_VALUE' }),
    );
    expect(refuse({ kind: { $case: 'decimal', value: 'NaN' } }, { kind: 'Decimal' })).toThrow(
      expect.objectContaining({ code: 'INVALID_VALUE' }),
    );
    expect(
      refuse(
        { kind: { $case: 'enumeration', value: 'Purple' } },
        { kind: 'Enumeration', enumeration: 'Lab.Color' },
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_VALUE',
        details: { where: 'Lab.Sample.X', enumeration: 'Lab.Color', value: 'Purple' },
      }),
    );
    expect(
      refuse({ kind: { $case: 'dateTime', value: 9_000_000_000_000_000n } }, { kind: 'DateTime' }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }));
    expect(() =>
      types.fromValue('Lab.Sample', 'Lab.Sample_Tag', { kind: { $case: 'string', value: 'x' } }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_VALUE' }));
  });

  it('accept an Integer for a Decimal, and a string for an enumeration (what JSON clients send)', () => {
    expect(
      (
        primitiveFromValue({ kind: { $case: 'integer', value: 7n } }, { kind: 'Decimal' }, 'x') as Decimal
      ).toFixed(),
    ).toBe('7');
    expect(
      primitiveFromValue(
        { kind: { $case: 'string', value: 'Red' } },
        { kind: 'Enumeration', enumeration: 'Lab.Color' },
        'x',
        model,
      ),
    ).toBe('Red');
    expect(primitiveFromValue(undefined, { kind: 'Integer' }, 'x')).toBeNull();
  });
});
