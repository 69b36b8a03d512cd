/**
 * The syntax tree of a Mendix expression, as {@link parseExpression} returns it. Every node
 * carries its exact span in the source text.
 */
import type { SourceSpan } from '../types.js';

/** Binary operators, by their Mendix spelling (`:` is read as `div`). */
export type BinaryOperator =
  'or' | 'and' | '=' | '!=' | '<' | '<=' | '>' | '>=' | '+' | '-' | '*' | 'div' | 'mod';

/** A node of the expression syntax tree. */
export type ExpressionNode =
  | StringLiteralNode
  | NumberLiteralNode
  | BooleanLiteralNode
  | EmptyLiteralNode
  | VariableNode
  | MemberNode
  | TokenNode
  | ConstantNode
  | QualifiedNameNode
  | CallNode
  | UnaryNode
  | BinaryNode
  | IfNode
  | ErrorNode;

/** `'text'` (quotes doubled inside). */
export interface StringLiteralNode {
  readonly kind: 'String';
  readonly value: string;
  readonly span: SourceSpan;
}

/** `42`, `1.21`, `1e3`: integral text without a fraction or exponent is an Integer/Long literal. */
export interface NumberLiteralNode {
  readonly kind: 'Number';
  readonly text: string;
  readonly integral: boolean;
  readonly span: SourceSpan;
}

export interface BooleanLiteralNode {
  readonly kind: 'Boolean';
  readonly value: boolean;
  readonly span: SourceSpan;
}

/** `empty` */
export interface EmptyLiteralNode {
  readonly kind: 'Empty';
  readonly span: SourceSpan;
}

/** `$Name`; `name` is without the dollar sign. */
export interface VariableNode {
  readonly kind: 'Variable';
  readonly name: string;
  readonly span: SourceSpan;
}

/** `object/Member`: an attribute, an association (`Module.Assoc`) or an entity naming the end of an association. */
export interface MemberNode {
  readonly kind: 'Member';
  readonly object: ExpressionNode;
  readonly member: string;
  readonly memberSpan: SourceSpan;
  readonly span: SourceSpan;
}

/** `[%Name%]` */
export interface TokenNode {
  readonly kind: 'Token';
  readonly name: string;
  readonly span: SourceSpan;
}

/** `@Module.Constant` */
export interface ConstantNode {
  readonly kind: 'Constant';
  readonly name: string;
  readonly span: SourceSpan;
}

/** A dotted name outside a path: `Module.Enumeration.Value`. */
export interface QualifiedNameNode {
  readonly kind: 'QualifiedName';
  readonly name: string;
  readonly span: SourceSpan;
}

export interface CallNode {
  readonly kind: 'Call';
  readonly name: string;
  readonly nameSpan: SourceSpan;
  readonly args: readonly ExpressionNode[];
  readonly span: SourceSpan;
}

/** Unary minus or `not`. */
export interface UnaryNode {
  readonly kind: 'Unary';
  readonly operator: '-' | 'not';
  readonly operand: ExpressionNode;
  readonly span: SourceSpan;
}

export interface BinaryNode {
  readonly kind: 'Binary';
  readonly operator: BinaryOperator;
  readonly left: ExpressionNode;
  readonly right: ExpressionNode;
  readonly operatorSpan: SourceSpan;
  readonly span: SourceSpan;
}

/** `if c then a else b` */
export interface IfNode {
  readonly kind: 'If';
  readonly condition: ExpressionNode;
  readonly then: ExpressionNode;
  readonly else: ExpressionNode;
  readonly span: SourceSpan;
}

/** Where the parser could not make sense of the text; a syntax error was reported for it. */
export interface ErrorNode {
  readonly kind: 'Error';
  readonly span: SourceSpan;
}
