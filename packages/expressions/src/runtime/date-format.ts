/**
 * Java `SimpleDateFormat` patterns, as `formatDateTime` and `parseDateTime` use them in
 * Mendix microflows. Pattern letters: G y Y M L w W D d F E u a H k K h m s S z Z X, quoted
 * text between single quotes and `''` for a quote. Names come from the locale (ICU).
 */
import { DateTime } from 'luxon';
import { fromWallClock, localFields, type LocalFields } from './calendar.js';
import type { DateLocaleData } from './locale.js';

/** One piece of a compiled pattern. */
export type DatePatternPart =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'field'; readonly letter: string; readonly count: number };

/** A compiled pattern, or why Java would reject it. */
export type DatePatternResult =
  | { readonly ok: true; readonly parts: readonly DatePatternPart[] }
  | { readonly ok: false; readonly message: string };

/** The pattern letters supported, with what each means (for documentation and error hints). */
export const DATE_PATTERN_LETTERS: Readonly<Record<string, string>> = {
  G: 'era designator (AD)',
  y: 'year (yy: two digits)',
  Y: 'week year',
  M: 'month in year (M, MM: number; MMM: Jan; MMMM: January)',
  L: 'month in year, standalone form',
  w: 'week in year',
  W: 'week in month',
  D: 'day in year',
  d: 'day in month',
  F: 'day of week in month',
  E: 'day name in week (EEE: Tue; EEEE: Tuesday)',
  u: 'day number of week (1 = Monday … 7 = Sunday)',
  a: 'AM/PM marker',
  H: 'hour in day (0–23)',
  k: 'hour in day (1–24)',
  K: 'hour in AM/PM (0–11)',
  h: 'hour in AM/PM (1–12)',
  m: 'minute in hour',
  s: 'second in minute',
  S: 'millisecond',
  z: 'time zone name (zzzz: long name)',
  Z: 'RFC 822 time zone offset (-0800)',
  X: 'ISO 8601 time zone offset (X: -08, XX: -0800, XXX: -08:00; Z for UTC)',
};

const patternCache = new Map<string, DatePatternResult>();

/** Compiles a pattern once; Java's rules for quotes and reserved letters apply. */
export function compileDatePattern(pattern: string): DatePatternResult {
  let cached = patternCache.get(pattern);
  if (cached === undefined) {
    cached = compileUncached(pattern);
    if (patternCache.size > 500) patternCache.clear();
    patternCache.set(pattern, cached);
  }
  return cached;
}

function compileUncached(pattern: string): DatePatternResult {
  const parts: DatePatternPart[] = [];
  let literal = '';
  const flush = () => {
    if (literal !== '') parts.push({ kind: 'literal', text: literal });
    literal = '';
  };
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern.charAt(i);
    if (ch === "'") {
      if (pattern.charAt(i + 1) === "'") {
        literal += "'";
        i += 2;
        continue;
      }
      let j = i + 1;
      let closed = false;
      while (j < pattern.length) {
        if (pattern.charAt(j) === "'") {
          if (pattern.charAt(j + 1) === "'") {
            literal += "'";
            j += 2;
            continue;
          }
          closed = true;
          break;
        }
        literal += pattern.charAt(j);
        j++;
      }
      if (!closed) return { ok: false, message: 'Unterminated quote in the date pattern' };
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      if (DATE_PATTERN_LETTERS[ch] === undefined) {
        return { ok: false, message: `Illegal pattern character '${ch}' in the date pattern` };
      }
      let count = 1;
      while (pattern.charAt(i + count) === ch) count++;
      if (ch === 'X' && count > 3)
        return { ok: false, message: 'Invalid ISO 8601 format: X may appear at most 3 times' };
      flush();
      parts.push({ kind: 'field', letter: ch, count });
      i += count;
      continue;
    }
    literal += ch;
    i++;
  }
  flush();
  return { ok: true, parts };
}

function pad(value: number, width: number): string {
  const negative = value < 0;
  const digits = String(Math.abs(value)).padStart(width, '0');
  return negative ? `-${digits}` : digits;
}

