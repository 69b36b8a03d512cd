import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileXPath, type MxType } from '@runplane/expressions';
import { loadModelOrThrow } from '@runplane/model';
import { equalityFilter } from './xpath-filter.js';

const model = await loadModelOrThrow(join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'orders'));

const STRING: MxType = { kind: 'String' };

describe('XPath constraints from request values', () => {
  it('passes values as variables, so the constraint is the same text whatever the value', () => {
    const attack = "x'] or [Name != '";
    const hostile = equalityFilter(
      model,
      [{ attribute: 'Name', type: STRING, text: attack, parameter: 'Name' }],
      'INVALID_PARAMETER',
    );
    const plain = equalityFilter(
      model,
      [{ attribute: 'Name', type: STRING, text: 'Anvil', parameter: 'Name' }],
      'INVALID_PARAMETER',
    );
    expect(hostile.constraint).toBe('[Name = $v0]');
    expect(plain.constraint).toBe(hostile.constraint);
    expect(hostile.variables).toEqual({ v0: { kind: { $case: 'string', value: attack } } });
    const compiled = compileXPath(hostile.constraint, {
      schema: model.schema,
      entity: 'Sales.Product',
      variables: new Map([['v0', STRING]]),
    });
    if (!compiled.ok) throw new Error(compiled.errors.map((e) => e.message).join('; '));
    expect(compiled.query.condition).toMatchObject({
      kind: 'compare',
      left: { kind: 'attribute', attribute: 'Name' },
      operator: '=',
    });
  });

  it('reads a text that looks like a token as a plain value', () => {
    const filter = equalityFilter(
      model,
      [{ attribute: 'Name', type: STRING, text: '[%CurrentUser%]', parameter: 'Name' }],
      'INVALID_PARAMETER',
    );
    expect(filter.variables.v0).toEqual({ kind: { $case: 'string', value: '[%CurrentUser%]' } });
  });

  it('checks each value against its attribute’s type, and numbers the variables in order', () => {
    const filter = equalityFilter(
      model,
      [
        { attribute: 'Active', type: { kind: 'Boolean' }, text: 'true', parameter: 'Active' },
        { attribute: 'Number', type: { kind: 'Long' }, text: '17', parameter: 'Number' },
      ],
      'INVALID_PARAMETER',
    );
    expect(filter).toEqual({
      constraint: '[Active = $v0][Number = $v1]',
      variables: {
        v0: { kind: { $case: 'boolean', value: true } },
        v1: { kind: { $case: 'integer', value: 17n } },
      },
    });
    expect(() =>
      equalityFilter(
        model,
        [{ attribute: 'Number', type: { kind: 'Long' }, text: '17 or 1=1', parameter: 'Number' }],
        'INVALID_PARAMETER',
      ),
    ).toThrow(
      expect.objectContaining({
        code: 'INVALID_PARAMETER',
        details: expect.objectContaining({ where: 'Number' }) as unknown,
      }),
    );
    expect(() =>
      equalityFilter(
        model,
        [
          {
            attribute: 'Status',
            type: { kind: 'Enumeration', enumeration: 'Sales.OrderStatus' },
            text: 'Open',
            parameter: 'Status',
          },
        ],
        'INVALID_PARAMETER',
      ),
    ).toThrow(/one of Draft/);
    expect(() =>
      equalityFilter(
        model,
        [{ attribute: 'Name] or [x', type: STRING, text: 'a', parameter: 'Name' }],
        'INVALID_PARAMETER',
      ),
    ).toThrow(expect.objectContaining({ code: 'INVALID_PARAMETER' }));
  });
});
