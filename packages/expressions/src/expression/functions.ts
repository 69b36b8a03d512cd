/**
 * The Mendix function library: string, number, date, enumeration and object functions, each
 * type-checked at compile time and compiled to a closure.
 */
import {
  Decimal,
  divideDecimal,
  integralDecimalToBigInt,
  powDecimal,
  roundDecimal,
  sqrtDecimal,
} from '../decimal.js';
import { RuntimeErrorCode } from '../diagnostics.js';
import { isIntegral, MxTypes, numericResultType } from '../mx-types.js';
import {
  addCalendar,
  calendarMonthsBetween,
  endOf,
  fromWallClock,
  startOf,
  type CalendarUnit,
  type TruncationUnit,
} from '../runtime/calendar.js';
import { compileDatePattern, formatDate, parseDate, type DatePatternPart } from '../runtime/date-format.js';
import {
  compileNumberPattern,
  formatNumber,
  parseNumber,
  parsePlainDecimal,
  type NumberPattern,
} from '../runtime/decimal-format.js';
import { javaRegex } from '../runtime/java-regex.js';
import { javaUrlDecode } from '../runtime/strings.js';
import { canonicalLocale, dateLocale, numberLocale } from '../runtime/locale.js';
import type { EvaluationContext, VariableSource } from '../context.js';
import type { MxType, MxValue } from '../types.js';
import { decimalToString, isMxObject, toStringValue } from '../values.js';
import {
  accepts,
  checkLong,
  fitsLong,
  firstDayOfWeek,
  zoneOf,
  type CallResult,
  type CallSite,
} from './support.js';

/** A function of the library: its signatures for messages and docs, and its checker-compiler. */
export interface FunctionDefinition {
  readonly name: string;
  /** Human-readable signatures, e.g. `substring(String, Integer[, Integer]) → String`. */
  readonly signature: string;
  readonly check: (site: CallSite) => CallResult | undefined;
}

const library = new Map<string, FunctionDefinition>();

function define(name: string, signature: string, check: (site: CallSite) => CallResult | undefined): void {
  library.set(name, { name, signature, check });
}

/** Every function of the expression language, by name. */
export const FUNCTIONS: ReadonlyMap<string, FunctionDefinition> = library;

const {
  String: STRING,
  Integer: INTEGER,
  Long: LONG,
  Decimal: DECIMAL,
  Boolean: BOOLEAN,
  DateTime: DATETIME,
} = MxTypes;

// ---- strings ---------------------------------------------------------------------------

/** The text of a String argument: empty reads as ''. Shared, so every call site stays monomorphic. */
function text(value: MxValue): string {
  return typeof value === 'string' ? value : '';
}

function stringToString(name: string, code: (text: string) => string): void {
  const signature = `${name}(String) → String`;
  define(name, signature, (site) => {
    if (!site.arity(1, 1, signature) || !site.expect(0, accepts.string, 'a String')) return undefined;
    return site.inline(STRING, (arg) => code(`R.text(0, ${arg(0)})`));
  });
}

// Written into the generated code: the engine then optimises them with the rest of the expression.
stringToString('toUpperCase', (text) => `${text}.toUpperCase()`);
stringToString('toLowerCase', (text) => `${text}.toLowerCase()`);
stringToString('trim', (text) => `R.trim(${text})`);

define('length', 'length(String | List) → Integer', (site) => {
  if (!site.arity(1, 1, 'length(String | List)')) return undefined;
  const type = site.typeOf(0);
  if (type?.kind === 'List') return site.inline(INTEGER, (arg) => `R.listLength(${arg(0)})`);
  if (!site.expect(0, accepts.string, 'a String or a List')) return undefined;
  return site.inline(INTEGER, (arg) => `BigInt(R.text(0, ${arg(0)}).length)`);
});

