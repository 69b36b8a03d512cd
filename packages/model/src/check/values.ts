/**
 * Literal values written in the model (attribute defaults, constants, validation
 * bounds), read as values of their Mendix type.
 */
import { Decimal, type MxValue } from '../languages.js';
import type { AttributeKind } from '../compiled/types.js';

/** Smallest Integer (32-bit). */
export const INTEGER_MIN = -(2n ** 31n);
/** Largest Integer (32-bit). */
export const INTEGER_MAX = 2n ** 31n - 1n;
/** Smallest Long (64-bit). */
export const LONG_MIN = -(2n ** 63n);
/** Largest Long (64-bit). */
export const LONG_MAX = 2n ** 63n - 1n;
/** Mendix Decimals have at most 20 digits before the point. */
export const DECIMAL_MAX_INTEGER_DIGITS = 20;

/** The result of reading a literal. */
export type LiteralResult =
  | { readonly ok: true; readonly value: MxValue; readonly currentDateTime?: boolean }
  | { readonly ok: false; readonly message: string; readonly hint: string };

const fail = (message: string, hint: string): LiteralResult => ({ ok: false, message, hint });

/**
 * Reads `raw` (as parsed) as a value of `kind`. `source` is the text as written in the
 * file, used for numbers so that no precision is lost to JS floats.
 */
export function readLiteral(
  kind: AttributeKind | 'Integer' | 'Long',
  raw: unknown,
  source: string | undefined,
  enumValues?: readonly string[],
): LiteralResult {
  const text = typeof raw === 'number' && source !== undefined ? source.trim() : String(raw);
  switch (kind) {
    case 'String':
    case 'HashedString':
      return typeof raw === 'string'
        ? { ok: true, value: raw }
        : fail(`Expected a string, found ${String(raw)}.`, 'Quote the value.');
    case 'Boolean':
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      if (raw === 'true' || raw === 'false') return { ok: true, value: raw === 'true' };
      return fail(`'${String(raw)}' is not a Boolean.`, 'Use true or false.');
    case 'Integer':
    case 'Long':
    case 'AutoNumber': {
      if (typeof raw === 'boolean' || !/^[+-]?\d+$/.test(text)) {
        return fail(`'${text}' is not a whole number.`, `${kind} values are whole numbers.`);
      }
      const value = BigInt(text);
      const [min, max] = kind === 'Integer' ? [INTEGER_MIN, INTEGER_MAX] : [LONG_MIN, LONG_MAX];
      if (value < min || value > max) {
        return fail(
          `${text} is out of the ${kind === 'Integer' ? 'Integer (32-bit)' : 'Long (64-bit)'} range.`,
          `Use a value from ${min} to ${max}.`,
        );
      }
      return { ok: true, value };
    }
    case 'Decimal': {
      if (typeof raw === 'boolean' || !/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
        return fail(`'${text}' is not a decimal number.`, "Write it like '12.50'.");
      }
      const value = new Decimal(text);
      const integerDigits = value.abs().trunc().toFixed(0).replace(/^0$/, '').length;
      if (integerDigits > DECIMAL_MAX_INTEGER_DIGITS) {
        return fail(
          `${text} has more than ${DECIMAL_MAX_INTEGER_DIGITS} digits before the decimal point.`,
          'Mendix Decimals have at most 20 integer digits.',
        );
      }
      // Stored Decimals keep 8 fractional digits, rounded half to even.
      return { ok: true, value: value.toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN) };
    }
    case 'DateTime': {
      if (raw === '[%CurrentDateTime%]') return { ok: true, value: null, currentDateTime: true };
      if (
        typeof raw !== 'string' ||
        !/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(raw)
      ) {
        return fail(
          `'${String(raw)}' is not a date and time.`,
          "Use ISO 8601, e.g. '2024-01-31T12:00:00Z', or '[%CurrentDateTime%]'.",
        );
      }
      const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(raw);
      const iso = raw.length === 10 ? `${raw}T00:00:00Z` : hasZone ? raw : `${raw.replace(' ', 'T')}Z`;
      const date = new Date(iso);
      if (Number.isNaN(date.getTime()))
        return fail(`'${raw}' is not a valid date.`, 'Check the day and month.');
      return { ok: true, value: date };
    }
    case 'Enumeration': {
      if (typeof raw !== 'string') return fail(`Expected an enumeration value, found ${String(raw)}.`, '');
      const key = raw.includes('.') ? (raw.split('.').pop() ?? raw) : raw;
      if (enumValues !== undefined && !enumValues.includes(key)) {
        return fail(`'${raw}' is not a value of the enumeration.`, `Use one of: ${enumValues.join(', ')}.`);
      }
      return { ok: true, value: key };
    }
    case 'Binary':
      return fail('Binary attributes cannot have a default.', 'Remove the default.');
  }
}

/** The default a new object gets when the model gives none, as Mendix has it. */
export function implicitDefault(kind: AttributeKind): MxValue {
  switch (kind) {
    case 'Integer':
    case 'Long':
      return 0n;
    case 'Decimal':
      return new Decimal(0);
    case 'Boolean':
      return false;
    case 'AutoNumber':
      return 1n;
    default:
      return null;
  }
}
