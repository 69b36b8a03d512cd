/**
 * Java `DecimalFormat` patterns, as `formatDecimal` and `parseDecimal` use them in Mendix
 * microflows: `0` `#` `,` `.` `E` `;` `%` `‰` `¤` `-` and quoted text, rounding half to even,
 * with the locale's symbols.
 */
import { Decimal as DecimalJs } from 'decimal.js';
import { Decimal } from '../decimal.js';
import type { NumberLocaleData } from './locale.js';

/** A compiled number pattern. */
export interface NumberPattern {
  readonly positivePrefix: readonly AffixPart[];
  readonly positiveSuffix: readonly AffixPart[];
  /** Undefined when the pattern has no negative subpattern: then it is `-` and the positive affixes. */
  readonly negativePrefix: readonly AffixPart[] | undefined;
  readonly negativeSuffix: readonly AffixPart[] | undefined;
  readonly minInt: number;
  readonly maxInt: number;
  readonly minFrac: number;
  readonly maxFrac: number;
  /** 0 when the pattern has no grouping separator. */
  readonly groupingSize: number;
  readonly decimalSeparatorAlwaysShown: boolean;
  /** 1, 100 (%) or 1000 (‰). */
  readonly multiplier: number;
  /** Minimum exponent digits; undefined when the pattern is not scientific. */
  readonly minExponentDigits: number | undefined;
}

/** A piece of a prefix or suffix. */
export type AffixPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'currency' | 'percent' | 'permill' | 'minus' };

/** A compiled pattern, or why Java would reject it. */
export type NumberPatternResult =
  { readonly ok: true; readonly pattern: NumberPattern } | { readonly ok: false; readonly message: string };

const cache = new Map<string, NumberPatternResult>();

/** Compiles a `DecimalFormat` pattern once. */
export function compileNumberPattern(pattern: string): NumberPatternResult {
  let cached = cache.get(pattern);
  if (cached === undefined) {
    cached = compile(pattern);
    if (cache.size > 500) cache.clear();
    cache.set(pattern, cached);
  }
  return cached;
}

interface Subpattern {
  prefix: AffixPart[];
  suffix: AffixPart[];
  zeroIntDigits: number;
  hashIntDigits: number;
  zeroFracDigits: number;
  hashFracDigits: number;
  groupingSize: number;
  hasGrouping: boolean;
  decimalShown: boolean;
  exponentDigits: number | undefined;
  multiplier: number;
  hasNumber: boolean;
}