define('substring', 'substring(String, Integer[, Integer]) → String', (site) => {
  const sig = 'substring(String, start: Integer[, length: Integer])';
  if (!site.arity(2, 3, sig)) return undefined;
  if (
    !site.expectAll(
      [0, accepts.string, 'a String'],
      [1, accepts.integer, 'an Integer'],
      [2, accepts.integer, 'an Integer'],
    )
  ) {
    return undefined;
  }
  const s = site.raw(0);
  const startLiteral = site.literal(1);
  const lengthLiteral = site.args.length === 3 ? site.literal(2) : undefined;
  if (
    typeof startLiteral === 'bigint' &&
    startLiteral >= 0n &&
    startLiteral <= 2_147_483_647n &&
    (site.args.length === 2 ||
      (typeof lengthLiteral === 'bigint' && lengthLiteral >= 0n && lengthLiteral <= 2_147_483_647n))
  ) {
    // Constant positions, the common case: plain number arithmetic, no bigints per call.
    const from = Number(startLiteral);
    const count = typeof lengthLiteral === 'bigint' ? Number(lengthLiteral) : -1;
    const where = site.runtimeSite;
    return site.inline(
      STRING,
      (arg, constant) => `R.substring(R.text(0, ${arg(0)}), ${from}, ${count}, ${constant(where)})`,
    );
  }
  const start = site.integer(1);
  const length = site.args.length === 3 ? site.integer(2) : undefined;
  return site.result(STRING, (v, c) => {
    const subject = text(s(v, c));
    const from = start(v, c);
    if (from < 0n || from > subject.length) {
      return site.fail(
        RuntimeErrorCode.InvalidArgument,
        `substring: the start position ${from} is outside the string of length ${subject.length}`,
      );
    }
    if (length === undefined) return subject.slice(Number(from));
    const count = length(v, c);
    if (count < 0n || from + count > subject.length) {
      return site.fail(
        RuntimeErrorCode.InvalidArgument,
        `substring: ${count} characters from position ${from} run past the end of the string of length ${subject.length}`,
      );
    }
    return subject.slice(Number(from), Number(from + count));
  });
});

function clampIndex(value: bigint): number {
  if (value > 2_147_483_647n) return 2_147_483_647;
  if (value < -2_147_483_648n) return -2_147_483_648;
  return Number(value);
}

define('find', 'find(String, String[, Integer]) → Integer', (site) => {
  const sig = 'find(String, substring: String[, start: Integer])';
  if (!site.arity(2, 3, sig)) return undefined;
  if (
    !site.expectAll(
      [0, accepts.string, 'a String'],
      [1, accepts.string, 'a String'],
      [2, accepts.integer, 'an Integer'],
    )
  ) {
    return undefined;
  }
  const s = site.string(0);
  const sub = site.string(1);
  const from = site.args.length === 3 ? site.integer(2) : undefined;
  return site.result(INTEGER, (v, c) => {
    const text = s(v, c);
    const needle = sub(v, c);
    if (from === undefined) return BigInt(text.indexOf(needle));
    // Java's indexOf: a negative start means 0, a start past the end finds nothing (but "").
    const start = Math.max(0, clampIndex(from(v, c)));
    if (start > text.length) return needle === '' ? BigInt(text.length) : -1n;
    return BigInt(text.indexOf(needle, start));
  });
});

define('findLast', 'findLast(String, String[, Integer]) → Integer', (site) => {
  const sig = 'findLast(String, substring: String[, last: Integer])';
  if (!site.arity(2, 3, sig)) return undefined;
  if (
    !site.expectAll(
      [0, accepts.string, 'a String'],
      [1, accepts.string, 'a String'],
      [2, accepts.integer, 'an Integer'],
    )
  ) {
    return undefined;
  }
  const s = site.string(0);
  const sub = site.string(1);
  const from = site.args.length === 3 ? site.integer(2) : undefined;
  return site.result(INTEGER, (v, c) => {
    const text = s(v, c);
    const needle = sub(v, c);
    if (from === undefined) return BigInt(text.lastIndexOf(needle));
    const last = clampIndex(from(v, c));
    if (last < 0) return -1n;
    return BigInt(text.lastIndexOf(needle, last));
  });
});

function stringPredicate(name: string, method: 'includes' | 'startsWith' | 'endsWith'): void {
  const signature = `${name}(String, String) → Boolean`;
  define(name, signature, (site) => {
    if (!site.arity(2, 2, signature)) return undefined;
    if (!site.expectAll([0, accepts.string, 'a String'], [1, accepts.string, 'a String'])) return undefined;
    return site.inline(BOOLEAN, (arg) => `R.text(0, ${arg(0)}).${method}(R.text(0, ${arg(1)}))`);
  });
}

stringPredicate('contains', 'includes');
stringPredicate('startsWith', 'startsWith');
stringPredicate('endsWith', 'endsWith');

function regexArgument(
  site: CallSite,
  index: number,
  mode: 'full' | 'global' | 'first',
): (v: VariableSource, c: EvaluationContext) => RegExp {
  const literal = site.literal(index);
  if (typeof literal === 'string') {
    const compiled = javaRegex(literal, mode);
    if (!compiled.ok)
      site.invalid(
        index,
        `${site.name}: ${compiled.message}`,
        'Write a Java regular expression, e.g. `[0-9]+`.',
      );
    else return () => compiled.regex;
  }
  const pattern = site.string(index);
  return (v, c) => {
    const compiled = javaRegex(pattern(v, c), mode);
    if (!compiled.ok) return site.fail(RuntimeErrorCode.InvalidArgument, `${site.name}: ${compiled.message}`);
    return compiled.regex;
  };
}

