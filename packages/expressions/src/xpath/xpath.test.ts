import { describe, expect, it } from 'vitest';
import { AssociationDirection } from '../context.js';
import { Decimal } from '../decimal.js';
import type { LanguageError } from '../diagnostics.js';
import { MxTypes, enumerationType, objectType } from '../mx-types.js';
import { fixtureSchema } from '../testing/fixture.js';
import { createScenario } from '../testing/scenario.js';
import type { MxType, MxValue } from '../types.js';
import { compileXPath } from './compiler.js';
import { resolveXPathParameters } from './parameters.js';
import type { XPathAssociationStep, XPathCondition, XPathQuery } from './query.js';

const variables = new Map<string, MxType>([
  ['Customer', objectType('Sales.Customer')],
  ['Order', objectType('Sales.Order')],
  ['Minimum', MxTypes.Decimal],
  ['Count', MxTypes.Integer],
  ['Search', MxTypes.String],
  ['Since', MxTypes.DateTime],
  ['Status', enumerationType('Sales.OrderStatus')],
]);

function compile(source: string, entity = 'Sales.Order'): XPathQuery {
  const result = compileXPath(source, { schema: fixtureSchema, entity, variables });
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.query;
}

function errorsOf(source: string, entity = 'Sales.Order'): readonly LanguageError[] {
  const result = compileXPath(source, { schema: fixtureSchema, entity, variables });
  if (result.ok) throw new Error(`expected errors for ${source}`);
  return result.errors;
}

const attr = (entity: string, attribute: string, type: MxType, modelType: string = type.kind) => ({
  kind: 'attribute' as const,
  entity,
  attribute,
  type,
  modelType,
});
const lit = (value: unknown, type: MxType) => ({ kind: 'literal' as const, value, type });

const orderToCustomer: XPathAssociationStep = {
  association: 'Sales.Order_Customer',
  type: 'Reference',
  direction: AssociationDirection.OwnerToTarget,
  owner: 'Sales.Order',
  target: 'Sales.Customer',
  from: 'Sales.Order',
  to: 'Sales.Customer',
  specialization: false,
};