/** Days since 1970-01-01 of a proleptic Gregorian date. */
function epochDay(year: number, month: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  return Math.round(d.getTime() / 86_400_000);
}

/** ISO weekday (1 = Monday) of an epoch day. */
function isoWeekdayOfEpochDay(day: number): number {
  // 1970-01-01 was a Thursday (4).
  return ((((day + 3) % 7) + 7) % 7) + 1;
}

/** Java's GregorianCalendar week number within a period starting at `periodStart`. */
function weekNumber(periodStart: number, date: number, firstDayOfWeek: number, minimalDays: number): number {
  // The first day of a week on or before periodStart + 6.
  const candidate = periodStart + 6;
  const back = (isoWeekdayOfEpochDay(candidate) - firstDayOfWeek + 7) % 7;
  let firstWeekStart = candidate - back;
  if (firstWeekStart - periodStart >= minimalDays) firstWeekStart -= 7;
  return Math.floor((date - firstWeekStart) / 7) + 1;
}

interface WeekOfYear {
  readonly week: number;
  readonly weekYear: number;
}

function weekOfYear(f: LocalFields, locale: DateLocaleData): WeekOfYear {
  const today = epochDay(f.year, f.month, f.day);
  const { firstDayOfWeek, minimalDaysInFirstWeek } = locale;
  const week = weekNumber(epochDay(f.year, 1, 1), today, firstDayOfWeek, minimalDaysInFirstWeek);
  if (week < 1) {
    return {
      week: weekNumber(epochDay(f.year - 1, 1, 1), today, firstDayOfWeek, minimalDaysInFirstWeek),
      weekYear: f.year - 1,
    };
  }
  const nextYearWeek = weekNumber(epochDay(f.year + 1, 1, 1), today, firstDayOfWeek, minimalDaysInFirstWeek);
  if (nextYearWeek >= 1) return { week: nextYearWeek, weekYear: f.year + 1 };
  return { week, weekYear: f.year };
}

/**
 * Short names Java prints for zones where ICU's English data has none (it would print
 * `GMT+1`), keyed by ICU's long English name.
 */
const JAVA_SHORT_NAMES: Readonly<Record<string, string>> = {
  'Central European Standard Time': 'CET',
  'Central European Summer Time': 'CEST',
  'Eastern European Standard Time': 'EET',
  'Eastern European Summer Time': 'EEST',
  'Western European Standard Time': 'WET',
  'Western European Summer Time': 'WEST',
  'Greenwich Mean Time': 'GMT',
  'British Summer Time': 'BST',
  'Irish Standard Time': 'IST',
  'Moscow Standard Time': 'MSK',
  'India Standard Time': 'IST',
  'Japan Standard Time': 'JST',
  'China Standard Time': 'CST',
  'Korean Standard Time': 'KST',
  'Australian Eastern Standard Time': 'AEST',
  'Australian Eastern Daylight Time': 'AEDT',
  'Coordinated Universal Time': 'UTC',
};

/**
 * The name of a zone at a moment: ICU's name for the locale, except that English short names
 * follow Java (`CET`, `CEST`, `BST`...) where ICU only has `GMT+1`.
 */
export function zoneName(epochMs: number, zone: string, locale: string, long: boolean): string {
  const english = locale === 'en' || locale.startsWith('en-');
  if (!long && english) {
    const longName = zoneNameOf(epochMs, zone, locale, true);
    const java = JAVA_SHORT_NAMES[longName];
    if (java !== undefined) return java;
  }
  return zoneNameOf(epochMs, zone, locale, long);
}

function zoneNameOf(epochMs: number, zone: string, locale: string, long: boolean): string {
  const key = `${zone}|${locale}|${long ? 'l' : 's'}`;
  let fmt = zoneNameFormats.get(key);
  if (fmt === undefined) {
    fmt = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: long ? 'long' : 'short' });
    zoneNameFormats.set(key, fmt);
  }
  return fmt.formatToParts(new Date(epochMs)).find((p) => p.type === 'timeZoneName')?.value ?? zone;
}
const zoneNameFormats = new Map<string, Intl.DateTimeFormat>();