define('isMatch', 'isMatch(String, regex: String) → Boolean', (site) => {
  if (!site.arity(2, 2, 'isMatch(String, regex: String)')) return undefined;
  if (!site.expectAll([0, accepts.string, 'a String'], [1, accepts.string, 'a String'])) return undefined;
  const s = site.string(0);
  const regex = regexArgument(site, 1, 'full');
  return site.result(BOOLEAN, (v, c) => regex(v, c).test(s(v, c)));
});

function replaceFunction(name: string, mode: 'global' | 'first'): void {
  const signature = `${name}(String, regex: String, replacement: String) → String`;
  define(name, signature, (site) => {
    if (!site.arity(3, 3, signature)) return undefined;
    if (
      !site.expectAll(
        [0, accepts.string, 'a String'],
        [1, accepts.string, 'a String'],
        [2, accepts.string, 'a String'],
      )
    ) {
      return undefined;
    }
    const s = site.string(0);
    const regex = regexArgument(site, 1, mode);
    const replacement = site.string(2);
    // The replacement is literal text: Mendix supports no back-references.
    return site.result(STRING, (v, c) => {
      const text = replacement(v, c);
      return s(v, c).replace(regex(v, c), () => text);
    });
  });
}

replaceFunction('replaceAll', 'global');
replaceFunction('replaceFirst', 'first');

stringToString('urlEncode', (text) => `R.urlEncode(${text})`);

define('urlDecode', 'urlDecode(String) → String', (site) => {
  if (!site.arity(1, 1, 'urlDecode(String)') || !site.expect(0, accepts.string, 'a String')) return undefined;
  const s = site.string(0);
  return site.result(STRING, (v, c) => {
    const text = s(v, c);
    const decoded = javaUrlDecode(text);
    if (decoded === undefined) {
      return site.fail(RuntimeErrorCode.InvalidArgument, `urlDecode: '${text}' has a malformed %-escape`);
    }
    return decoded;
  });
});

define(
  'toString',
  'toString(Integer | Long | Decimal | Boolean | DateTime | Enumeration | String) → String',
  (site) => {
    if (!site.arity(1, 1, 'toString(value)')) return undefined;
    if (
      !site.expect(
        0,
        (t) =>
          ['Integer', 'Long', 'Decimal', 'Boolean', 'DateTime', 'Enumeration', 'String'].includes(t.kind),
        'an Integer, Long, Decimal, Boolean, DateTime, Enumeration or String',
      )
    ) {
      return undefined;
    }
    const value = site.raw(0);
    if (site.typeOf(0)?.kind === 'DateTime') {
      return site.result(STRING, (v, c) => toStringValue(value(v, c), { timeZone: c.timeZone }));
    }
    return site.result(STRING, (v, c) => toStringValue(value(v, c)));
  },
);

// ---- numbers ---------------------------------------------------------------------------

define('round', 'round(Integer | Long | Decimal[, precision: Integer]) → Integer | Decimal', (site) => {
  if (!site.arity(1, 2, 'round(number[, precision: Integer])')) return undefined;
  if (!site.expectAll([0, accepts.numeric, 'a number'], [1, accepts.integer, 'an Integer'])) return undefined;
  const type = site.typeOf(0);
  if (site.args.length === 1) {
    if (type !== undefined && isIntegral(type)) {
      const n = site.integer(0);
      return site.result(type, n);
    }
    const d = site.decimal(0);
    return site.result(INTEGER, (v, c) => {
      const rounded = roundDecimal(d(v, c), 0, c.roundingMode);
      return checkLong(integralDecimalToBigInt(rounded), site.failer, site.span);
    });
  }
  const d = site.decimal(0);
  const precision = site.integer(1);
  return site.result(DECIMAL, (v, c) => {
    const value = d(v, c);
    const places = precision(v, c);
    if (places > 1000n || places < -1000n) {
      return site.fail(RuntimeErrorCode.InvalidArgument, `round: the precision ${places} is out of range`);
    }
    if (places >= 0n) return roundDecimal(value, Number(places), c.roundingMode);
    const unit = new Decimal(10).pow(Number(-places));
    return roundDecimal(value.div(unit), 0, c.roundingMode).times(unit);
  });
});

function integralRounding(name: 'floor' | 'ceil'): void {
  define(name, `${name}(Integer | Long | Decimal) → Integer`, (site) => {
    if (!site.arity(1, 1, `${name}(number)`) || !site.expect(0, accepts.numeric, 'a number'))
      return undefined;
    const type = site.typeOf(0);
    if (type !== undefined && isIntegral(type)) return site.result(INTEGER, site.integer(0));
    const d = site.decimal(0);
    return site.result(INTEGER, (v, c) => {
      const value = d(v, c);
      const rounded = name === 'floor' ? value.floor() : value.ceil();
      return checkLong(integralDecimalToBigInt(rounded), site.failer, site.span);
    });
  });
}

integralRounding('floor');
integralRounding('ceil');