function compile(pattern: string): NumberPatternResult {
  const subs: Subpattern[] = [];
  let i = 0;
  for (let part = 0; part < 2 && i <= pattern.length; part++) {
    const sub: Subpattern = {
      prefix: [],
      suffix: [],
      zeroIntDigits: 0,
      hashIntDigits: 0,
      zeroFracDigits: 0,
      hashFracDigits: 0,
      groupingSize: 0,
      hasGrouping: false,
      decimalShown: false,
      exponentDigits: undefined,
      multiplier: 1,
      hasNumber: false,
    };
    // 0 prefix, 1 number, 2 suffix
    let phase = 0;
    let inFraction = false;
    let lastGroupPos = -1;
    let intDigitsSeen = 0;
    let ended = false;
    while (i < pattern.length) {
      const ch = pattern.charAt(i);
      if (phase === 1) {
        if (ch === '#' || ch === '0') {
          if (sub.exponentDigits !== undefined)
            return { ok: false, message: `Unexpected '${ch}' in the exponent of the number pattern` };
          if (inFraction) {
            if (ch === '0') {
              if (sub.hashFracDigits > 0)
                return { ok: false, message: "'0' after '#' in the fraction of the number pattern" };
              sub.zeroFracDigits++;
            } else sub.hashFracDigits++;
          } else {
            if (ch === '#') {
              if (sub.zeroIntDigits > 0)
                return { ok: false, message: "'#' after '0' in the integer part of the number pattern" };
              sub.hashIntDigits++;
            } else sub.zeroIntDigits++;
            intDigitsSeen++;
          }
          i++;
          continue;
        }
        if (ch === ',' && !inFraction && sub.exponentDigits === undefined) {
          sub.hasGrouping = true;
          lastGroupPos = intDigitsSeen;
          i++;
          continue;
        }
        if (ch === '.' && !inFraction && sub.exponentDigits === undefined) {
          inFraction = true;
          sub.decimalShown = true;
          i++;
          continue;
        }
        if (ch === 'E' && sub.exponentDigits === undefined) {
          let j = i + 1;
          let zeros = 0;
          while (pattern.charAt(j) === '0') {
            zeros++;
            j++;
          }
          if (zeros === 0)
            return {
              ok: false,
              message: "Malformed exponent in the number pattern: 'E' needs at least one '0'",
            };
          sub.exponentDigits = zeros;
          i = j;
          continue;
        }
        phase = 2;
      }
      if (ch === ';') {
        ended = true;
        i++;
        break;
      }
      if (phase === 0 && (ch === '#' || ch === '0' || ch === ',' || ch === '.')) {
        phase = 1;
        sub.hasNumber = true;
        continue;
      }
      const target = phase === 0 ? sub.prefix : sub.suffix;
      if (phase === 2 && (ch === '#' || ch === '0' || ch === ',' || ch === '.')) {
        return {
          ok: false,
          message: `Unquoted special character '${ch}' in the suffix of the number pattern`,
        };
      }
      if (ch === "'") {
        if (pattern.charAt(i + 1) === "'") {
          appendText(target, "'");
          i += 2;
          continue;
        }
        const close = pattern.indexOf("'", i + 1);
        if (close < 0) return { ok: false, message: 'Unterminated quote in the number pattern' };
        let text = pattern.slice(i + 1, close);
        let end = close;
        while (pattern.charAt(end + 1) === "'") {
          const next = pattern.indexOf("'", end + 2);
          if (next < 0) return { ok: false, message: 'Unterminated quote in the number pattern' };
          text += `'${pattern.slice(end + 2, next)}`;
          end = next;
        }
        appendText(target, text);
        i = end + 1;
        continue;
      }
      if (ch === '%') {
        if (sub.multiplier !== 1)
          return { ok: false, message: 'Too many percent or per mille characters in the number pattern' };
        sub.multiplier = 100;
        target.push({ kind: 'percent' });
      } else if (ch === '‰') {
        if (sub.multiplier !== 1)
          return { ok: false, message: 'Too many percent or per mille characters in the number pattern' };
        sub.multiplier = 1000;
        target.push({ kind: 'permill' });
      } else if (ch === '¤') {
        target.push({ kind: 'currency' });
      } else if (ch === '-') {
        target.push({ kind: 'minus' });
      } else {
        appendText(target, ch);
      }
      i++;
    }
    if (lastGroupPos >= 0) sub.groupingSize = intDigitsSeen - lastGroupPos;
    subs.push(sub);
    if (!ended) break;
  }
  const positive = subs[0];
  if (positive === undefined) return { ok: false, message: 'Empty number pattern' };
  if (!positive.hasNumber && pattern.length > 0) {
    // Java accepts a pattern without digits (e.g. "'x'") and prints the number with defaults.
  }
  if (positive.hasGrouping && positive.groupingSize === 0) {
    return { ok: false, message: 'Grouping separator at the end of the integer part of the number pattern' };
  }
  const negative = subs[1];
  const scientific = positive.exponentDigits !== undefined;
  let minInt = positive.zeroIntDigits;
  const maxFrac = positive.zeroFracDigits + positive.hashFracDigits;
  if (!positive.hasNumber) minInt = 1;
  else if (minInt === 0 && positive.hashIntDigits === 0 && maxFrac === 0) minInt = 1;
  const maxInt = scientific ? positive.zeroIntDigits + positive.hashIntDigits : Number.MAX_SAFE_INTEGER;
  return {
    ok: true,
    pattern: {
      positivePrefix: positive.prefix,
      positiveSuffix: positive.suffix,
      negativePrefix: negative?.prefix,
      negativeSuffix: negative?.suffix,
      minInt,
      maxInt,
      minFrac: positive.zeroFracDigits,
      maxFrac: positive.hasNumber ? maxFrac : 3,
      groupingSize: positive.hasGrouping ? positive.groupingSize : 0,
      decimalSeparatorAlwaysShown: positive.decimalShown && maxFrac === 0,
      multiplier: positive.multiplier,
      minExponentDigits: positive.exponentDigits,
    },
  };
}

