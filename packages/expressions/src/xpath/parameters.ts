/**
 * Binds the parameters of an {@link XPathQuery} for one request: variables, the current user,
 * date tokens in the user's time zone and date arithmetic.
 */
import { UserError } from '@runplane/errors';
import type { EvaluationContext, VariableSource } from '../context.js';
import { effectiveZone } from '../runtime/calendar.js';
import { parseIsoDateTime } from '../runtime/date-format.js';
import { dateLocale } from '../runtime/locale.js';
import { addPeriod, dateTokenValue, isPeriodToken, parseDateToken } from '../runtime/tokens.js';
import type { MxObjectValue, MxValue } from '../types.js';
import { isMxList, isMxObject } from '../values.js';
import type { XPathParameter, XPathQuery } from './query.js';

/** What binding parameters needs besides the query. */
export interface XPathBindingOptions {
  readonly variables: VariableSource;
  readonly context: EvaluationContext;
  /** The object `[%CurrentObject%]` refers to (a page's context object), if any. */
  readonly currentObject?: MxObjectValue | null;
}

/**
 * The values of a query's parameters, in the order of `query.parameters`. Objects bind as their
 * id (a string), dates as `Date`, numbers as bigint or Decimal, enumerations as their key; an
 * empty variable or a path through an empty reference binds as null.
 *
 * @throws UserError `XPATH_PARAMETER_UNAVAILABLE` when a variable the query needs is missing.
 */
export function resolveXPathParameters(query: XPathQuery, options: XPathBindingOptions): MxValue[] {
  return query.parameters.map((parameter) => resolveParameter(parameter, options));
}

function idOf(value: MxValue): MxValue {
  return isMxObject(value) ? value.id : value;
}

function resolveParameter(parameter: XPathParameter, options: XPathBindingOptions): MxValue {
  const { context } = options;
  const zone = effectiveZone(context.timeZone);
  switch (parameter.kind) {
    case 'variable': {
      let value = options.variables.get(parameter.name);
      if (value === undefined) {
        if (parameter.name === 'currentUser') value = context.currentUser;
        else {
          throw new UserError({
            code: 'XPATH_PARAMETER_UNAVAILABLE',
            message: `The XPath constraint needs the variable $${parameter.name}, which has no value.`,
            details: { variable: parameter.name },
          });
        }
      }
      for (const step of parameter.path) {
        if (!isMxObject(value)) return null;
        if (step.kind === 'attribute') {
          value = value.get(step.name);
        } else {
          const next = context.follow(value, step.name, step.direction);
          value = isMxList(next) ? (next[0] ?? null) : next;
        }
      }
      return idOf(value ?? null);
    }
    case 'token': {
      if (parameter.token === 'CurrentUser') return context.currentUser?.id ?? null;
      if (parameter.token === 'CurrentObject') return options.currentObject?.id ?? null;
      const token = parseDateToken(parameter.token);
      if (token === undefined) return null;
      return new Date(
        dateTokenValue(token, context.now.getTime(), zone, dateLocale(context.locale).firstDayOfWeek),
      );
    }
    case 'dateExpression': {
      const token = parseDateToken(parameter.token);
      if (token === undefined) return null;
      let ms = dateTokenValue(token, context.now.getTime(), zone, dateLocale(context.locale).firstDayOfWeek);
      const periodZone = token.utc ? 'UTC' : zone;
      for (const term of parameter.terms) {
        if (isPeriodToken(term.period)) ms = addPeriod(ms, term.period, term.count, periodZone);
      }
      return new Date(ms);
    }
    default: {
      const ms = parseIsoDateTime(parameter.text, zone);
      return ms === undefined ? null : new Date(ms);
    }
  }
}