describe('XPath constraints on attributes', () => {
  it('compiles comparisons joined with and, with literals typed like their attribute', () => {
    expect(compile("[Total > 100 and Status = 'Open']").condition).toEqual({
      kind: 'and',
      operands: [
        {
          kind: 'compare',
          left: attr('Sales.Order', 'Total', MxTypes.Decimal),
          operator: '>',
          right: lit(new Decimal(100), MxTypes.Decimal),
          emptyMatches: false,
        },
        {
          kind: 'compare',
          left: attr('Sales.Order', 'Status', enumerationType('Sales.OrderStatus'), 'Enumeration'),
          operator: '=',
          right: lit('Open', enumerationType('Sales.OrderStatus')),
          emptyMatches: false,
        },
      ],
    });
  });

  it('reads chained brackets as and, and groups with parentheses', () => {
    const chained = compile("[Total > 100][Status = 'Open']").condition;
    expect(chained?.kind).toBe('and');
    const grouped = compile("[(Status = 'Open' or Status = 'Draft') and Paid = false()]").condition;
    expect(grouped?.kind).toBe('and');
    expect(grouped?.kind === 'and' && grouped.operands[0]?.kind).toBe('or');
  });

  it('converts literals as Mendix does: strings to numbers, numbers to strings, booleans and ISO dates', () => {
    const condition = compile(
      "[Total >= '42'][Note = 42][Paid = 'TRUE'][Quantity < 5][OrderDate > '2024-01-31T10:00:00Z'][Paid = false()]",
    ).condition;
    if (condition?.kind !== 'and') throw new Error('expected and');
    const rights = condition.operands.map((c) => (c.kind === 'compare' ? c.right : undefined));
    expect(rights).toEqual([
      lit(new Decimal(42), MxTypes.Decimal),
      lit('42', MxTypes.String),
      lit(true, MxTypes.Boolean),
      lit(5n, MxTypes.Integer),
      lit(new Date('2024-01-31T10:00:00Z'), MxTypes.DateTime),
      lit(false, MxTypes.Boolean),
    ]);
  });

  it('tests empty with isEmpty and makes != against a value match empty attributes, as Mendix does', () => {
    const condition = compile("[Note = empty][Note != NULL][Note != 'x']").condition;
    if (condition?.kind !== 'and') throw new Error('expected and');
    expect(condition.operands).toEqual([
      { kind: 'isEmpty', operand: attr('Sales.Order', 'Note', MxTypes.String), negated: false },
      { kind: 'isEmpty', operand: attr('Sales.Order', 'Note', MxTypes.String), negated: true },
      {
        kind: 'compare',
        left: attr('Sales.Order', 'Note', MxTypes.String),
        operator: '!=',
        right: lit('x', MxTypes.String),
        emptyMatches: true,
      },
    ]);
  });

  it('compiles contains, starts-with and ends-with as case-insensitive string matches', () => {
    const condition = compile(
      "[contains(Note, $Search)][starts-with(Note, 'Ur')][ends-with(Note, 'x')]",
    ).condition;
    if (condition?.kind !== 'and') throw new Error('expected and');
    expect(condition.operands.map((c) => (c.kind === 'stringMatch' ? c.function : c.kind))).toEqual([
      'contains',
      'starts-with',
      'ends-with',
    ]);
    expect(condition.operands[0]).toEqual({
      kind: 'stringMatch',
      function: 'contains',
      attribute: attr('Sales.Order', 'Note', MxTypes.String),
      value: { kind: 'parameter', index: 0, type: MxTypes.String },
    });
  });

  it('compiles not(), true() and false()', () => {
    expect(compile('[not(Paid = true())]').condition).toEqual({
      kind: 'not',
      operand: {
        kind: 'compare',
        left: attr('Sales.Order', 'Paid', MxTypes.Boolean),
        operator: '=',
        right: lit(true, MxTypes.Boolean),
        emptyMatches: false,
      },
    });
    expect(compile('[true()]').condition).toEqual({ kind: 'constant', value: true });
  });

  it('compares attributes of the same object and ids', () => {
    expect(compile('[Quantity = Number]').condition).toMatchObject({
      kind: 'compare',
      right: { kind: 'attribute', attribute: 'Number' },
    });
    expect(compile('[id = $Order]').condition).toEqual({
      kind: 'compare',
      left: { kind: 'id', entity: 'Sales.Order' },
      operator: '=',
      right: { kind: 'parameter', index: 0, type: objectType('Sales.Order') },
      emptyMatches: false,
    });
  });

  it('puts a value on the left on the right and mirrors the operator', () => {
    expect(compile('[100 < Total]').condition).toMatchObject({
      kind: 'compare',
      left: { attribute: 'Total' },
      operator: '>',
    });
  });

  it('supports system members createdDate and changedDate', () => {
    expect(compile("[createdDate >= '[%BeginOfCurrentWeek%]']").condition).toMatchObject({
      kind: 'compare',
      left: { attribute: 'createdDate', modelType: 'CreatedDate' },
      right: { kind: 'parameter', index: 0 },
    });
  });

  it('computes values with string-length and the date part functions', () => {
    expect(
      compile('[string-length(Note) > 3][year-from-dateTime(OrderDate) = 2024]').condition,
    ).toMatchObject({
      kind: 'and',
      operands: [
        {
          kind: 'compare',
          left: { kind: 'function', function: 'string-length' },
          right: lit(3n, MxTypes.Integer),
        },
        {
          kind: 'compare',
          left: { kind: 'function', function: 'year-from-dateTime' },
          right: lit(2024n, MxTypes.Integer),
        },
      ],
    });
  });

  it('accepts a full query naming the retrieved entity', () => {
    expect(compile('//Sales.Order[Total > 1]').condition?.kind).toBe('compare');
    expect(compile('').condition).toBeUndefined();
  });
});

