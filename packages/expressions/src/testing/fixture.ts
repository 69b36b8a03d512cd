/**
 * A small Order/Customer/OrderLine domain implementing {@link DomainSchema}, with objects and
 * association links held in memory, for the package's tests and benchmarks. A fixture, not
 * part of the public API.
 */
import { AssociationDirection, createEvaluationContext, type EvaluationContext } from '../context.js';
import { Decimal, RoundingMode } from '../decimal.js';
import { MxTypes, enumerationType } from '../mx-types.js';
import type {
  AssociationInfo,
  AttributeInfo,
  DomainSchema,
  EntityInfo,
  EnumerationInfo,
  MxObjectValue,
  MxType,
  MxValue,
} from '../types.js';

interface EntitySpec {
  readonly generalization?: string;
  readonly attributes: Readonly<
    Record<string, MxType | { type: MxType; modelType: string; filterable?: boolean }>
  >;
}

const ENTITIES: Readonly<Record<string, EntitySpec>> = {
  'System.User': {
    attributes: { Name: MxTypes.String, Blocked: MxTypes.Boolean, LastLogin: MxTypes.DateTime },
  },
  'System.UserRole': { attributes: { Name: MxTypes.String } },
  'Sales.Customer': {
    attributes: {
      Name: MxTypes.String,
      Email: MxTypes.String,
      Grade: enumerationType('Sales.Grade'),
      Birthday: MxTypes.DateTime,
      IsActive: MxTypes.Boolean,
      Points: MxTypes.Integer,
      Balance: MxTypes.Decimal,
      Password: { type: MxTypes.String, modelType: 'HashedString', filterable: false },
      Photo: { type: MxTypes.Binary, modelType: 'Binary', filterable: false },
    },
  },
  'Sales.Order': {
    attributes: {
      Number: { type: MxTypes.Long, modelType: 'AutoNumber' },
      Total: MxTypes.Decimal,
      Status: enumerationType('Sales.OrderStatus'),
      OrderDate: MxTypes.DateTime,
      Note: MxTypes.String,
      Paid: MxTypes.Boolean,
      Quantity: MxTypes.Integer,
      createdDate: { type: MxTypes.DateTime, modelType: 'CreatedDate' },
      changedDate: { type: MxTypes.DateTime, modelType: 'ChangedDate' },
    },
  },
  'Sales.SpecialOrder': { generalization: 'Sales.Order', attributes: { Priority: MxTypes.Integer } },
  'Sales.OrderLine': {
    attributes: { Quantity: MxTypes.Integer, Price: MxTypes.Decimal, Product: MxTypes.String },
  },
  'Sales.Tag': { attributes: { Label: MxTypes.String } },
  'Sales.Address': { attributes: { City: MxTypes.String, Street: MxTypes.String } },
  'Sales.Country': { attributes: { Name: MxTypes.String } },
  'Sales.Employee': { attributes: { Name: MxTypes.String } },
};

const ASSOCIATIONS: readonly AssociationInfo[] = [
  { name: 'Sales.Order_Customer', type: 'Reference', owner: 'Sales.Order', target: 'Sales.Customer' },
  { name: 'Sales.OrderLine_Order', type: 'Reference', owner: 'Sales.OrderLine', target: 'Sales.Order' },
  { name: 'Sales.Order_Tag', type: 'ReferenceSet', owner: 'Sales.Order', target: 'Sales.Tag' },
  { name: 'Sales.Customer_Address', type: 'Reference', owner: 'Sales.Customer', target: 'Sales.Address' },
  { name: 'Sales.Address_Country', type: 'Reference', owner: 'Sales.Address', target: 'Sales.Country' },
  { name: 'Sales.Customer_User', type: 'Reference', owner: 'Sales.Customer', target: 'System.User' },
  { name: 'Sales.Employee_Manager', type: 'Reference', owner: 'Sales.Employee', target: 'Sales.Employee' },
  { name: 'System.owner', type: 'Reference', owner: 'Sales.Order', target: 'System.User' },
  { name: 'System.changedBy', type: 'Reference', owner: 'Sales.Order', target: 'System.User' },
  { name: 'System.UserRoles', type: 'ReferenceSet', owner: 'System.User', target: 'System.UserRole' },
];