define('abs', 'abs(Integer | Long | Decimal) → same type', (site) => {
  if (!site.arity(1, 1, 'abs(number)') || !site.expect(0, accepts.numeric, 'a number')) return undefined;
  const type = site.typeOf(0) ?? DECIMAL;
  if (isIntegral(type)) {
    const n = site.integer(0);
    return site.result(type, (v, c) => {
      const value = n(v, c);
      return checkLong(value < 0n ? -value : value, site.failer, site.span);
    });
  }
  const d = site.decimal(0);
  return site.result(DECIMAL, (v, c) => d(v, c).abs());
});

define('pow', 'pow(number, power: number) → Decimal', (site) => {
  if (!site.arity(2, 2, 'pow(number, power)')) return undefined;
  if (!site.expectAll([0, accepts.numeric, 'a number'], [1, accepts.numeric, 'a number'])) return undefined;
  const base = site.decimal(0);
  const exponent = site.decimal(1);
  return site.result(DECIMAL, (v, c) => {
    const b = base(v, c);
    const e = exponent(v, c);
    if (b.isZero() && e.isNegative())
      return site.fail(RuntimeErrorCode.DivisionByZero, 'pow: zero to a negative power');
    if (b.isNegative() && !e.isInteger()) {
      return site.fail(RuntimeErrorCode.InvalidArgument, 'pow: a negative number to a fractional power');
    }
    return powDecimal(b, e);
  });
});

define('sqrt', 'sqrt(number) → Decimal', (site) => {
  if (!site.arity(1, 1, 'sqrt(number)') || !site.expect(0, accepts.numeric, 'a number')) return undefined;
  const d = site.decimal(0);
  return site.result(DECIMAL, (v, c) => {
    const value = d(v, c);
    if (value.isNegative() && !value.isZero()) {
      return site.fail(
        RuntimeErrorCode.InvalidArgument,
        `sqrt: the square root of the negative number ${decimalToString(value)}`,
      );
    }
    return sqrtDecimal(value);
  });
});

const RANDOM_SCALE = 2 ** 53;

define('random', 'random() → Decimal', (site) => {
  if (!site.arity(0, 0, 'random()')) return undefined;
  return site.result(DECIMAL, (_v, c) => {
    // Scale to an integer first so no binary fraction is ever read as a decimal.
    const r = c.random();
    const scaled = Math.min(RANDOM_SCALE - 1, Math.max(0, Math.floor(r * RANDOM_SCALE)));
    return divideDecimal(new Decimal(scaled), new Decimal(RANDOM_SCALE));
  });
});

function minMax(name: 'min' | 'max'): void {
  define(
    name,
    `${name}(number, number, ...) → widest number type | ${name}(DateTime, DateTime, ...) → DateTime`,
    (site) => {
      if (!site.arity(2, Infinity, `${name}(a, b, ...)`)) return undefined;
      const types = site.args.map((a) => a.type);
      const known = types.filter((t): t is MxType => t !== undefined && t.kind !== 'Empty');
      const dates = known.length > 0 && known.every((t) => t.kind === 'DateTime');
      let ok = true;
      site.args.forEach((_, i) => {
        if (!site.expect(i, dates ? accepts.dateTime : accepts.numeric, dates ? 'a DateTime' : 'a number'))
          ok = false;
      });
      if (!ok) return undefined;
      const better = (cmp: number) => (name === 'max' ? cmp > 0 : cmp < 0);
      if (dates) {
        const evs = site.args.map((_, i) => site.date(i));
        return site.result(DATETIME, (v, c) => {
          let best: Date | undefined;
          for (const ev of evs) {
            const d = ev(v, c);
            if (best === undefined || better(d.getTime() - best.getTime())) best = d;
          }
          return best ?? null;
        });
      }
      const resultType = known.reduce<MxType>((acc, t) => numericResultType(acc, t), INTEGER);
      if (resultType.kind === 'Decimal') {
        const evs = site.args.map((_, i) => site.decimal(i));
        return site.result(DECIMAL, (v, c) => {
          let best: Decimal | undefined;
          for (const ev of evs) {
            const d = ev(v, c);
            if (best === undefined || better(d.comparedTo(best))) best = d;
          }
          return best ?? null;
        });
      }
      const evs = site.args.map((_, i) => site.integer(i));
      return site.result(resultType, (v, c) => {
        let best: bigint | undefined;
        for (const ev of evs) {
          const n = ev(v, c);
          if (best === undefined || better(n < best ? -1 : n > best ? 1 : 0)) best = n;
        }
        return best ?? null;
      });
    },
  );
}

minMax('min');
minMax('max');