function appendText(target: AffixPart[], text: string): void {
  const last = target[target.length - 1];
  if (last !== undefined && last.kind === 'text')
    target[target.length - 1] = { kind: 'text', text: last.text + text };
  else target.push({ kind: 'text', text });
}

function affixText(parts: readonly AffixPart[], symbols: NumberLocaleData): string {
  let out = '';
  for (const part of parts) {
    switch (part.kind) {
      case 'text':
        out += part.text;
        break;
      case 'currency':
        out += symbols.currencySymbol;
        break;
      case 'percent':
        out += symbols.percent;
        break;
      case 'permill':
        out += symbols.perMill;
        break;
      default:
        out += symbols.minusSign;
        break;
    }
  }
  return out;
}

function group(digits: string, size: number, separator: string): string {
  if (size <= 0 || digits.length <= size) return digits;
  let out = '';
  let count = 0;
  for (let i = digits.length - 1; i >= 0; i--) {
    out = digits.charAt(i) + out;
    count++;
    if (count % size === 0 && i > 0) out = separator + out;
  }
  return out;
}

/** Formats a Decimal with a compiled pattern and a locale's symbols, rounding half to even. */
export function formatNumber(value: Decimal, pattern: NumberPattern, symbols: NumberLocaleData): string {
  const negative = value.isNegative() && !value.isZero();
  let abs = value.abs().times(pattern.multiplier);
  let body: string;
  if (pattern.minExponentDigits !== undefined) {
    body = formatScientific(abs, pattern, symbols);
  } else {
    abs = abs.toDecimalPlaces(pattern.maxFrac, DecimalJs.ROUND_HALF_EVEN);
    const fixed = abs.toFixed(pattern.maxFrac);
    const [intRaw = '0', fracRaw = ''] = fixed.split('.');
    let intDigits = intRaw.replace(/^0+/, '');
    if (intDigits.length < pattern.minInt) intDigits = intDigits.padStart(pattern.minInt, '0');
    let frac = fracRaw;
    while (frac.length > pattern.minFrac && frac.endsWith('0')) frac = frac.slice(0, -1);
    const fractionPresent = frac.length > 0;
    if (!fractionPresent && intDigits === '') intDigits = '0';
    body = group(intDigits, pattern.groupingSize, symbols.groupingSeparator);
    if (fractionPresent || pattern.decimalSeparatorAlwaysShown) body += symbols.decimalSeparator + frac;
  }
  if (!negative)
    return affixText(pattern.positivePrefix, symbols) + body + affixText(pattern.positiveSuffix, symbols);
  if (pattern.negativePrefix !== undefined && pattern.negativeSuffix !== undefined) {
    return affixText(pattern.negativePrefix, symbols) + body + affixText(pattern.negativeSuffix, symbols);
  }
  return (
    symbols.minusSign +
    affixText(pattern.positivePrefix, symbols) +
    body +
    affixText(pattern.positiveSuffix, symbols)
  );
}

function formatScientific(abs: Decimal, pattern: NumberPattern, symbols: NumberLocaleData): string {
  const minExpDigits = pattern.minExponentDigits ?? 1;
  const engineering = pattern.maxInt > pattern.minInt && pattern.maxInt > 1;
  const minInt = engineering ? 1 : Math.max(pattern.minInt, 0);
  const significant = Math.max(1, (engineering ? pattern.minInt : pattern.minInt) + pattern.maxFrac);
  let exponent = 0;
  let mantissa = abs;
  if (!abs.isZero()) {
    const magnitude = abs.e; // floor(log10(abs))
    if (engineering) {
      exponent = Math.floor(magnitude / pattern.maxInt) * pattern.maxInt;
    } else {
      exponent = magnitude - (Math.max(minInt, 1) - 1);
      if (minInt === 0) exponent = magnitude + 1;
    }
    mantissa = abs.div(new Decimal(10).pow(exponent));
    mantissa = mantissa.toSignificantDigits(significant, DecimalJs.ROUND_HALF_EVEN);
    // Rounding may carry into a new digit (9.99 → 10.0): move the exponent.
    const intLen = mantissa.trunc().toFixed(0).length;
    const limit = engineering ? pattern.maxInt : Math.max(minInt, 1);
    if (!mantissa.isZero() && intLen > limit && (minInt > 0 || engineering)) {
      const shift = engineering ? pattern.maxInt : 1;
      exponent += shift;
      mantissa = mantissa.div(new Decimal(10).pow(shift));
    }
  }
  const fixed = mantissa.toFixed();
  const [intRaw = '0', fracRaw = ''] = fixed.split('.');
  let intDigits = intRaw.replace(/^0+/, '');
  if (intDigits.length < minInt) intDigits = intDigits.padStart(minInt, '0');
  const usedInt = intDigits.replace(/^0+/, '').length;
  const minFrac = engineering ? Math.max(0, pattern.minInt + pattern.minFrac - usedInt) : pattern.minFrac;
  let frac = fracRaw;
  if (frac.length < minFrac) frac = frac.padEnd(minFrac, '0');
  let out = intDigits === '' ? '0' : intDigits;
  if (frac.length > 0 || pattern.decimalSeparatorAlwaysShown) out += symbols.decimalSeparator + frac;
  out += symbols.exponent;
  if (exponent < 0) out += symbols.minusSign;
  out += String(Math.abs(exponent)).padStart(minExpDigits, '0');
  return out;
}

