/**
 * The one place the model package meets the languages package (`@runplane/expressions`):
 * its type contract, the expression and XPath compilers and the type helpers. The rest
 * of the package imports these names from here.
 */
export {
  Decimal,
  compileExpression,
  compileXPath,
  formatType,
  isAssignable,
  type AssociationInfo,
  type AttributeInfo,
  type CompiledExpression,
  type DomainSchema,
  type EntityInfo,
  type EnumerationInfo,
  type LanguageError,
  type MxType,
  type MxValue,
  type SourcePosition,
  type SourceSpan,
  type XPathQuery,
} from '@runplane/expressions';