define('parseInteger', 'parseInteger(String[, default: Integer]) → Integer', (site) => {
  if (!site.arity(1, 2, 'parseInteger(String[, default: Integer])')) return undefined;
  if (!site.expectAll([0, accepts.string, 'a String'], [1, accepts.integer, 'an Integer'])) return undefined;
  const raw = site.raw(0);
  const fallback = site.args.length === 2 ? site.raw(1) : undefined;
  return site.result(INTEGER, (v, c) => {
    const text = raw(v, c);
    if (typeof text === 'string' && /^[+-]?\d+$/.test(text)) {
      const parsed = BigInt(text);
      if (fitsLong(parsed)) return parsed;
    }
    if (fallback !== undefined) return fallback(v, c);
    return site.fail(
      RuntimeErrorCode.ParseFailed,
      text === null
        ? 'parseInteger: the value to parse is empty'
        : `parseInteger: '${describeText(text)}' is not an Integer/Long`,
    );
  });
});

define('parseDecimal', 'parseDecimal(String[, format: String][, default: Decimal]) → Decimal', (site) => {
  const sig = 'parseDecimal(String[, format: String][, default: Decimal])';
  if (!site.arity(1, 3, sig) || !site.expect(0, accepts.string, 'a String')) return undefined;
  const second = site.typeOf(1);
  const hasFormat = site.args.length === 3 || second?.kind === 'String';
  const defaultIndex = site.args.length === 3 ? 2 : site.args.length === 2 && !hasFormat ? 1 : undefined;
  if (hasFormat && !site.expect(1, accepts.string, 'a format String')) return undefined;
  if (defaultIndex !== undefined && !site.expect(defaultIndex, accepts.numeric, 'a Decimal'))
    return undefined;
  const raw = site.raw(0);
  const format = hasFormat ? formatArgument(site, 1) : undefined;
  const fallback = defaultIndex === undefined ? undefined : site.raw(defaultIndex);
  const fallbackIntegral = defaultIndex !== undefined && isIntegral(site.typeOf(defaultIndex) ?? STRING);
  return site.result(DECIMAL, (v, c) => {
    const text = raw(v, c);
    let parsed: Decimal | undefined;
    if (typeof text === 'string') {
      if (format === undefined) parsed = parsePlainDecimal(text);
      else parsed = parseNumber(text, format(v, c), numberLocale(c.locale));
    }
    if (parsed !== undefined) return parsed;
    if (fallback !== undefined) {
      const value = fallback(v, c);
      return fallbackIntegral && typeof value === 'bigint' ? new Decimal(value) : value;
    }
    return site.fail(
      RuntimeErrorCode.ParseFailed,
      text === null
        ? 'parseDecimal: the value to parse is empty'
        : `parseDecimal: '${describeText(text)}' is not a Decimal`,
    );
  });
});

function formatArgument(
  site: CallSite,
  index: number,
): (v: VariableSource, c: EvaluationContext) => NumberPattern {
  const literal = site.literal(index);
  if (typeof literal === 'string') {
    const compiled = compileNumberPattern(literal);
    if (!compiled.ok)
      site.invalid(
        index,
        `${site.name}: ${compiled.message}`,
        'Use a Java DecimalFormat pattern, e.g. `#,##0.00`.',
      );
    else return () => compiled.pattern;
  }
  const pattern = site.string(index);
  return (v: VariableSource, c: EvaluationContext) => {
    const compiled = compileNumberPattern(pattern(v, c));
    if (!compiled.ok) return site.fail(RuntimeErrorCode.BadPattern, `${site.name}: ${compiled.message}`);
    return compiled.pattern;
  };
}

define('formatDecimal', 'formatDecimal(Decimal, format: String[, locale: String]) → String', (site) => {
  const sig = 'formatDecimal(Decimal, format: String[, locale: String])';
  if (!site.arity(2, 3, sig)) return undefined;
  if (
    !site.expectAll(
      [0, accepts.numeric, 'a Decimal'],
      [1, accepts.string, 'a format String'],
      [2, accepts.string, 'a locale String'],
    )
  ) {
    return undefined;
  }
  const d = site.decimal(0);
  const format = formatArgument(site, 1);
  const locale = site.args.length === 3 ? site.string(2) : undefined;
  return site.result(STRING, (v, c) => {
    const tag = locale === undefined ? c.locale : locale(v, c);
    return formatNumber(d(v, c), format(v, c), numberLocale(tag));
  });
});

// ---- dates -----------------------------------------------------------------------------