function offsetText(offsetMinutes: number, style: 'rfc822' | 'iso1' | 'iso2' | 'iso3'): string {
  if (offsetMinutes === 0 && style !== 'rfc822') return 'Z';
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const hh = pad(Math.floor(abs / 60), 2);
  const mm = pad(abs % 60, 2);
  switch (style) {
    case 'iso1':
      return `${sign}${hh}`;
    case 'iso3':
      return `${sign}${hh}:${mm}`;
    default:
      return `${sign}${hh}${mm}`;
  }
}

/** Formats a moment with a compiled pattern, as its wall clock shows in `zone`. */
export function formatDate(
  parts: readonly DatePatternPart[],
  epochMs: number,
  zone: string,
  locale: DateLocaleData,
  localeTag: string,
): string {
  const f = localFields(epochMs, zone);
  let out = '';
  for (const part of parts) {
    if (part.kind === 'literal') {
      out += part.text;
      continue;
    }
    const n = part.count;
    switch (part.letter) {
      case 'G':
        out += f.year > 0 ? locale.eras[1] : locale.eras[0];
        break;
      case 'y':
      case 'Y': {
        const year = part.letter === 'y' ? f.year : weekOfYear(f, locale).weekYear;
        const yearOfEra = year > 0 ? year : 1 - year;
        out += n === 2 ? pad(yearOfEra % 100, 2) : pad(yearOfEra, n);
        break;
      }
      case 'M':
      case 'L': {
        const standalone = part.letter === 'L';
        if (n >= 4) out += (standalone ? locale.monthsFullStandalone : locale.monthsFull)[f.month - 1] ?? '';
        else if (n === 3)
          out += (standalone ? locale.monthsShortStandalone : locale.monthsShort)[f.month - 1] ?? '';
        else out += pad(f.month, n);
        break;
      }
      case 'w':
        out += pad(weekOfYear(f, locale).week, n);
        break;
      case 'W':
        out += pad(
          weekNumber(
            epochDay(f.year, f.month, 1),
            epochDay(f.year, f.month, f.day),
            locale.firstDayOfWeek,
            locale.minimalDaysInFirstWeek,
          ),
          n,
        );
        break;
      case 'D':
        out += pad(epochDay(f.year, f.month, f.day) - epochDay(f.year, 1, 1) + 1, n);
        break;
      case 'd':
        out += pad(f.day, n);
        break;
      case 'F':
        out += pad(Math.floor((f.day - 1) / 7) + 1, n);
        break;
      case 'E':
        out += (n >= 4 ? locale.weekdaysFull : locale.weekdaysShort)[f.weekday - 1] ?? '';
        break;
      case 'u':
        out += pad(f.weekday, n);
        break;
      case 'a':
        out += f.hour < 12 ? locale.amPm[0] : locale.amPm[1];
        break;
      case 'H':
        out += pad(f.hour, n);
        break;
      case 'k':
        out += pad(f.hour === 0 ? 24 : f.hour, n);
        break;
      case 'K':
        out += pad(f.hour % 12, n);
        break;
      case 'h':
        out += pad(f.hour % 12 === 0 ? 12 : f.hour % 12, n);
        break;
      case 'm':
        out += pad(f.minute, n);
        break;
      case 's':
        out += pad(f.second, n);
        break;
      case 'S':
        out += pad(f.millisecond, n);
        break;
      case 'z':
        out += zoneName(epochMs, zone, localeTag, n >= 4);
        break;
      case 'Z':
        out += offsetText(f.offsetMinutes, 'rfc822');
        break;
      case 'X':
        out += offsetText(f.offsetMinutes, n === 1 ? 'iso1' : n === 2 ? 'iso2' : 'iso3');
        break;
      default:
        break;
    }
  }
  return out;
}