/**
 * Parses text with a compiled pattern as Java's `DecimalFormat.parse(String)` with big-decimal
 * results: the prefix must match, grouping separators are skipped, the suffix must match,
 * text after the number is ignored. Undefined when nothing could be parsed.
 */
export function parseNumber(
  text: string,
  pattern: NumberPattern,
  symbols: NumberLocaleData,
): Decimal | undefined {
  const posPrefix = affixText(pattern.positivePrefix, symbols);
  const posSuffix = affixText(pattern.positiveSuffix, symbols);
  const negPrefix =
    pattern.negativePrefix === undefined
      ? symbols.minusSign + posPrefix
      : affixText(pattern.negativePrefix, symbols);
  const negSuffix =
    pattern.negativeSuffix === undefined ? posSuffix : affixText(pattern.negativeSuffix, symbols);
  const gotPositive = text.startsWith(posPrefix);
  const gotNegative = text.startsWith(negPrefix);
  let negative: boolean;
  let pos: number;
  if (gotPositive && gotNegative) {
    negative = negPrefix.length > posPrefix.length;
    pos = negative ? negPrefix.length : posPrefix.length;
  } else if (gotPositive) {
    negative = false;
    pos = posPrefix.length;
  } else if (gotNegative) {
    negative = true;
    pos = negPrefix.length;
  } else {
    return undefined;
  }
  let digits = '';
  let sawDecimal = false;
  let sawDigit = false;
  while (pos < text.length) {
    const ch = text.charAt(pos);
    if (ch >= '0' && ch <= '9') {
      digits += ch;
      sawDigit = true;
      pos++;
    } else if (ch === symbols.decimalSeparator && !sawDecimal) {
      digits += '.';
      sawDecimal = true;
      pos++;
    } else if (pattern.groupingSize > 0 && ch === symbols.groupingSeparator && !sawDecimal) {
      pos++;
    } else if (ch === symbols.exponent && sawDigit) {
      const m = /^E([+-]?)(\d+)/.exec(text.slice(pos).replace(symbols.minusSign, '-'));
      if (m === null) break;
      digits += `e${m[1] ?? ''}${m[2] ?? ''}`;
      pos += m[0].length;
      break;
    } else {
      break;
    }
  }
  if (!sawDigit) return undefined;
  const suffix = negative ? negSuffix : posSuffix;
  if (!text.startsWith(suffix, pos)) {
    const other = negative ? posSuffix : negSuffix;
    if (!text.startsWith(other, pos)) return undefined;
  }
  let result = new Decimal(
    digits === '.'
      ? '0'
      : digits.endsWith('.')
        ? `${digits}0`
        : digits.startsWith('.')
          ? `0${digits}`
          : digits,
  );
  if (pattern.multiplier !== 1) result = result.div(pattern.multiplier);
  return negative ? result.neg() : result;
}

/** Parses a plain decimal number (`-12.5`, `3`, `1e3`), as Java's `new BigDecimal(text)`. */
export function parsePlainDecimal(text: string): Decimal | undefined {
  if (!/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return undefined;
  return new Decimal(text);
}