function dateCreation(name: 'dateTime' | 'dateTimeUTC'): void {
  const sig = `${name}(year[, month[, day[, hour[, minute[, second]]]]])`;
  define(name, `${sig} → DateTime`, (site) => {
    if (!site.arity(1, 6, sig)) return undefined;
    let ok = true;
    site.args.forEach((_, i) => {
      if (!site.expect(i, accepts.integer, 'an Integer')) ok = false;
    });
    if (!ok) return undefined;
    const limits: readonly [number, number, string][] = [
      [1, 9999, 'year'],
      [1, 12, 'month'],
      [1, 31, 'day'],
      [0, 23, 'hour'],
      [0, 59, 'minute'],
      [0, 59, 'second'],
    ];
    site.args.forEach((_, i) => {
      const literal = site.literal(i);
      const limit = limits[i];
      if (
        typeof literal === 'bigint' &&
        limit !== undefined &&
        (literal < BigInt(limit[0]) || literal > BigInt(limit[1]))
      ) {
        site.invalid(i, `${name}: the ${limit[2]} ${literal} is outside ${limit[0]}–${limit[1]}`);
      }
    });
    const evs = site.args.map((_, i) => site.integer(i));
    return site.result(DATETIME, (v, c) => {
      const fields = evs.map((ev) => ev(v, c));
      fields.forEach((value, i) => {
        const limit = limits[i];
        if (limit !== undefined && (value < BigInt(limit[0]) || value > BigInt(limit[1]))) {
          site.fail(
            RuntimeErrorCode.InvalidArgument,
            `${name}: the ${limit[2]} ${value} is outside ${limit[0]}–${limit[1]}`,
          );
        }
      });
      const [year = 1970n, month = 1n, day = 1n, hour = 0n, minute = 0n, second = 0n] = fields;
      const zone = name === 'dateTimeUTC' ? 'UTC' : zoneOf(c);
      return new Date(
        fromWallClock(
          {
            year: Number(year),
            month: Number(month),
            day: Number(day),
            hour: Number(hour),
            minute: Number(minute),
            second: Number(second),
          },
          zone,
        ),
      );
    });
  });
}

dateCreation('dateTime');
dateCreation('dateTimeUTC');

const MAX_DATE_MS = 8.64e15;

function checkedDate(site: CallSite, ms: number): Date {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) {
    return site.fail(RuntimeErrorCode.Overflow, `${site.name}: the resulting date is out of range`);
  }
  return new Date(ms);
}

const FIXED_UNITS: readonly [string, number][] = [
  ['Milliseconds', 1],
  ['Seconds', 1000],
  ['Minutes', 60_000],
  ['Hours', 3_600_000],
];
const CALENDAR_UNITS: readonly [string, CalendarUnit][] = [
  ['Days', 'day'],
  ['Weeks', 'week'],
  ['Months', 'month'],
  ['Quarters', 'quarter'],
  ['Years', 'year'],
];

function dateShift(
  name: string,
  sign: 1 | -1,
  apply: (ms: number, amount: number, c: EvaluationContext) => number,
): void {
  const sig = `${name}(DateTime, Integer) → DateTime`;
  define(name, sig, (site) => {
    if (!site.arity(2, 2, sig)) return undefined;
    if (!site.expectAll([0, accepts.dateTime, 'a DateTime'], [1, accepts.integer, 'an Integer']))
      return undefined;
    const date = site.date(0);
    const amount = site.integer(1);
    return site.result(DATETIME, (v, c) => {
      const n = amount(v, c);
      if (n > 1_000_000_000_000_000n || n < -1_000_000_000_000_000n) {
        return site.fail(RuntimeErrorCode.Overflow, `${name}: ${n} is too large to add to a date`);
      }
      return checkedDate(site, apply(date(v, c).getTime(), sign * Number(n), c));
    });
  });
}

for (const [unit, ms] of FIXED_UNITS) {
  dateShift(`add${unit}`, 1, (t, n) => t + n * ms);
  dateShift(`subtract${unit}`, -1, (t, n) => t + n * ms);
}
for (const [unit, calendarUnit] of CALENDAR_UNITS) {
  for (const [prefix, sign] of [
    ['add', 1],
    ['subtract', -1],
  ] as const) {
    dateShift(`${prefix}${unit}`, sign, (t, n, c) => addCalendar(t, calendarUnit, n, zoneOf(c)));
    dateShift(`${prefix}${unit}UTC`, sign, (t, n) => addCalendar(t, calendarUnit, n, 'UTC'));
  }
}

const BETWEEN_UNITS: readonly [string, number][] = [
  ['milliseconds', 1],
  ['seconds', 1000],
  ['minutes', 60_000],
  ['hours', 3_600_000],
  ['days', 86_400_000],
  ['weeks', 604_800_000],
];

for (const [unit, ms] of BETWEEN_UNITS) {
  const name = `${unit}Between`;
  const sig = `${name}(DateTime, DateTime) → Decimal`;
  const divisor = new Decimal(ms);
  define(name, sig, (site) => {
    if (!site.arity(2, 2, sig)) return undefined;
    if (!site.expectAll([0, accepts.dateTime, 'a DateTime'], [1, accepts.dateTime, 'a DateTime']))
      return undefined;
    const a = site.date(0);
    const b = site.date(1);
    return site.result(DECIMAL, (v, c) => {
      const diff = new Decimal(Math.abs(a(v, c).getTime() - b(v, c).getTime()));
      return ms === 1 ? diff : divideDecimal(diff, divisor);
    });
  });
}