describe('XPath paths over associations', () => {
  it('turns a path into an exists over the association, walked from owner to target', () => {
    expect(compile("[Sales.Order_Customer/Sales.Customer/Name = 'x']").condition).toEqual({
      kind: 'exists',
      step: orderToCustomer,
      where: {
        kind: 'compare',
        left: attr('Sales.Customer', 'Name', MxTypes.String),
        operator: '=',
        right: lit('x', MxTypes.String),
        emptyMatches: false,
      },
    });
  });

  it('reads a nested constraint the same way as a path to an attribute', () => {
    expect(compile("[Sales.Order_Customer/Sales.Customer[Name = 'x']]").condition).toEqual(
      compile("[Sales.Order_Customer/Sales.Customer/Name = 'x']").condition,
    );
  });

  it('walks an association back from its target and nests multi-step paths', () => {
    const condition = compile(
      '[Sales.Order_Customer/Sales.Order/Sales.OrderLine_Order/Sales.OrderLine/Price > 10]',
      'Sales.Customer',
    ).condition as Extract<XPathCondition, { kind: 'exists' }>;
    expect(condition.step).toMatchObject({
      association: 'Sales.Order_Customer',
      direction: 'TargetToOwner',
      from: 'Sales.Customer',
      to: 'Sales.Order',
    });
    expect(condition.where).toMatchObject({
      kind: 'exists',
      step: {
        association: 'Sales.OrderLine_Order',
        direction: 'TargetToOwner',
        from: 'Sales.Order',
        to: 'Sales.OrderLine',
      },
      where: { kind: 'compare', left: { entity: 'Sales.OrderLine', attribute: 'Price' } },
    });
  });

  it('combines nested constraints with the rest of the path', () => {
    const condition = compile(
      "[Sales.Customer_Address/Sales.Address[City = 'Rotterdam' or City = 'Losdun']/Sales.Address_Country/Sales.Country/Name = 'Guyana']",
      'Sales.Customer',
    ).condition;
    expect(condition).toMatchObject({
      kind: 'exists',
      step: { association: 'Sales.Customer_Address' },
      where: {
        kind: 'and',
        operands: [{ kind: 'or' }, { kind: 'exists', step: { association: 'Sales.Address_Country' } }],
      },
    });
  });

  it('filters on a specialisation named after an association', () => {
    expect(
      compile('[Sales.Order_Customer/Sales.SpecialOrder/Priority > 2]', 'Sales.Customer').condition,
    ).toMatchObject({
      kind: 'exists',
      step: { to: 'Sales.SpecialOrder', specialization: true },
      where: { left: { entity: 'Sales.SpecialOrder', attribute: 'Priority' } },
    });
  });

  it('compares an association with an object, an id, empty and the current user', () => {
    expect(compile('[Sales.Order_Customer = $Customer]').condition).toEqual({
      kind: 'exists',
      step: orderToCustomer,
      where: {
        kind: 'compare',
        left: { kind: 'id', entity: 'Sales.Customer' },
        operator: '=',
        right: { kind: 'parameter', index: 0, type: objectType('Sales.Customer') },
        emptyMatches: false,
      },
    });
    expect(compile('[Sales.Order_Customer = 124123512341]').condition).toMatchObject({
      where: { right: lit('124123512341', MxTypes.String) },
    });
    expect(compile('[Sales.Order_Customer = empty]').condition).toEqual({
      kind: 'not',
      operand: { kind: 'exists', step: orderToCustomer, where: undefined },
    });
    expect(compile('[Sales.Order_Customer != empty]').condition).toEqual({
      kind: 'exists',
      step: orderToCustomer,
      where: undefined,
    });
    expect(compile('[Sales.Order_Customer != $Customer]').condition).toMatchObject({
      kind: 'not',
      operand: { kind: 'exists' },
    });
    const owned = compile("[System.owner = '[%CurrentUser%]']");
    expect(owned.condition).toMatchObject({
      kind: 'exists',
      step: { association: 'System.owner', to: 'System.User' },
      where: { left: { kind: 'id', entity: 'System.User' }, right: { kind: 'parameter', index: 0 } },
    });
    expect(owned.parameters).toEqual([
      { kind: 'token', token: 'CurrentUser', type: objectType('System.User') },
    ]);
  });

  it('follows the access-rule path from an order through its customer to the user', () => {
    expect(
      compile("[Sales.Order_Customer/Sales.Customer/Sales.Customer_User = '[%CurrentUser%]']").condition,
    ).toMatchObject({
      kind: 'exists',
      step: { association: 'Sales.Order_Customer' },
      where: {
        kind: 'exists',
        step: { association: 'Sales.Customer_User', to: 'System.User' },
        where: { kind: 'compare', left: { kind: 'id' }, right: { kind: 'parameter' } },
      },
    });
  });

  it('checks for associated objects with a bare path and not()', () => {
    expect(compile('[Sales.Order_Customer/Sales.Order]', 'Sales.Customer').condition).toMatchObject({
      kind: 'exists',
      step: { direction: 'TargetToOwner', to: 'Sales.Order' },
      where: undefined,
    });
    expect(compile('[not(Sales.Order_Customer/Sales.Order)]', 'Sales.Customer').condition?.kind).toBe('not');
  });

  it('compares user roles through System.UserRoles', () => {
    expect(
      compile("[System.UserRoles = '[%UserRole_Administrator%]']", 'System.User').condition,
    ).toMatchObject({
      kind: 'exists',
      step: { association: 'System.UserRoles', type: 'ReferenceSet', to: 'System.UserRole' },
      where: {
        left: { kind: 'id', entity: 'System.UserRole' },
        right: { kind: 'userRole', name: 'Administrator' },
      },
    });
  });

  it('walks a self-association backwards with reversed()', () => {
    expect(
      compile("[Sales.Employee_Manager[reversed()]/Sales.Employee/Name = 'Bob']", 'Sales.Employee').condition,
    ).toMatchObject({
      kind: 'exists',
      step: { direction: 'TargetToOwner' },
    });
    expect(
      compile("[Sales.Employee_Manager/Sales.Employee/Name = 'Bob']", 'Sales.Employee').condition,
    ).toMatchObject({
      kind: 'exists',
      step: { direction: 'OwnerToTarget' },
    });
  });
});

