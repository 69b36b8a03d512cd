/**
 * A ready-made set of variables over the fixture domain (an order with lines, its customer with
 * an address in a country, empty and new objects), for tests and benchmarks.
 */
import { Decimal } from '../decimal.js';
import { MxTypes, enumerationType, listType, objectType } from '../mx-types.js';
import type { MxType, MxValue } from '../types.js';
import { FixtureLinks, FixtureObject, fixtureContext } from './fixture.js';
import type { EvaluationContext } from '../context.js';

/** Objects, links, variables and their types for one evaluation. */
export interface Scenario {
  readonly variables: Map<string, MxValue>;
  readonly types: Map<string, MxType>;
  readonly links: FixtureLinks;
  readonly order: FixtureObject;
  readonly customer: FixtureObject;
  readonly user: FixtureObject;
  context(overrides?: Partial<EvaluationContext>): EvaluationContext;
}

/** Builds the standard scenario; every call gives fresh objects. */
export function createScenario(): Scenario {
  const user = new FixtureObject('System.User', 'u-alice', { Name: 'alice', Blocked: false });
  const country = new FixtureObject('Sales.Country', 'nl', { Name: 'Nederland' });
  const address = new FixtureObject('Sales.Address', 'a1', { City: 'Zürich', Street: 'Bahnhofstraße 1' });
  const customer = new FixtureObject('Sales.Customer', 'c1', {
    Name: 'Jäger',
    Email: 'jager@example.com',
    Grade: 'Gold',
    Points: 250n,
    Balance: new Decimal('-12.345'),
    IsActive: true,
    Birthday: new Date('1990-05-17T00:00:00Z'),
  });
  const order = new FixtureObject('Sales.Order', 'o1', {
    Number: 1001n,
    Total: new Decimal('100.50'),
    Status: 'Open',
    OrderDate: new Date('2024-03-30T12:00:00Z'),
    Paid: false,
    Quantity: 3n,
    Note: null,
  });
  const special = new FixtureObject('Sales.SpecialOrder', 'o2', {
    Total: new Decimal(5),
    Priority: 2n,
    Status: 'Draft',
  });
  const fresh = new FixtureObject('Sales.Order', 'o3', { Total: new Decimal(0) }, true);
  const line1 = new FixtureObject('Sales.OrderLine', 'l1', {
    Quantity: 2n,
    Price: new Decimal('10.25'),
    Product: 'Käse',
  });
  const line2 = new FixtureObject('Sales.OrderLine', 'l2', {
    Quantity: 1n,
    Price: new Decimal('80'),
    Product: 'Wein',
  });
  const links = new FixtureLinks()
    .link('Sales.Order_Customer', order, customer)
    .link('Sales.Customer_Address', customer, address)
    .link('Sales.Address_Country', address, country)
    .link('Sales.Customer_User', customer, user)
    .link('Sales.OrderLine_Order', line1, order)
    .link('Sales.OrderLine_Order', line2, order)
    .link('System.owner', order, user);
  const entries: [string, MxType, MxValue][] = [
    ['Order', objectType('Sales.Order'), order],
    ['Customer', objectType('Sales.Customer'), customer],
    ['SpecialOrder', objectType('Sales.SpecialOrder'), special],
    ['NewOrder', objectType('Sales.Order'), fresh],
    ['EmptyOrder', objectType('Sales.Order'), null],
    ['lines', listType('Sales.OrderLine'), [line1, line2]],
    ['noLines', listType('Sales.OrderLine'), []],
    ['s', MxTypes.String, 'Hello World'],
    ['e', MxTypes.String, null],
    ['n', MxTypes.Integer, 42n],
    ['big', MxTypes.Long, 9007199254740993n],
    ['dec', MxTypes.Decimal, new Decimal('2.5')],
    ['decEmpty', MxTypes.Decimal, null],
    ['when', MxTypes.DateTime, new Date('2024-03-30T12:00:00Z')],
    ['whenEmpty', MxTypes.DateTime, null],
    ['flag', MxTypes.Boolean, true],
    ['flagEmpty', MxTypes.Boolean, null],
    ['status', enumerationType('Sales.OrderStatus'), 'Approved'],
    ['badRegex', MxTypes.String, '[unclosed'],
  ];
  return {
    variables: new Map(entries.map(([name, , value]) => [name, value])),
    types: new Map(entries.map(([name, type]) => [name, type])),
    links,
    order,
    customer,
    user,
    context: (overrides = {}) => fixtureContext({ currentUser: user, ...overrides }, links),
  };
}
