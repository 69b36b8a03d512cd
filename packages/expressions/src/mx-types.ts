/**
 * Helpers over the Mendix type system: naming types, parsing type names back, and the
 * assignability rules the type checkers use.
 */
import type { DomainSchema, MxType } from './types.js';

/** Ready-made instances of the types without parameters. */
export const MxTypes = {
  String: { kind: 'String' },
  Integer: { kind: 'Integer' },
  Long: { kind: 'Long' },
  Decimal: { kind: 'Decimal' },
  Boolean: { kind: 'Boolean' },
  DateTime: { kind: 'DateTime' },
  Binary: { kind: 'Binary' },
  Empty: { kind: 'Empty' },
  Void: { kind: 'Void' },
} as const satisfies Record<string, MxType>;

/** An enumeration type. */
export function enumerationType(enumeration: string): MxType {
  return { kind: 'Enumeration', enumeration };
}

/** An object type. */
export function objectType(entity: string): MxType {
  return { kind: 'Object', entity };
}

/** A list type. */
export function listType(entity: string): MxType {
  return { kind: 'List', entity };
}

/**
 * The display name of a type: `String`, `Integer`, `Long`, `Decimal`, `Boolean`, `DateTime`,
 * `Binary`, `Enumeration(Sales.OrderStatus)`, `Object(Sales.Order)`, `List(Sales.Order)`,
 * `Empty`, `Void`. {@link parseType} reads it back.
 */
export function formatType(type: MxType): string {
  switch (type.kind) {
    case 'Enumeration':
      return `Enumeration(${type.enumeration})`;
    case 'Object':
      return `Object(${type.entity})`;
    case 'List':
      return `List(${type.entity})`;
    default:
      return type.kind;
  }
}

const SIMPLE_TYPES: Readonly<Record<string, MxType>> = {
  String: MxTypes.String,
  Integer: MxTypes.Integer,
  Long: MxTypes.Long,
  Decimal: MxTypes.Decimal,
  Boolean: MxTypes.Boolean,
  DateTime: MxTypes.DateTime,
  Binary: MxTypes.Binary,
  Empty: MxTypes.Empty,
  Void: MxTypes.Void,
};

/** Reads a type name as {@link formatType} writes it; undefined when it is not one. */
export function parseType(text: string): MxType | undefined {
  const trimmed = text.trim();
  const simple = SIMPLE_TYPES[trimmed];
  if (simple !== undefined) return simple;
  const match = /^(Enumeration|Object|List)\(\s*([A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)\s*\)$/.exec(
    trimmed,
  );
  if (match === null) return undefined;
  const name = match[2] ?? '';
  switch (match[1]) {
    case 'Enumeration':
      return enumerationType(name);
    case 'Object':
      return objectType(name);
    default:
      return listType(name);
  }
}

/** True when both denote the same type. */
export function typesEqual(a: MxType, b: MxType): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'Enumeration':
      return b.kind === 'Enumeration' && a.enumeration === b.enumeration;
    case 'Object':
    case 'List':
      return (b.kind === 'Object' || b.kind === 'List') && a.entity === b.entity;
    default:
      return true;
  }
}

/** Integer or Long. */
export function isIntegral(type: MxType): boolean {
  return type.kind === 'Integer' || type.kind === 'Long';
}

/** Integer, Long or Decimal. */
export function isNumeric(type: MxType): boolean {
  return type.kind === 'Integer' || type.kind === 'Long' || type.kind === 'Decimal';
}

/** The type of arithmetic on two numeric types: Decimal wins, then Long, then Integer. */
export function numericResultType(a: MxType, b: MxType): MxType {
  if (a.kind === 'Decimal' || b.kind === 'Decimal') return MxTypes.Decimal;
  if (a.kind === 'Long' || b.kind === 'Long') return MxTypes.Long;
  return MxTypes.Integer;
}

/** True when `entity` is `other` or specialises it; without a schema only equal names match. */
export function entityIsA(schema: DomainSchema | undefined, entity: string, other: string): boolean {
  if (entity === other) return true;
  return schema?.entity(entity)?.isA(other) ?? false;
}

/**
 * Whether a value of type `from` may be assigned to a variable, attribute or parameter of
 * type `to`, as Studio Pro allows it:
 *
 * - `Empty` fits every type but Void;
 * - Integer and Long fit each other (the range is checked when the value is stored) and Decimal;
 * - an object or list of a specialisation fits its generalisation (needs `schema`;
 *   without it the entity names must be equal);
 * - otherwise the types must be equal.
 */
export function isAssignable(from: MxType, to: MxType, schema?: DomainSchema): boolean {
  if (to.kind === 'Void') return from.kind === 'Void';
  if (from.kind === 'Empty') return true;
  switch (to.kind) {
    case 'Integer':
    case 'Long':
      return isIntegral(from);
    case 'Decimal':
      return isNumeric(from);
    case 'Enumeration':
      return from.kind === 'Enumeration' && from.enumeration === to.enumeration;
    case 'Object':
      return from.kind === 'Object' && entityIsA(schema, from.entity, to.entity);
    case 'List':
      return from.kind === 'List' && entityIsA(schema, from.entity, to.entity);
    default:
      return from.kind === to.kind;
  }
}

/** The type's name with its indefinite article: `a String`, `an Integer`, `an Object(Sales.Order)`. */
export function withArticle(type: MxType): string {
  const name = formatType(type);
  return /^[AEIOU]/.test(name) ? `an ${name}` : `a ${name}`;
}