for (const [name, months] of [
  ['calendarMonthsBetween', 1],
  ['calendarYearsBetween', 12],
] as const) {
  const sig = `${name}(DateTime, DateTime) → Integer`;
  define(name, sig, (site) => {
    if (!site.arity(2, 2, sig)) return undefined;
    if (!site.expectAll([0, accepts.dateTime, 'a DateTime'], [1, accepts.dateTime, 'a DateTime']))
      return undefined;
    const a = site.date(0);
    const b = site.date(1);
    return site.result(INTEGER, (v, c) =>
      BigInt(Math.floor(calendarMonthsBetween(a(v, c).getTime(), b(v, c).getTime(), zoneOf(c)) / months)),
    );
  });
}

function dateToDate(name: string, fn: (ms: number, c: EvaluationContext) => number): void {
  const sig = `${name}(DateTime) → DateTime`;
  define(name, sig, (site) => {
    if (!site.arity(1, 1, sig) || !site.expect(0, accepts.dateTime, 'a DateTime')) return undefined;
    const date = site.date(0);
    return site.result(DATETIME, (v, c) => new Date(fn(date(v, c).getTime(), c)));
  });
}

const PERIOD_UNITS: readonly [string, TruncationUnit][] = [
  ['Day', 'day'],
  ['Week', 'week'],
  ['Month', 'month'],
  ['Year', 'year'],
];
for (const [period, unit] of PERIOD_UNITS) {
  dateToDate(`beginOf${period}`, (t, c) => startOf(t, unit, zoneOf(c), firstDayOfWeek(c)));
  dateToDate(`beginOf${period}UTC`, (t, c) => startOf(t, unit, 'UTC', firstDayOfWeek(c)));
  dateToDate(`endOf${period}`, (t, c) => endOf(t, unit, zoneOf(c), firstDayOfWeek(c)));
  dateToDate(`endOf${period}UTC`, (t, c) => endOf(t, unit, 'UTC', firstDayOfWeek(c)));
}

dateToDate('trimToSeconds', (t) => startOf(t, 'second', 'UTC', 1));
dateToDate('trimToMinutes', (t, c) => startOf(t, 'minute', zoneOf(c), 1));
for (const [period, unit] of [
  ['Hours', 'hour'],
  ['Days', 'day'],
  ['Months', 'month'],
  ['Years', 'year'],
] as const) {
  dateToDate(`trimTo${period}`, (t, c) => startOf(t, unit, zoneOf(c), 1));
  dateToDate(`trimTo${period}UTC`, (t) => startOf(t, unit, 'UTC', 1));
}

define('dateTimeToEpoch', 'dateTimeToEpoch(DateTime) → Long', (site) => {
  if (!site.arity(1, 1, 'dateTimeToEpoch(DateTime)') || !site.expect(0, accepts.dateTime, 'a DateTime'))
    return undefined;
  const date = site.date(0);
  return site.result(LONG, (v, c) => BigInt(date(v, c).getTime()));
});

define('epochToDateTime', 'epochToDateTime(Long) → DateTime', (site) => {
  if (!site.arity(1, 1, 'epochToDateTime(Long)') || !site.expect(0, accepts.integer, 'an Integer/Long'))
    return undefined;
  const n = site.integer(0);
  return site.result(DATETIME, (v, c) => {
    const value = n(v, c);
    if (value > 8_640_000_000_000_000n || value < -8_640_000_000_000_000n) {
      return site.fail(RuntimeErrorCode.Overflow, `epochToDateTime: ${value} is out of the date range`);
    }
    return new Date(Number(value));
  });
});

function datePatternArgument(
  site: CallSite,
  index: number,
): (v: VariableSource, c: EvaluationContext) => readonly DatePatternPart[] {
  const literal = site.literal(index);
  if (typeof literal === 'string') {
    const compiled = compileDatePattern(literal);
    if (!compiled.ok) {
      site.invalid(
        index,
        `${site.name}: ${compiled.message}`,
        'Use Java SimpleDateFormat letters, e.g. `yyyy-MM-dd HH:mm`.',
      );
    } else {
      return () => compiled.parts;
    }
  }
  const pattern = site.string(index);
  return (v: VariableSource, c: EvaluationContext) => {
    const compiled = compileDatePattern(pattern(v, c));
    if (!compiled.ok) return site.fail(RuntimeErrorCode.BadPattern, `${site.name}: ${compiled.message}`);
    return compiled.parts;
  };
}

