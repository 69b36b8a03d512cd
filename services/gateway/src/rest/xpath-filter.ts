/**
 * XPath constraints that compare attributes with request values (published REST filters and
 * keys). Each value is checked against its attribute's type and goes to the executor as an XPath
 * variable, never as text inside the constraint: a value cannot change the constraint's
 * structure, cannot be read as a token such as `[%CurrentUser%]`, and the constraint's text —
 * the same for every value — is compiled once.
 */
import type { CompiledModel } from '@runplane/model';
import type { common } from '@runplane/proto';
import { DateStyle, badValue, valueFromText, type MxType } from '../wire/values.js';

/** An attribute name as XPath accepts it unquoted. */
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One `attribute = value` comparison, the value as the request gave it (text). */
export interface EqualityTerm {
  readonly attribute: string;
  readonly type: MxType;
  readonly text: string;
  /** The request parameter that gave the value, for errors. */
  readonly parameter: string;
}

/** A constraint and the values of its variables. */
export interface EqualityFilter {
  /** `[A = $v0][B = $v1]`; empty for no terms. */
  readonly constraint: string;
  readonly variables: Record<string, common.Value>;
}

/**
 * The constraint `[Attribute = $v0]…` of the terms, with their values as variables. A value that
 * does not fit its attribute's type is a 400 `code` naming its parameter.
 */
export function equalityFilter(
  model: CompiledModel,
  terms: readonly EqualityTerm[],
  code: string,
): EqualityFilter {
  let constraint = '';
  const variables: Record<string, common.Value> = {};
  terms.forEach((term, i) => {
    if (!ATTRIBUTE_NAME.test(term.attribute)) throw badValue(code, term.parameter, 'an attribute name');
    const name = `v${i}`;
    variables[name] = valueFromText(model, term.type, term.text, {
      dates: DateStyle.Iso,
      where: term.parameter,
      code,
    });
    constraint += `[${term.attribute} = $${name}]`;
  });
  return { constraint, variables };
}
