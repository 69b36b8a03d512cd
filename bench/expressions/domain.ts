/**
 * The benchmark's domain: orders, customers and order lines with an order status enumeration,
 * as a schema for the compiler and as plain objects for both contenders.
 */
import {
  AssociationDirection,
  Decimal,
  createEvaluationContext,
  enumerationType,
  MxTypes,
  objectType,
  type AssociationInfo,
  type AttributeInfo,
  type DomainSchema,
  type EntityInfo,
  type EvaluationContext,
  type MxObjectValue,
  type MxType,
  type MxValue,
} from '@runplane/expressions';

const ATTRIBUTES: Readonly<Record<string, Readonly<Record<string, MxType>>>> = {
  'Sales.Customer': { Name: MxTypes.String, Email: MxTypes.String },
  'Sales.Order': {
    Total: MxTypes.Decimal,
    Status: enumerationType('Sales.OrderStatus'),
    OrderDate: MxTypes.DateTime,
    Quantity: MxTypes.Integer,
  },
  'Sales.OrderLine': { Quantity: MxTypes.Integer, Price: MxTypes.Decimal, Product: MxTypes.String },
};

const ORDER_CUSTOMER: AssociationInfo = {
  name: 'Sales.Order_Customer',
  type: 'Reference',
  owner: 'Sales.Order',
  target: 'Sales.Customer',
};

function entity(name: string): EntityInfo | undefined {
  const attributes = ATTRIBUTES[name];
  if (attributes === undefined) return undefined;
  return {
    name,
    persistable: true,
    generalization: undefined,
    attribute: (attribute): AttributeInfo | undefined => {
      const type = attributes[attribute];
      return type === undefined
        ? undefined
        : { name: attribute, type, modelType: type.kind, filterable: true, sortable: true };
    },
    association: (qualified) =>
      qualified === ORDER_CUSTOMER.name && (name === ORDER_CUSTOMER.owner || name === ORDER_CUSTOMER.target)
        ? ORDER_CUSTOMER
        : undefined,
    isA: (other) => other === name,
  };
}

/** The schema the expressions are compiled against. */
export const schema: DomainSchema = {
  entity,
  enumeration: (name) =>
    name === 'Sales.OrderStatus'
      ? { name, values: ['Draft', 'Open', 'Approved', 'Closed'].map((key) => ({ key, caption: key })) }
      : undefined,
  constant: (name) => (name === 'Sales.VatRate' ? MxTypes.Decimal : undefined),
  userRole: () => false,
};

/** A plain in-memory object, as the microflow engine would hand it over. */
export class BenchObject implements MxObjectValue {
  readonly references = new Map<string, MxObjectValue | null>();
  constructor(
    readonly entity: string,
    readonly id: string,
    private readonly values: Map<string, MxValue>,
  ) {}

  get(attribute: string): MxValue {
    return this.values.get(attribute) ?? null;
  }
}

/** The variables and context of the benchmark. */
export interface BenchWorld {
  readonly variables: Map<string, MxValue>;
  readonly types: Map<string, MxType>;
  readonly context: EvaluationContext;
  readonly order: BenchObject;
  readonly line: BenchObject;
}

/** One order with a customer and a line, a few scalars, and a context in Amsterdam. */
export function createWorld(): BenchWorld {
  const customer = new BenchObject(
    'Sales.Customer',
    'c1',
    new Map<string, MxValue>([
      ['Name', '  Jäger & Söhne  '],
      ['Email', 'orders@jaeger.example'],
    ]),
  );
  const order = new BenchObject(
    'Sales.Order',
    'o1',
    new Map<string, MxValue>([
      ['Total', new Decimal('1234.56')],
      ['Status', 'Approved'],
      ['OrderDate', new Date('2024-02-10T09:30:00Z')],
      ['Quantity', 3n],
    ]),
  );
  order.references.set(ORDER_CUSTOMER.name, customer);
  const line = new BenchObject(
    'Sales.OrderLine',
    'l1',
    new Map<string, MxValue>([
      ['Quantity', 7n],
      ['Price', new Decimal('19.95')],
      ['Product', 'Käse'],
    ]),
  );
  const context = createEvaluationContext({
    now: new Date('2024-03-30T10:15:30Z'),
    timeZone: 'Europe/Amsterdam',
    follow: (object, association, direction) =>
      direction === AssociationDirection.OwnerToTarget && object instanceof BenchObject
        ? (object.references.get(association) ?? null)
        : null,
    constants: new Map([['Sales.VatRate', new Decimal('0.21')]]),
  });
  return {
    variables: new Map<string, MxValue>([
      ['Order', order],
      ['Line', line],
      ['x', 42n],
      ['Discount', new Decimal('0.15')],
    ]),
    types: new Map<string, MxType>([
      ['Order', objectType('Sales.Order')],
      ['Line', objectType('Sales.OrderLine')],
      ['x', MxTypes.Integer],
      ['Discount', MxTypes.Decimal],
    ]),
    context,
    order,
    line,
  };
}