/** What a successful parse found. */
interface ParsedFields {
  era?: number;
  year?: number;
  month?: number;
  day?: number;
  dayOfYear?: number;
  hourOfDay?: number;
  hour12?: number;
  pm?: boolean;
  minute?: number;
  second?: number;
  millisecond?: number;
  offsetMinutes?: number;
}

const NUMERIC_LETTERS = new Set(['y', 'Y', 'w', 'W', 'D', 'd', 'F', 'u', 'H', 'k', 'K', 'h', 'm', 's', 'S']);

function isNumericPart(part: DatePatternPart | undefined): boolean {
  if (part === undefined || part.kind !== 'field') return false;
  if (part.letter === 'M' || part.letter === 'L') return part.count <= 2;
  return NUMERIC_LETTERS.has(part.letter);
}

/** Longest case-insensitive match of one of `names` at `pos`; the index of the name, or -1. */
function matchName(text: string, pos: number, names: readonly string[]): { index: number; length: number } {
  let best = -1;
  let bestLength = 0;
  const rest = text.slice(pos).toLowerCase();
  names.forEach((name, index) => {
    if (name.length > bestLength && rest.startsWith(name.toLowerCase())) {
      best = index;
      bestLength = name.length;
    }
  });
  return { index: best, length: bestLength };
}

function parseZone(text: string, pos: number): { offset: number; length: number } | undefined {
  const rest = text.slice(pos);
  if (rest.startsWith('Z')) return { offset: 0, length: 1 };
  const named = /^(?:GMT|UTC)(?![A-Za-z])/.exec(rest);
  let start = 0;
  if (named !== null) {
    start = named[0].length;
    const after = rest.slice(start);
    if (!/^[+-]/.test(after)) return { offset: 0, length: start };
  }
  const m = /^([+-])(\d{1,2})(?::?(\d{2}))?/.exec(rest.slice(start));
  if (m === null) return undefined;
  const hours = Number(m[2]);
  const minutes = m[3] === undefined ? 0 : Number(m[3]);
  if (hours > 23 || minutes > 59) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  return { offset: sign * (hours * 60 + minutes), length: start + m[0].length };
}

/**
 * Parses text with a compiled pattern the way Java's lenient `SimpleDateFormat.parse(String)`
 * does: fields may overflow and roll over, text after the pattern is ignored, missing fields
 * default to 1970-01-01 00:00:00.000, two-digit years fall within 80 years before and 20 after
 * `nowMs`. Returns undefined when the text does not match.
 */