describe('XPath parameters', () => {
  it('lists variables and tokens once and binds them per request', () => {
    const query = compile(
      "[Total > $Minimum][Quantity < $Count][Sales.Order_Customer = $Customer][Total < $Minimum][Sales.Order_Customer/Sales.Customer/Name = $Order/Sales.Order_Customer/Name][OrderDate >= '[%BeginOfCurrentDay%]'][OrderDate < '[%BeginOfTomorrowUTC%]'][OrderDate > '[%BeginOfCurrentDay%] - 3 * [%YearLength%] + [%HourLength%]'][OrderDate != '2024-03-31T02:30'][Status = $Status][System.owner = '[%CurrentUser%]']",
    );
    expect(query.parameters.map((p) => p.kind)).toEqual([
      'variable',
      'variable',
      'variable',
      'variable',
      'token',
      'token',
      'dateExpression',
      'localDateTime',
      'variable',
      'token',
    ]);
    expect(query.parameters[3]).toEqual({
      kind: 'variable',
      name: 'Order',
      path: [
        { kind: 'association', name: 'Sales.Order_Customer', direction: 'OwnerToTarget' },
        { kind: 'attribute', name: 'Name' },
      ],
      type: MxTypes.String,
    });
    const scenario = createScenario();
    const values = resolveXPathParameters(query, {
      variables: new Map<string, MxValue>([
        ['Minimum', new Decimal('9.5')],
        ['Count', 3n],
        ['Customer', scenario.customer],
        ['Order', scenario.order],
        ['Status', 'Open'],
      ]),
      context: scenario.context(),
    });
    expect(values).toEqual([
      new Decimal('9.5'),
      3n,
      'c1',
      'Jäger',
      new Date('2024-03-29T23:00:00Z'),
      new Date('2024-03-31T00:00:00Z'),
      new Date('2021-03-29T23:00:00Z'),
      new Date('2024-03-31T01:30:00Z'),
      'Open',
      'u-alice',
    ]);
  });

  it('computes date arithmetic across a daylight saving change with fixed days and calendar months', () => {
    const query = compile(
      "[OrderDate > '[%BeginOfCurrentDay%] + 2 * [%DayLength%]'][OrderDate > '[%BeginOfCurrentDay%] + [%MonthLength%]'][OrderDate > '[%CurrentDateTime%] - [%WeekLength%] * 2']",
    );
    const scenario = createScenario();
    const values = resolveXPathParameters(query, { variables: new Map(), context: scenario.context() });
    expect(values).toEqual([
      new Date('2024-03-31T23:00:00Z'),
      new Date('2024-04-29T22:00:00Z'),
      new Date('2024-03-16T10:15:30.250Z'),
    ]);
  });

  it('binds the current object and empty paths as null', () => {
    const query = compile("[id = '[%CurrentObject%]'][Sales.Order_Customer = $Order/Sales.Order_Customer]");
    const scenario = createScenario();
    expect(
      resolveXPathParameters(query, {
        variables: new Map([['Order', null]]),
        context: scenario.context(),
        currentObject: scenario.order,
      }),
    ).toEqual(['o1', null]);
  });

  it('refuses to bind a missing variable', () => {
    const query = compile('[Total > $Minimum]');
    const scenario = createScenario();
    expect(() =>
      resolveXPathParameters(query, { variables: new Map(), context: scenario.context() }),
    ).toThrow(expect.objectContaining({ code: 'XPATH_PARAMETER_UNAVAILABLE' }));
  });
});

