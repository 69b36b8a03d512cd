/**
 * Runtime values as Mendix compares, prints and defaults them.
 */
import { Decimal, isDecimal } from './decimal.js';
import { effectiveZone } from './runtime/calendar.js';
import { javaDateString } from './runtime/date-format.js';
import { dateLocale } from './runtime/locale.js';
import type { MxObjectValue, MxType, MxValue } from './types.js';

/** True for an object value (anything with an `id` and a `get`). */
export function isMxObject(value: unknown): value is MxObjectValue {
  // Dates, Decimals, byte arrays and lists have no string id with a get method: two checks suffice.
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { get?: unknown }).get === 'function' &&
    typeof (value as { id?: unknown }).id === 'string'
  );
}

/** True for a list of objects. */
export function isMxList(value: unknown): value is readonly MxObjectValue[] {
  return Array.isArray(value);
}

/**
 * Equality as Mendix's `=` has it: empty equals empty (and an empty list); numbers compare by
 * value across Integer, Long and Decimal (`1 = 1.0`); dates by instant; objects by id; strings
 * exactly (case-sensitive); lists element by element.
 */
export function mxValuesEqual(a: MxValue, b: MxValue): boolean {
  if (a === null || b === null) {
    if (a === null && b === null) return true;
    const other = a === null ? b : a;
    return Array.isArray(other) && other.length === 0;
  }
  if (typeof a === 'bigint') {
    if (typeof b === 'bigint') return a === b;
    if (isDecimal(b)) return b.eq(new Decimal(a));
    return false;
  }
  if (isDecimal(a)) {
    if (isDecimal(b)) return a.eq(b);
    if (typeof b === 'bigint') return a.eq(new Decimal(b));
    return false;
  }
  if (a instanceof Date) return b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof Uint8Array) {
    if (!(b instanceof Uint8Array) || a.length !== b.length) return false;
    return a.every((byte, i) => byte === b[i]);
  }
  if (isMxList(a)) {
    if (!isMxList(b) || a.length !== b.length) return false;
    return a.every((item, i) => mxValuesEqual(item, b[i] ?? null));
  }
  if (isMxObject(a)) return isMxObject(b) && a.id === b.id;
  return a === b;
}

/**
 * Orders two non-empty values of one category (numbers, strings, dates, booleans):
 * negative, zero or positive. Strings compare by UTF-16 code units, as Java's `compareTo`.
 * Undefined when they cannot be ordered.
 */
export function compareMxValues(a: MxValue, b: MxValue): number | undefined {
  if (a === null || b === null) return undefined;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'bigint' || isDecimal(a)) && (typeof b === 'bigint' || isDecimal(b))) {
    return new Decimal(a).comparedTo(new Decimal(b));
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (a instanceof Date && b instanceof Date) return a.getTime() - b.getTime();
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  return undefined;
}

/** What `toString` prints for a value needs of its context. */
export interface ToStringContext {
  /** IANA zone in which dates are printed; UTC when empty. */
  readonly timeZone?: string;
}

/**
 * The text `toString(value)` gives: Integers and Longs in decimal digits, Decimals in plain
 * notation without trailing zeros, `true`/`false`, dates as Java's `Date.toString()`
 * (`Mon Jan 01 00:00:00 CET 2007`) in the user's time zone, enumerations as their key, and
 * empty as the empty string.
 */
export function toStringValue(value: MxValue, context: ToStringContext = {}): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (isDecimal(value)) return decimalToString(value);
  if (value instanceof Date) {
    return javaDateString(value.getTime(), effectiveZone(context.timeZone), dateLocale('en-US'));
  }
  if (value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (isMxList(value)) return `[${value.map((o) => o.id).join(', ')}]`;
  if (isMxObject(value)) return `${value.entity}(${value.id})`;
  return '';
}

/** A Decimal in plain notation (never exponent notation) without trailing zeros; `-0` prints as `0`. */
export function decimalToString(value: Decimal): string {
  if (value.isZero()) return '0';
  return value.toFixed();
}

/**
 * The value a new attribute or variable of a type starts with, as Mendix defaults it:
 * Integer, Long and Decimal 0, Boolean false, a list empty, everything else empty.
 */
export function defaultValueOf(type: MxType): MxValue {
  switch (type.kind) {
    case 'Integer':
    case 'Long':
      return 0n;
    case 'Decimal':
      return new Decimal(0);
    case 'Boolean':
      return false;
    case 'List':
      return [];
    default:
      return null;
  }
}

/** A JSON-safe value: what CLIs and logs print for an {@link MxValue}. */
export type JsonValue =
  string | number | boolean | null | JsonValue[] | { readonly [key: string]: JsonValue };

/**
 * A value as JSON: Decimals as exact strings, Integers and Longs as numbers when they are safe
 * integers (strings otherwise), dates as ISO 8601 strings, binaries as base64, objects as
 * `{ id, entity }`.
 */
export function toJsonValue(value: MxValue): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') {
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value.toString();
  }
  if (isDecimal(value)) return decimalToString(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (isMxList(value)) return value.map((o) => ({ id: o.id, entity: o.entity }));
  if (isMxObject(value)) return { id: value.id, entity: value.entity };
  return null;
}