const ENUMERATIONS: readonly EnumerationInfo[] = [
  {
    name: 'Sales.OrderStatus',
    values: [
      { key: 'Draft', caption: 'Draft' },
      { key: 'Open', caption: 'Open' },
      { key: 'Approved', caption: 'Approved' },
      { key: 'Closed', caption: 'Closed' },
    ],
  },
  {
    name: 'Sales.Grade',
    values: [
      { key: 'Gold', caption: 'Gouden' },
      { key: 'Silver', caption: 'Zilveren' },
    ],
  },
];

const CONSTANTS: ReadonlyMap<string, MxType> = new Map<string, MxType>([
  ['Sales.VatRate', MxTypes.Decimal],
  ['Sales.AppName', MxTypes.String],
  ['Sales.MaxLines', MxTypes.Integer],
]);

function generalizations(name: string): string[] {
  const chain: string[] = [];
  let current: string | undefined = name;
  while (current !== undefined && !chain.includes(current)) {
    chain.push(current);
    current = ENTITIES[current]?.generalization;
  }
  return chain;
}

function entityInfo(name: string): EntityInfo | undefined {
  const spec = ENTITIES[name];
  if (spec === undefined) return undefined;
  const chain = generalizations(name);
  return {
    name,
    persistable: true,
    generalization: spec.generalization,
    attribute(attribute: string): AttributeInfo | undefined {
      for (const entity of chain) {
        const raw = ENTITIES[entity]?.attributes[attribute];
        if (raw === undefined) continue;
        const full = 'kind' in raw ? { type: raw, modelType: raw.kind } : raw;
        return {
          name: attribute,
          type: full.type,
          modelType: full.modelType,
          filterable: 'filterable' in full ? full.filterable !== false : true,
          sortable: full.type.kind !== 'Binary',
        };
      }
      return undefined;
    },
    association(qualifiedName: string): AssociationInfo | undefined {
      return ASSOCIATIONS.find(
        (a) => a.name === qualifiedName && (chain.includes(a.owner) || chain.includes(a.target)),
      );
    },
    isA(other: string): boolean {
      return chain.includes(other);
    },
  };
}

/** The fixture's domain schema: Sales and System modules. */
export const fixtureSchema: DomainSchema = {
  entity: entityInfo,
  enumeration: (name) => ENUMERATIONS.find((e) => e.name === name),
  constant: (name) => CONSTANTS.get(name),
  userRole: (name) => ['Administrator', 'Customer', 'Sales'].includes(name),
};

/** An in-memory object. */
export class FixtureObject implements MxObjectValue {
  constructor(
    readonly entity: string,
    readonly id: string,
    private readonly values: Record<string, MxValue> = {},
    readonly isNew = false,
  ) {}

  get(attribute: string): MxValue {
    return this.values[attribute] ?? null;
  }

  set(attribute: string, value: MxValue): void {
    this.values[attribute] = value;
  }
}

/** Association links between fixture objects, walked both ways. */
export class FixtureLinks {
  private readonly links: { association: string; owner: MxObjectValue; target: MxObjectValue }[] = [];

  link(association: string, owner: MxObjectValue, target: MxObjectValue): this {
    this.links.push({ association, owner, target });
    return this;
  }

  follow(
    object: MxObjectValue,
    association: string,
    direction: AssociationDirection,
  ): MxObjectValue | readonly MxObjectValue[] | null {
    const info = ASSOCIATIONS.find((a) => a.name === association);
    if (direction === AssociationDirection.OwnerToTarget) {
      const targets = this.links
        .filter((l) => l.association === association && l.owner.id === object.id)
        .map((l) => l.target);
      if (info?.type === 'Reference') return targets[0] ?? null;
      return targets;
    }
    return this.links
      .filter((l) => l.association === association && l.target.id === object.id)
      .map((l) => l.owner);
  }
}

/** A context at a fixed moment in Amsterdam with the fixture's constants and links. */
export function fixtureContext(
  overrides: Partial<EvaluationContext> = {},
  links = new FixtureLinks(),
): EvaluationContext {
  return createEvaluationContext({
    now: new Date('2024-03-30T10:15:30.250Z'),
    timeZone: 'Europe/Amsterdam',
    roundingMode: RoundingMode.HalfAwayFromZero,
    follow: (object, association, direction) => links.follow(object, association, direction),
    constants: new Map<string, MxValue>([
      ['Sales.VatRate', new Decimal('0.21')],
      ['Sales.AppName', 'Orders'],
      ['Sales.MaxLines', 50n],
    ]),
    random: () => 0.5,
    ...overrides,
  });
}