describe('XPath errors', () => {
  const brief = (e: LanguageError) => `${e.code}@${e.span.start.line}:${e.span.start.column}`;

  it('reports every error of a constraint with its position', () => {
    expect(
      errorsOf("[Totl > 1 or Sales.Order_Customer/Name = 'x' or $Nope = 1][Status = 'Opne']").map(brief),
    ).toEqual([
      'XPATH_UNKNOWN_MEMBER@1:2',
      'XPATH_BAD_PATH@1:35',
      'XPATH_UNKNOWN_VARIABLE@1:49',
      'XPATH_TYPE_MISMATCH@1:69',
    ]);
  });

  it.each([
    ['[Total > 1', 'XPATH_SYNTAX'],
    ['Total > 1', 'XPATH_SYNTAX'],
    ['[]', 'XPATH_SYNTAX'],
    ["[Name = 'x", 'XPATH_SYNTAX'],
    ['[Total + 1 > 5]', 'XPATH_SYNTAX'],
    ['[Total >]', 'XPATH_SYNTAX'],
    ['[Total > 1 and]', 'XPATH_SYNTAX'],
    ["[OrderDate > '[%BeginOfCurrentDay%] - three * [%DayLength%]']", 'XPATH_SYNTAX'],
    ['[Nope = 1]', 'XPATH_UNKNOWN_MEMBER'],
    ['[Sales.Nope/Sales.Customer/Name = 1]', 'XPATH_UNKNOWN_MEMBER'],
    ["[Sales.Order_Customer/Name = 'x']", 'XPATH_BAD_PATH'],
    ["[Sales.Customer/Name = 'x']", 'XPATH_BAD_PATH'],
    ["[Sales.Order_Customer/Sales.Address/City = 'x']", 'XPATH_BAD_PATH'],
    ['[Total/Sales.Order_Customer = empty]', 'XPATH_BAD_PATH'],
    ['[$Count = 1]', 'XPATH_BAD_PATH'],
    [
      '[Sales.Order_Customer/Sales.Customer/Name = Sales.Order_Customer/Sales.Customer/Email]',
      'XPATH_BAD_PATH',
    ],
    [
      "[Sales.Customer_Address/Sales.Address/Sales.Address_Country/Sales.Country/Name = 'x']",
      'XPATH_UNKNOWN_MEMBER',
    ],
    ['[Total = $Nope]', 'XPATH_UNKNOWN_VARIABLE'],
    ['[lower-case(Note) = 1]', 'XPATH_UNKNOWN_FUNCTION'],
    ['[contains(Note)]', 'XPATH_ARGUMENT_COUNT'],
    ['[not(Paid = true(), 1)]', 'XPATH_ARGUMENT_COUNT'],
    ["[Total = 'abc']", 'XPATH_TYPE_MISMATCH'],
    ["[Status = 'Opne']", 'XPATH_TYPE_MISMATCH'],
    ['[Total]', 'XPATH_TYPE_MISMATCH'],
    ['[Paid]', 'XPATH_TYPE_MISMATCH'],
    ['[Total > empty]', 'XPATH_TYPE_MISMATCH'],
    ["[Sales.Order_Customer = 'abc' or Sales.Order_Customer > $Customer]", 'XPATH_TYPE_MISMATCH'],
    ['[Total = $Search]', 'XPATH_TYPE_MISMATCH'],
    ['[Sales.Order_Customer = $Order]', 'XPATH_TYPE_MISMATCH'],
    ["[Sales.Order_Customer = '[%CurrentUser%]']", 'XPATH_TYPE_MISMATCH'],
    ["[OrderDate > 'yesterday']", 'XPATH_TYPE_MISMATCH'],
    ['[contains(Total, 1)]', 'XPATH_TYPE_MISMATCH'],
    ["[Quantity = '[%CurrentDateTime%]']", 'XPATH_TYPE_MISMATCH'],
    ["[OrderDate > '[%Tomorrow%]']", 'XPATH_UNKNOWN_TOKEN'],
    ["[OrderDate > '[%DayLength%]']", 'XPATH_UNKNOWN_TOKEN'],
    ["[OrderDate > '[%CurrentDateTime%] - [%Days%]']", 'XPATH_UNKNOWN_TOKEN'],
    ["[System.owner = '[%UserRole_Nobody%]']", 'XPATH_UNKNOWN_TOKEN'],
    ['//Sales.Customer[Total > 1]', 'XPATH_UNKNOWN_ENTITY'],
  ])('rejects %s with %s', (source, code) => {
    expect(errorsOf(source).map((e) => e.code)).toContain(code);
  });

  it('refuses hashed strings and binaries', () => {
    expect(errorsOf("[Password = 'x']", 'Sales.Customer').map((e) => e.code)).toEqual([
      'XPATH_NOT_FILTERABLE',
    ]);
    expect(errorsOf('[Photo = empty]', 'Sales.Customer').map((e) => e.code)).toEqual([
      'XPATH_NOT_FILTERABLE',
    ]);
  });

  it('reports an unknown retrieved entity', () => {
    const result = compileXPath('[Name = 1]', { schema: fixtureSchema, entity: 'Sales.Nope', variables });
    expect(result.ok ? [] : result.errors.map((e) => e.code)).toEqual(['XPATH_UNKNOWN_ENTITY']);
  });

  it('points at the token inside a quoted date expression', () => {
    const [error] = errorsOf("[OrderDate > '[%BeginOfCurrentDay%] - 3 * [%YearLenght%]']");
    expect(error?.code).toBe('XPATH_UNKNOWN_TOKEN');
    expect(error?.span.start.column).toBe(43);
  });
});