/** Java's default medium-free short styles for en-US, as Mendix prints dates without a pattern. */
const DEFAULT_PATTERNS = {
  dateTime: compileDatePattern('M/d/yy, h:mm a'),
  date: compileDatePattern('M/d/yy'),
  time: compileDatePattern('h:mm a'),
} as const;

function formatFunction(name: string, utc: boolean, fixed?: keyof typeof DEFAULT_PATTERNS): void {
  const sig =
    fixed === undefined ? `${name}(DateTime[, format: String]) → String` : `${name}(DateTime) → String`;
  define(name, sig, (site) => {
    if (!site.arity(1, fixed === undefined ? 2 : 1, sig)) return undefined;
    if (!site.expectAll([0, accepts.dateTime, 'a DateTime'], [1, accepts.string, 'a format String']))
      return undefined;
    const date = site.date(0);
    const defaults = DEFAULT_PATTERNS[fixed ?? 'dateTime'];
    const pattern =
      site.args.length === 2 ? datePatternArgument(site, 1) : () => (defaults.ok ? defaults.parts : []);
    return site.result(STRING, (v, c) => {
      const tag = canonicalLocale(c.locale);
      return formatDate(pattern(v, c), date(v, c).getTime(), utc ? 'UTC' : zoneOf(c), dateLocale(tag), tag);
    });
  });
}

formatFunction('formatDateTime', false);
formatFunction('formatDateTimeUTC', true);
formatFunction('formatDate', false, 'date');
formatFunction('formatDateUTC', true, 'date');
formatFunction('formatTime', false, 'time');
formatFunction('formatTimeUTC', true, 'time');

function parseDateFunction(name: string, utc: boolean): void {
  const sig = `${name}(String, format: String[, default: DateTime]) → DateTime`;
  define(name, sig, (site) => {
    if (!site.arity(2, 3, sig)) return undefined;
    if (
      !site.expectAll(
        [0, accepts.string, 'a String'],
        [1, accepts.string, 'a format String'],
        [2, accepts.dateTime, 'a DateTime'],
      )
    ) {
      return undefined;
    }
    const raw = site.raw(0);
    const pattern = datePatternArgument(site, 1);
    const fallback = site.args.length === 3 ? site.raw(2) : undefined;
    return site.result(DATETIME, (v, c) => {
      const text = raw(v, c);
      if (typeof text === 'string') {
        const parsed = parseDate(
          pattern(v, c),
          text,
          utc ? 'UTC' : zoneOf(c),
          dateLocale(c.locale),
          c.now.getTime(),
        );
        if (parsed !== undefined && Number.isFinite(parsed) && Math.abs(parsed) <= MAX_DATE_MS)
          return new Date(parsed);
      }
      if (fallback !== undefined) return fallback(v, c);
      return site.fail(
        RuntimeErrorCode.ParseFailed,
        text === null
          ? `${name}: the value to parse is empty`
          : `${name}: '${describeText(text)}' does not match the date format`,
      );
    });
  });
}

parseDateFunction('parseDateTime', false);
parseDateFunction('parseDateTimeUTC', true);

// ---- enumerations and objects ----------------------------------------------------------

define('getKey', 'getKey(Enumeration) → String', (site) => {
  if (
    !site.arity(1, 1, 'getKey(Enumeration)') ||
    !site.expect(0, accepts.enumeration, 'an enumeration value')
  ) {
    return undefined;
  }
  const value = site.raw(0);
  return site.result(STRING, (v, c) => value(v, c));
});

define('getCaption', 'getCaption(Enumeration) → String', (site) => {
  if (
    !site.arity(1, 1, 'getCaption(Enumeration)') ||
    !site.expect(0, accepts.enumeration, 'an enumeration value')
  ) {
    return undefined;
  }
  const type = site.typeOf(0);
  const value = site.raw(0);
  if (type?.kind !== 'Enumeration') return site.result(STRING, () => null);
  const enumeration = type.enumeration;
  const captions = new Map(
    (site.schema.enumeration(enumeration)?.values ?? []).map((e) => [e.key, e.caption]),
  );
  return site.result(STRING, (v, c) => {
    const key = value(v, c);
    if (typeof key !== 'string') return null;
    return c.enumerationCaption?.(enumeration, key) ?? captions.get(key) ?? key;
  });
});

define('isNew', 'isNew(Object) → Boolean', (site) => {
  if (!site.arity(1, 1, 'isNew(Object)') || !site.expect(0, accepts.object, 'an object')) return undefined;
  const value = site.raw(0);
  return site.result(BOOLEAN, (v, c) => {
    const object = value(v, c);
    if (object === null) return site.fail(RuntimeErrorCode.EmptyValue, 'isNew: the object is empty');
    return isMxObject(object) && object.isNew === true;
  });
});

/** The signature of a library function, for messages and documentation. */
export function describeFunction(name: string): string | undefined {
  return library.get(name)?.signature;
}

function describeText(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
