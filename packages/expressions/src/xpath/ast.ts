/**
 * The syntax tree of an XPath constraint (`[Total > 100][Sales.Order_Customer/Sales.Customer/Name = 'x']`),
 * as {@link parseXPath} returns it, with exact spans.
 */
import type { SourceSpan } from '../types.js';

/** Comparison operators of XPath. */
export type XPathComparisonOperator = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** A node of an XPath constraint. */
export type XPathNode =
  | XPathLogicalNode
  | XPathComparisonNode
  | XPathFunctionNode
  | XPathPathNode
  | XPathStringNode
  | XPathNumberNode
  | XPathVariableNode
  | XPathTokenNode
  | XPathEmptyNode
  | XPathErrorNode;

export interface XPathLogicalNode {
  readonly kind: 'And' | 'Or';
  readonly left: XPathNode;
  readonly right: XPathNode;
  readonly span: SourceSpan;
}

export interface XPathComparisonNode {
  readonly kind: 'Comparison';
  readonly operator: XPathComparisonOperator;
  readonly left: XPathNode;
  readonly right: XPathNode;
  readonly operatorSpan: SourceSpan;
  readonly span: SourceSpan;
}

/** `not(...)`, `contains(Name, 'x')`, `true()`, `string-length(Name)`... */
export interface XPathFunctionNode {
  readonly kind: 'Function';
  readonly name: string;
  readonly nameSpan: SourceSpan;
  readonly args: readonly XPathNode[];
  readonly span: SourceSpan;
}

/** One step of a path: an attribute, `id`, an association or an entity, with nested constraints. */
export interface XPathStep {
  readonly name: string;
  readonly span: SourceSpan;
  /** Constraints in brackets after the step, e.g. `Sales.Address[City = 'X']`. */
  readonly constraints: readonly XPathNode[];
  /** `[reversed()]` after a self-association: walk it from target to owner. */
  readonly reversed: boolean;
}

/** `Name`, `Sales.Order_Customer/Sales.Customer/Name`, `id`... */
export interface XPathPathNode {
  readonly kind: 'Path';
  readonly steps: readonly XPathStep[];
  readonly span: SourceSpan;
}

/** A quoted string; `contentOffsets[i]` is the source offset of the i-th character of `value`. */
export interface XPathStringNode {
  readonly kind: 'String';
  readonly value: string;
  readonly contentOffsets: readonly number[];
  readonly span: SourceSpan;
}

export interface XPathNumberNode {
  readonly kind: 'Number';
  readonly text: string;
  readonly span: SourceSpan;
}

/** `$Name` or `$Name/Attribute` (a path through the variable's object). */
export interface XPathVariableNode {
  readonly kind: 'Variable';
  readonly name: string;
  readonly path: readonly { readonly name: string; readonly span: SourceSpan }[];
  readonly span: SourceSpan;
}

/** An unquoted `[%Token%]`. */
export interface XPathTokenNode {
  readonly kind: 'Token';
  readonly name: string;
  readonly span: SourceSpan;
}

/** `empty` or `NULL`. */
export interface XPathEmptyNode {
  readonly kind: 'Empty';
  readonly span: SourceSpan;
}

export interface XPathErrorNode {
  readonly kind: 'Error';
  readonly span: SourceSpan;
}

/** A parsed XPath: the bracketed constraints, ANDed; and the entity of a full `//Module.Entity[...]` query. */
export interface XPathAst {
  readonly entity?: { readonly name: string; readonly span: SourceSpan };
  readonly constraints: readonly XPathNode[];
}
