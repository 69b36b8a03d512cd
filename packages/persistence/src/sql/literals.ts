/**
 * SQL literals for DDL (PostgreSQL takes no parameters in DDL): the model's default values
 * used to fill a column added to a table that has rows. Never used for request values,
 * which are always bound as parameters.
 */
import { isDecimal, type MxValue } from '@runplane/expressions';
import { quoteLiteral } from '../schema/names.js';

/** The SQL literal of a model value for an attribute of `kind`, or undefined when it has none. */
export function sqlLiteralOf(kind: string, value: MxValue): string | undefined {
  if (value === null) return undefined;
  switch (kind) {
    case 'String':
    case 'Enumeration':
      return typeof value === 'string' ? quoteLiteral(value) : undefined;
    case 'Integer':
    case 'Long':
      return typeof value === 'bigint' ? `${value}` : undefined;
    case 'Decimal':
      return isDecimal(value) ? `${quoteLiteral(value.toFixed())}::numeric` : undefined;
    case 'Boolean':
      return typeof value === 'boolean' ? String(value) : undefined;
    case 'DateTime':
      return value instanceof Date ? `${quoteLiteral(value.toISOString())}::timestamptz` : undefined;
    default:
      return undefined;
  }
}