export function parseDate(
  parts: readonly DatePatternPart[],
  text: string,
  zone: string,
  locale: DateLocaleData,
  nowMs: number,
): number | undefined {
  const fields: ParsedFields = {};
  let pos = 0;
  for (let index = 0; index < parts.length; index++) {
    const part = parts[index];
    if (part === undefined) break;
    if (part.kind === 'literal') {
      if (!text.startsWith(part.text, pos)) return undefined;
      pos += part.text.length;
      continue;
    }
    while (text.charAt(pos) === ' ' || text.charAt(pos) === '\t') pos++;
    if (pos >= text.length) return undefined;
    if (isNumericPart(part)) {
      const abutting = isNumericPart(parts[index + 1]);
      let end = pos;
      const limit = abutting ? Math.min(text.length, pos + part.count) : text.length;
      while (end < limit && /[0-9]/.test(text.charAt(end))) end++;
      if (end === pos) return undefined;
      const digits = text.slice(pos, end);
      let value = Number(digits);
      if (!Number.isSafeInteger(value)) return undefined;
      switch (part.letter) {
        case 'y':
          if (part.count <= 2 && digits.length === 2) {
            const startYear = localFields(nowMs, zone).year - 80;
            value += Math.floor(startYear / 100) * 100 + (value < startYear % 100 ? 100 : 0);
          }
          fields.year = value;
          break;
        case 'Y':
          fields.year ??= value;
          break;
        case 'M':
        case 'L':
          fields.month = value;
          break;
        case 'd':
          fields.day = value;
          break;
        case 'D':
          fields.dayOfYear = value;
          break;
        case 'H':
          fields.hourOfDay = value;
          break;
        case 'k':
          fields.hourOfDay = value === 24 ? 0 : value;
          break;
        case 'K':
        case 'h':
          fields.hour12 = value === 12 && part.letter === 'h' ? 0 : value;
          break;
        case 'm':
          fields.minute = value;
          break;
        case 's':
          fields.second = value;
          break;
        case 'S':
          fields.millisecond = value;
          break;
        default:
          // Week fields and day numbers are read but, as in Java, a day of month wins.
          break;
      }
      pos = end;
      continue;
    }
    switch (part.letter) {
      case 'M':
      case 'L': {
        const full = matchName(
          text,
          pos,
          part.letter === 'M' ? locale.monthsFull : locale.monthsFullStandalone,
        );
        const alt = matchName(
          text,
          pos,
          part.letter === 'M' ? locale.monthsFullStandalone : locale.monthsFull,
        );
        const short = matchName(
          text,
          pos,
          part.letter === 'M' ? locale.monthsShort : locale.monthsShortStandalone,
        );
        const best = [full, alt, short].reduce((a, b) => (b.length > a.length ? b : a));
        if (best.index < 0) return undefined;
        fields.month = best.index + 1;
        pos += best.length;
        break;
      }
      case 'E': {
        const full = matchName(text, pos, locale.weekdaysFull);
        const short = matchName(text, pos, locale.weekdaysShort);
        const best = full.length >= short.length ? full : short;
        if (best.index < 0) return undefined;
        pos += best.length;
        break;
      }
      case 'a': {
        const m = matchName(text, pos, locale.amPm);
        if (m.index < 0) return undefined;
        fields.pm = m.index === 1;
        pos += m.length;
        break;
      }
      case 'G': {
        const m = matchName(text, pos, locale.eras);
        if (m.index < 0) return undefined;
        fields.era = m.index;
        pos += m.length;
        break;
      }
      default: {
        const z = parseZone(text, pos);
        if (z === undefined) return undefined;
        fields.offsetMinutes = z.offset;
        pos += z.length;
        break;
      }
    }
  }
  return resolveFields(fields, zone);
}

function resolveFields(fields: ParsedFields, zone: string): number {
  let year = fields.year ?? 1970;
  if (fields.era === 0) year = 1 - year;
  let month = fields.month ?? 1;
  let day = fields.day ?? 1;
  if (fields.day === undefined && fields.month === undefined && fields.dayOfYear !== undefined) {
    month = 1;
    day = fields.dayOfYear;
  }
  let hour = fields.hourOfDay ?? 0;
  if (fields.hourOfDay === undefined && fields.hour12 !== undefined)
    hour = fields.hour12 + (fields.pm === true ? 12 : 0);
  else if (fields.hourOfDay === undefined && fields.pm === true) hour = 12;
  const clock = {
    year,
    month,
    day,
    hour,
    minute: fields.minute ?? 0,
    second: fields.second ?? 0,
    millisecond: fields.millisecond ?? 0,
  };
  if (fields.offsetMinutes !== undefined) {
    return fromWallClock(clock, 'UTC') - fields.offsetMinutes * 60_000;
  }
  return fromWallClock(clock, zone);
}

/** Java's `Date.toString()`: `Mon Jan 01 00:00:00 CET 2007`, always with English names. */
export function javaDateString(epochMs: number, zone: string, english: DateLocaleData): string {
  const parts = compileDatePattern('EEE MMM dd HH:mm:ss zzz yyyy');
  return parts.ok
    ? formatDate(parts.parts, epochMs, zone, english, 'en-US')
    : new Date(epochMs).toISOString();
}

/** Parses an ISO 8601 date-time; without an offset it is read in `zone`. Undefined when it is not one. */
export function parseIsoDateTime(text: string, zone: string): number | undefined {
  const hasOffset = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/.test(text.trim());
  const dt = hasOffset
    ? DateTime.fromISO(text.trim(), { setZone: true })
    : DateTime.fromISO(text.trim(), { zone: zone === '' ? 'UTC' : zone });
  return dt.isValid ? dt.toMillis() : undefined;
}
