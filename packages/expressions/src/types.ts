/**
 * The contract of the languages package: the Mendix type system, the view of the
 * domain model the type checkers need, runtime values and positions.
 *
 * The model package implements {@link DomainSchema}; the microflow engine and the
 * persistence package consume compiled expressions and XPath query trees.
 */
import type { Decimal } from 'decimal.js';

/** A type of the Mendix type system, as expressions, variables and attributes have it. */
export type MxType =
  | { readonly kind: 'String' }
  | { readonly kind: 'Integer' }
  | { readonly kind: 'Long' }
  | { readonly kind: 'Decimal' }
  | { readonly kind: 'Boolean' }
  | { readonly kind: 'DateTime' }
  | { readonly kind: 'Binary' }
  | { readonly kind: 'Enumeration'; readonly enumeration: string }
  | { readonly kind: 'Object'; readonly entity: string }
  | { readonly kind: 'List'; readonly entity: string }
  /** The type of the literal `empty`: assignable to anything. */
  | { readonly kind: 'Empty' }
  /** No value: a microflow that returns nothing. */
  | { readonly kind: 'Void' };

/** The kinds of {@link MxType}. */
export type MxTypeKind = MxType['kind'];

/** An attribute as the type checkers see it. */
export interface AttributeInfo {
  readonly name: string;
  /** AutoNumber reads as Long, HashedString as String. */
  readonly type: MxType;
  /** The attribute's own kind in the model, e.g. 'AutoNumber' or 'HashedString'. */
  readonly modelType: string;
  /** HashedString and Binary attributes cannot be used in XPath comparisons. */
  readonly filterable: boolean;
  readonly sortable: boolean;
}

/** An association as seen from one of its two ends. */
export interface AssociationInfo {
  /** Qualified name, e.g. 'Sales.Order_Customer'. */
  readonly name: string;
  /** 'Reference' (one-to-many / one-to-one) or 'ReferenceSet' (many-to-many). */
  readonly type: 'Reference' | 'ReferenceSet';
  /** Qualified name of the entity that owns the association (its parent side). */
  readonly owner: string;
  /** Qualified name of the entity on the other side (its child side). */
  readonly target: string;
}

/** An entity as the type checkers see it; lookups include inherited members. */
export interface EntityInfo {
  /** Qualified name, e.g. 'Sales.Order'. */
  readonly name: string;
  readonly persistable: boolean;
  /** Qualified name of the entity this one specialises. */
  readonly generalization: string | undefined;
  attribute(name: string): AttributeInfo | undefined;
  /** Associations this entity takes part in, from either end, by qualified name. */
  association(qualifiedName: string): AssociationInfo | undefined;
  /** True when this entity is `other` or specialises it, directly or not. */
  isA(other: string): boolean;
}

/** An enumeration and its values. */
export interface EnumerationInfo {
  /** Qualified name, e.g. 'Sales.OrderStatus'. */
  readonly name: string;
  readonly values: readonly { readonly key: string; readonly caption: string }[];
}

/** The view of the app model the type checkers need. Implemented by the model package. */
export interface DomainSchema {
  entity(qualifiedName: string): EntityInfo | undefined;
  enumeration(qualifiedName: string): EnumerationInfo | undefined;
  /** A constant's type, by qualified name, e.g. 'Sales.VatRate'. */
  constant(qualifiedName: string): MxType | undefined;
  /** User role names, for `[%UserRole_Name%]` tokens. */
  userRole(name: string): boolean;
}

/** A place in a source text. Offsets count UTF-16 code units from 0; lines and columns from 1. */
export interface SourcePosition {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** A stretch of source text. */
export interface SourceSpan {
  readonly start: SourcePosition;
  readonly end: SourcePosition;
}

/**
 * The value an expression, variable or attribute holds at run time.
 *
 * - String, Enumeration (its key): `string`
 * - Integer, Long, AutoNumber: `bigint`
 * - Decimal: `Decimal` (decimal.js), never a JS number
 * - Boolean: `boolean`
 * - DateTime: `Date`
 * - Binary: `Uint8Array`
 * - Object: {@link MxObjectValue}
 * - List: a readonly array of {@link MxObjectValue}
 * - empty: `null`
 */
export type MxValue =
  string | bigint | Decimal | boolean | Date | Uint8Array | MxObjectValue | readonly MxObjectValue[] | null;

/** An object as expressions read it. */
export interface MxObjectValue {
  readonly id: string;
  /** Qualified name of the object's actual entity (a specialisation of the declared one, maybe). */
  readonly entity: string;
  /** An attribute's value, by name. */
  get(attribute: string): MxValue;
  /** True for an object created in this request and never committed (`isNew($object)`); false when absent. */
  readonly isNew?: boolean;
}
