/**
 * The Mendix expression and XPath languages for Runplane: parsers with exact positions, type
 * checkers against a {@link DomainSchema}, a compile-once evaluator for expressions, and a
 * database-agnostic query tree for XPath constraints.
 */
export type {
  AssociationInfo,
  AttributeInfo,
  DomainSchema,
  EntityInfo,
  EnumerationInfo,
  MxObjectValue,
  MxType,
  MxTypeKind,
  MxValue,
  SourcePosition,
  SourceSpan,
} from './types.js';
export {
  Decimal,
  DECIMAL_MAX_INTEGER_DIGITS,
  DECIMAL_STORED_FRACTION_DIGITS,
  DIVISION_PRECISION,
  RoundingMode,
  asDecimal,
  divideDecimal,
  isDecimal,
  isStorableDecimal,
  roundDecimal,
  toStorageDecimal,
} from './decimal.js';
export {
  ExpressionRuntimeError,
  LanguageErrorCode,
  RuntimeErrorCode,
  type ExpressionRuntimeErrorDetails,
  type LanguageError,
} from './diagnostics.js';
export {
  MxTypes,
  entityIsA,
  enumerationType,
  formatType,
  isAssignable,
  isIntegral,
  isNumeric,
  listType,
  objectType,
  parseType,
  typesEqual,
} from './mx-types.js';
export {
  AssociationDirection,
  createEvaluationContext,
  type EvaluationContext,
  type EvaluationContextOptions,
  type VariableSource,
} from './context.js';
export {
  compareMxValues,
  decimalToString,
  defaultValueOf,
  isMxList,
  isMxObject,
  mxValuesEqual,
  toJsonValue,
  toStringValue,
  type JsonValue,
  type ToStringContext,
} from './values.js';
export type * from './expression/ast.js';
export { parseExpression, type ParseExpressionResult } from './expression/parser.js';
export {
  compileExpression,
  type AssociationPath,
  type CompileExpressionResult,
  type CompiledExpression,
  type ExpressionDependencies,
  type ExpressionEnvironment,
} from './expression/compiler.js';
export { FUNCTIONS, describeFunction, type FunctionDefinition } from './expression/functions.js';
export type * from './xpath/ast.js';
export { parseXPath, type ParseXPathResult } from './xpath/parser.js';
export { compileXPath, type CompileXPathResult, type XPathEnvironment } from './xpath/compiler.js';
export type {
  XPathAssociationStep,
  XPathAttributeOperand,
  XPathCompare,
  XPathCondition,
  XPathExists,
  XPathOperand,
  XPathParameter,
  XPathQuery,
  XPathStringMatch,
  XPathValueFunction,
  XPathVariableStep,
} from './xpath/query.js';
export { resolveXPathParameters, type XPathBindingOptions } from './xpath/parameters.js';
