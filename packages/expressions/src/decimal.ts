/**
 * Decimal arithmetic as Mendix does it: exact sums, differences and products, divisions
 * rounded to 34 significant digits half to even (Java's `MathContext.DECIMAL128`), and
 * stored values rounded half to even to 8 fractional digits.
 */
import { Decimal as DecimalJs } from 'decimal.js';
import { UserError } from '@runplane/errors';

/**
 * The decimal.js constructor configured for Mendix Decimals.
 *
 * Precision is 1000 significant digits, so sums, differences and products of values that
 * fit the Mendix Decimal range (20 integer + 8 fraction digits) are exact. Division must
 * go through {@link divideDecimal}, which rounds like Mendix. `toString()` never uses
 * exponent notation. Never build a Decimal from a JS float: pass strings or bigints.
 */
export const Decimal = DecimalJs.clone({
  precision: 1000,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
  // Java's BigDecimal.remainder: the result has the sign of the dividend.
  modulo: DecimalJs.ROUND_DOWN,
});
/** A Decimal value (a decimal.js instance). */
export type Decimal = DecimalJs;

/** Divisions and other inexact operations round to this many significant digits, as Java's DECIMAL128. */
export const DIVISION_PRECISION = 34;

const Decimal128 = DecimalJs.clone({
  precision: DIVISION_PRECISION,
  rounding: DecimalJs.ROUND_HALF_EVEN,
  toExpNeg: -9e15,
  toExpPos: 9e15,
});

/** Largest number of integer digits a stored Mendix Decimal may have. */
export const DECIMAL_MAX_INTEGER_DIGITS = 20;
/** Number of fractional digits a stored Mendix Decimal keeps. */
export const DECIMAL_STORED_FRACTION_DIGITS = 8;

/** The app-wide rounding setting that `round` follows. */
export const RoundingMode = {
  /** Commercial rounding: 2.5 → 3, -2.5 → -3. The Mendix default. */
  HalfAwayFromZero: 'HalfAwayFromZero',
  /** Bankers' rounding: 2.5 → 2, 3.5 → 4. */
  HalfEven: 'HalfEven',
} as const;
/** The app-wide rounding setting that `round` follows. */
export type RoundingMode = (typeof RoundingMode)[keyof typeof RoundingMode];

/** True for any decimal.js instance, whichever constructor made it. */
export function isDecimal(value: unknown): value is Decimal {
  return value instanceof Decimal || DecimalJs.isDecimal(value);
}

/** The value as an instance of {@link Decimal}, so later arithmetic uses Mendix precision. */
export function asDecimal(value: Decimal | bigint | string): Decimal {
  if (value instanceof Decimal) return value;
  return new Decimal(value);
}

/** `dividend / divisor` rounded to 34 significant digits half to even; the caller checks for zero. */
export function divideDecimal(dividend: Decimal, divisor: Decimal): Decimal {
  return new Decimal(new Decimal128(dividend).div(divisor));
}

/** The square root rounded to 34 significant digits half to even; the caller checks the sign. */
export function sqrtDecimal(value: Decimal): Decimal {
  return new Decimal(new Decimal128(value).sqrt());
}

/** `base ^ exponent`: exact for integral exponents, 34 significant digits otherwise. */
export function powDecimal(base: Decimal, exponent: Decimal): Decimal {
  if (exponent.isInteger() && exponent.abs().lte(100_000)) {
    if (exponent.isNegative()) {
      return divideDecimal(new Decimal(1), base.pow(exponent.neg()));
    }
    return base.pow(exponent);
  }
  return new Decimal(new Decimal128(base).pow(exponent));
}

/** Rounds to `places` fractional digits with the app's rounding mode. */
export function roundDecimal(value: Decimal, places: number, mode: RoundingMode): Decimal {
  const rounding = mode === RoundingMode.HalfEven ? DecimalJs.ROUND_HALF_EVEN : DecimalJs.ROUND_HALF_UP;
  return value.toDecimalPlaces(places, rounding);
}

/** The integral value of a Decimal as a bigint; the caller ensures it is an integer. */
export function integralDecimalToBigInt(value: Decimal): bigint {
  return BigInt(value.toFixed(0));
}

/**
 * The value as it is stored: rounded half to even to 8 fractional digits, as Mendix does.
 *
 * @throws UserError `DECIMAL_OUT_OF_RANGE` when it has more than 20 integer digits.
 */
export function toStorageDecimal(value: Decimal): Decimal {
  const rounded = asDecimal(value).toDecimalPlaces(DECIMAL_STORED_FRACTION_DIGITS, DecimalJs.ROUND_HALF_EVEN);
  if (!isStorableDecimal(rounded)) {
    throw new UserError({
      code: 'DECIMAL_OUT_OF_RANGE',
      message: `The value ${rounded.toString()} has more than ${DECIMAL_MAX_INTEGER_DIGITS} integer digits and cannot be stored as a Decimal.`,
      details: { value: rounded.toString() },
    });
  }
  return rounded;
}

/** True when the value has at most 20 integer digits (its fraction is rounded on storage). */
export function isStorableDecimal(value: Decimal): boolean {
  return value.abs().lt(LARGEST_STORABLE_EXCLUSIVE);
}

const LARGEST_STORABLE_EXCLUSIVE = new Decimal(10).pow(DECIMAL_MAX_INTEGER_DIGITS);
