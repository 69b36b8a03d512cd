/**
 * Changing an attribute's type in place: the `USING` expression that converts its values,
 * and whether values can be lost on the way.
 */
import { quoteIdent, quoteLiteral } from './names.js';

/** A column's type change. */
export interface ColumnConversion {
  /** `ALTER COLUMN … TYPE <type> USING <expression>`. */
  readonly using: string;
  /** True when some values may not survive (too long, out of range, not a number, …). */
  readonly mayLoseValues: boolean;
}

const NUMBER_KINDS = new Set(['Integer', 'Long', 'AutoNumber', 'Decimal']);
const TEXT_KINDS = new Set(['String', 'Enumeration']);

function varcharLength(sqlType: string): number | undefined {
  const match = /^varchar\((\d+)\)$/.exec(sqlType);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/** Longest text form of a number of each kind (sign included). */
const TEXT_WIDTH: Record<string, number> = { Integer: 11, Long: 20, AutoNumber: 20, Decimal: 30, Boolean: 5 };

/**
 * How to convert a column from one attribute kind and SQL type to another. Unknown kinds (a
 * column that held no attribute) and pairs with no sensible conversion get `NULL` (or false
 * for Booleans), which loses every value.
 */
export function convertColumn(
  column: string,
  from: { readonly kind: string | undefined; readonly sqlType: string },
  to: { readonly kind: string | undefined; readonly sqlType: string; readonly allowed?: readonly string[] },
): ColumnConversion {
  const c = quoteIdent(column);
  const target = to.sqlType;
  const fromKind = from.kind ?? '';
  const toKind = to.kind ?? '';
  const lossless = (using: string): ColumnConversion => ({ using, mayLoseValues: false });
  const lossy = (using: string): ColumnConversion => ({ using, mayLoseValues: true });

  if (TEXT_KINDS.has(toKind)) {
    const limit = varcharLength(target);
    if (toKind === 'Enumeration') {
      const allowed = (to.allowed ?? []).map(quoteLiteral).join(', ');
      const keep = allowed === '' ? 'false' : `${c}::text IN (${allowed})`;
      return lossy(`CASE WHEN ${keep} THEN ${c}::text END`);
    }
    const width =
      fromKind === 'String' || fromKind === 'Enumeration' || fromKind === 'HashedString'
        ? varcharLength(from.sqlType)
        : TEXT_WIDTH[fromKind];
    if (fromKind === 'Binary' || fromKind === 'HashedString' || fromKind === 'DateTime' || fromKind === '') {
      return lossy(`NULL::${target}`);
    }
    if (limit === undefined) return lossless(`${c}::text`);
    const fits = width !== undefined && width <= limit;
    return fits ? lossless(`${c}::${target}`) : lossy(`left(${c}::text, ${limit})::${target}`);
  }
  if (NUMBER_KINDS.has(toKind)) {
    if (NUMBER_KINDS.has(fromKind)) {
      if (toKind === 'Decimal') return lossless(`${c}::numeric(28,8)`);
      if (fromKind === 'Decimal') {
        const bound = toKind === 'Integer' ? '2147483647' : '9223372036854775807';
        return lossy(`CASE WHEN abs(round(${c})) <= ${bound} THEN round(${c})::${target} END`);
      }
      if (toKind === 'Integer' && fromKind !== 'Integer') {
        return lossy(`CASE WHEN ${c} BETWEEN -2147483648 AND 2147483647 THEN ${c}::integer END`);
      }
      return lossless(`${c}::${target}`);
    }
    if (TEXT_KINDS.has(fromKind)) {
      // Only texts that surely fit are converted; the rest become empty.
      const pattern =
        toKind === 'Integer'
          ? '^\\s*-?[0-9]{1,9}\\s*$'
          : toKind === 'Decimal'
            ? '^\\s*-?[0-9]{1,20}(\\.[0-9]+)?\\s*$'
            : '^\\s*-?[0-9]{1,18}\\s*$';
      return lossy(`CASE WHEN ${c} ~ ${quoteLiteral(pattern)} THEN trim(${c})::${target} END`);
    }
    if (fromKind === 'Boolean') return lossless(`CASE WHEN ${c} THEN 1 ELSE 0 END::${target}`);
    return lossy(`NULL::${target}`);
  }
  if (toKind === 'Boolean') {
    if (TEXT_KINDS.has(fromKind)) return lossy(`coalesce(lower(trim(${c})) IN ('true', '1', 'yes'), false)`);
    if (NUMBER_KINDS.has(fromKind)) return lossy(`coalesce(${c} <> 0, false)`);
    return lossy('false');
  }
  return lossy(`NULL::${target}`);
}
