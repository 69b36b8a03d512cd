/**
 * The XPath query tree: a database-agnostic description of which objects of an entity an XPath
 * constraint selects, with every name resolved against the domain model. The persistence
 * package compiles it to parameterised SQL; entity access rules use it for row constraints.
 *
 * Semantics, so every backend agrees:
 *
 * - A condition is evaluated for one object of a *scope entity*: the retrieved entity at the
 *   top, the entity at the far end of an association inside an `exists`.
 * - `exists` holds when at least one object at the other end of the association step satisfies
 *   `where` (or any object, when `where` is undefined). A path over several associations is a
 *   chain of nested `exists`; a comparison at the end of a path is the innermost `where`.
 *   XPath `[A/B/Attr = 1]` therefore means "some B reached over A has Attr = 1".
 * - Conditions are two-valued. A `compare` with an empty (NULL) side is false — not unknown, so
 *   `not` of it is true, as Mendix's `[not(Name = 'x')]` selects empty names — except that
 *   `emptyMatches: true` (set for `!=` against a value, as Mendix does) makes it true.
 * - `isEmpty` tests an attribute for empty (NULL); `negated` tests for a value.
 * - `stringMatch` is case-insensitive, as Mendix's `contains`, `starts-with` and `ends-with`.
 * - Parameters (variables and tokens) stay symbolic; {@link resolveXPathParameters} gives their
 *   values for one request, in the order of {@link XPathQuery.parameters}.
 */
import type { AssociationDirection } from '../context.js';
import type { MxType, MxValue } from '../types.js';
import type { XPathComparisonOperator } from './ast.js';

/** A compiled XPath constraint on one entity. */
export interface XPathQuery {
  /** The XPath text it was compiled from. */
  readonly source: string;
  /** The retrieved entity (qualified name). */
  readonly entity: string;
  /** Which objects are selected; undefined when there is no constraint (every object). */
  readonly condition: XPathCondition | undefined;
  /** The values to bind per request, referenced by `{ kind: 'parameter', index }` operands. */
  readonly parameters: readonly XPathParameter[];
}

/** A condition on an object of the scope entity. */
export type XPathCondition =
  | { readonly kind: 'and'; readonly operands: readonly XPathCondition[] }
  | { readonly kind: 'or'; readonly operands: readonly XPathCondition[] }
  | { readonly kind: 'not'; readonly operand: XPathCondition }
  /** `true()` or `false()` standing alone. */
  | { readonly kind: 'constant'; readonly value: boolean }
  | XPathCompare
  | { readonly kind: 'isEmpty'; readonly operand: XPathAttributeOperand; readonly negated: boolean }
  | XPathStringMatch
  | XPathExists;

/** A comparison of two operands; at least one is usually an attribute or `id` of the scope entity. */
export interface XPathCompare {
  readonly kind: 'compare';
  readonly left: XPathOperand;
  readonly operator: XPathComparisonOperator;
  readonly right: XPathOperand;
  /** Also true for objects whose attribute is empty (Mendix's `!=` against a value). */
  readonly emptyMatches: boolean;
}

/** `contains(Name, 'an')`, `starts-with(...)`, `ends-with(...)`: case-insensitive. */
export interface XPathStringMatch {
  readonly kind: 'stringMatch';
  readonly function: 'contains' | 'starts-with' | 'ends-with';
  readonly attribute: XPathAttributeOperand;
  /** A String literal or parameter. */
  readonly value: XPathOperand;
}

/** Some object at the other end of an association step satisfies `where`. */
export interface XPathExists {
  readonly kind: 'exists';
  readonly step: XPathAssociationStep;
  /** Evaluated with `step.to` as the scope entity; undefined means any associated object. */
  readonly where: XPathCondition | undefined;
}

/** One association walked from the scope entity. */
export interface XPathAssociationStep {
  /** Qualified association name, e.g. `Sales.Order_Customer`. */
  readonly association: string;
  readonly type: 'Reference' | 'ReferenceSet';
  /** OwnerToTarget walks from the owner (e.g. Order) to the target (Customer); TargetToOwner back. */
  readonly direction: AssociationDirection;
  /** The association's owner and target entities, as declared. */
  readonly owner: string;
  readonly target: string;
  /** The entity the walk starts from (the scope entity). */
  readonly from: string;
  /** The entity of the objects reached: the association's end, or a specialisation of it named in the path. */
  readonly to: string;
  /** True when `to` is narrower than the association's end: only objects of `to` (or its specialisations) count. */
  readonly specialization: boolean;
}

/** An attribute of the scope entity. */
export interface XPathAttributeOperand {
  readonly kind: 'attribute';
  /** The entity that declares or inherits the attribute (the scope entity). */
  readonly entity: string;
  readonly attribute: string;
  readonly type: MxType;
  /** The attribute's kind in the model, e.g. `AutoNumber`, `Enumeration`, `CreatedDate`. */
  readonly modelType: string;
}

/** Functions of XPath that compute a value from an attribute. */
export type XPathValueFunction =
  | 'string-length'
  | 'year-from-dateTime'
  | 'month-from-dateTime'
  | 'day-from-dateTime'
  | 'hours-from-dateTime'
  | 'minutes-from-dateTime'
  | 'seconds-from-dateTime'
  | 'quarter-from-dateTime'
  | 'day-of-year-from-dateTime'
  | 'week-from-dateTime'
  | 'weekday-from-dateTime';

/** A value in a comparison. */
export type XPathOperand =
  | XPathAttributeOperand
  /** The object id of the scope entity. */
  | { readonly kind: 'id'; readonly entity: string }
  /** A literal, already converted to the type of what it is compared with (an enumeration key, an id...). */
  | { readonly kind: 'literal'; readonly value: MxValue; readonly type: MxType }
  /** A value bound per request: `query.parameters[index]`. */
  | { readonly kind: 'parameter'; readonly index: number; readonly type: MxType }
  /** The `System.UserRole` object with this name (`[%UserRole_Administrator%]`). */
  | { readonly kind: 'userRole'; readonly name: string }
  /**
   * A value computed from an attribute: `string-length(Name)`, or a date part (Integer) that
   * Mendix computes in the user's time zone.
   */
  | {
      readonly kind: 'function';
      readonly function: XPathValueFunction;
      readonly argument: XPathAttributeOperand;
      readonly type: MxType;
    };

/** A value an XPath needs per request. */
export type XPathParameter =
  /** `$Name` or `$Name/Attribute`; object values bind as their id. */
  | {
      readonly kind: 'variable';
      readonly name: string;
      /** Attribute and single-reference association names read from the variable's object. */
      readonly path: readonly XPathVariableStep[];
      readonly type: MxType;
    }
  /** `[%CurrentUser%]` (the user's id), `[%CurrentObject%]`, `[%CurrentDateTime%]`, `[%BeginOfCurrentDay%]`... */
  | { readonly kind: 'token'; readonly token: string; readonly type: MxType }
  /** `'[%BeginOfCurrentDay%] - 3 * [%YearLength%]'`: a date token moved by periods. */
  | {
      readonly kind: 'dateExpression';
      readonly token: string;
      readonly terms: readonly { readonly count: number; readonly period: string }[];
      readonly type: MxType;
    }
  /** An ISO 8601 date-time without a zone (`'2024-01-31T10:00'`), read in the user's time zone. */
  | { readonly kind: 'localDateTime'; readonly text: string; readonly type: MxType };

/** One step of a variable path. */
export type XPathVariableStep =
  | { readonly kind: 'attribute'; readonly name: string }
  | { readonly kind: 'association'; readonly name: string; readonly direction: AssociationDirection };
