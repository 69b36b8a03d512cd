/**
 * Locale data for formatting and parsing, taken from the platform's ICU through `Intl`:
 * month and day names, AM/PM markers, eras, week rules, number symbols and currency symbols.
 */

/** The locale used when a context names none. */
export const DEFAULT_LOCALE = 'en-US';

/** Names and rules of one locale. */
export interface DateLocaleData {
  /** Month names in a date ("of November" in languages with a genitive), January first. */
  readonly monthsFull: readonly string[];
  readonly monthsShort: readonly string[];
  /** Month names standing alone (pattern letter L). */
  readonly monthsFullStandalone: readonly string[];
  readonly monthsShortStandalone: readonly string[];
  /** Day names, Monday first (ISO order). */
  readonly weekdaysFull: readonly string[];
  readonly weekdaysShort: readonly string[];
  /** AM then PM. */
  readonly amPm: readonly [string, string];
  /** BC then AD. */
  readonly eras: readonly [string, string];
  /** ISO day the week starts on: 1 = Monday … 7 = Sunday. */
  readonly firstDayOfWeek: number;
  /** Days of a new year the first week must hold. */
  readonly minimalDaysInFirstWeek: number;
}

/** Symbols of decimal formatting in one locale. */
export interface NumberLocaleData {
  readonly decimalSeparator: string;
  readonly groupingSeparator: string;
  readonly minusSign: string;
  readonly percent: string;
  readonly perMill: string;
  readonly exponent: string;
  /** The local currency's symbol, or `¤` when the locale names no region. */
  readonly currencySymbol: string;
  readonly infinity: string;
  readonly nan: string;
}

const dateCache = new Map<string, DateLocaleData>();
const numberCache = new Map<string, NumberLocaleData>();
const canonicalCache = new Map<string, string>();

/** A supported locale tag for the given one (Java-style `en_US` accepted); the default when unknown. */
export function canonicalLocale(locale: string | undefined): string {
  if (locale === undefined || locale === '') return DEFAULT_LOCALE;
  let canonical = canonicalCache.get(locale);
  if (canonical === undefined) {
    try {
      const [first] = Intl.getCanonicalLocales(locale.replace(/_/g, '-'));
      canonical = first ?? DEFAULT_LOCALE;
      if (Intl.DateTimeFormat.supportedLocalesOf([canonical]).length === 0) canonical = DEFAULT_LOCALE;
    } catch {
      canonical = DEFAULT_LOCALE;
    }
    canonicalCache.set(locale, canonical);
  }
  return canonical;
}

function partOf(parts: Intl.DateTimeFormatPart[], type: Intl.DateTimeFormatPartTypes): string {
  return parts.find((p) => p.type === type)?.value ?? '';
}

/** Date names and week rules of a locale. */
export function dateLocale(locale: string | undefined): DateLocaleData {
  const tag = canonicalLocale(locale);
  let data = dateCache.get(tag);
  if (data !== undefined) return data;
  const inMonth = (month: 'long' | 'short') =>
    new Intl.DateTimeFormat(tag, { timeZone: 'UTC', month, day: 'numeric' });
  const alone = (month: 'long' | 'short') => new Intl.DateTimeFormat(tag, { timeZone: 'UTC', month });
  const months = (fmt: Intl.DateTimeFormat, inContext: boolean) =>
    Array.from({ length: 12 }, (_, i) => {
      const date = new Date(Date.UTC(2021, i, 15));
      return inContext ? partOf(fmt.formatToParts(date), 'month') : fmt.format(date);
    });
  const weekday = (style: 'long' | 'short') => {
    const fmt = new Intl.DateTimeFormat(tag, { timeZone: 'UTC', weekday: style });
    // 2021-03-01 was a Monday.
    return Array.from({ length: 7 }, (_, i) => fmt.format(new Date(Date.UTC(2021, 2, 1 + i))));
  };
  const hourFmt = new Intl.DateTimeFormat(tag, { timeZone: 'UTC', hour: 'numeric', hour12: true });
  const eraFmt = new Intl.DateTimeFormat(tag, { timeZone: 'UTC', era: 'short', year: 'numeric' });
  const bc = new Date(0);
  bc.setUTCFullYear(-100, 0, 1);
  const weekInfo = weekRules(tag);
  data = {
    monthsFull: months(inMonth('long'), true),
    monthsShort: months(inMonth('short'), true),
    monthsFullStandalone: months(alone('long'), false),
    monthsShortStandalone: months(alone('short'), false),
    weekdaysFull: weekday('long'),
    weekdaysShort: weekday('short'),
    amPm: [
      partOf(hourFmt.formatToParts(new Date(Date.UTC(2021, 0, 1, 9))), 'dayPeriod') || 'AM',
      partOf(hourFmt.formatToParts(new Date(Date.UTC(2021, 0, 1, 21))), 'dayPeriod') || 'PM',
    ],
    eras: [
      partOf(eraFmt.formatToParts(bc), 'era') || 'BC',
      partOf(eraFmt.formatToParts(new Date(0)), 'era') || 'AD',
    ],
    firstDayOfWeek: weekInfo.firstDay,
    minimalDaysInFirstWeek: weekInfo.minimalDays,
  };
  dateCache.set(tag, data);
  return data;
}

interface WeekRules {
  readonly firstDay: number;
  readonly minimalDays: number;
}

function weekRules(tag: string): WeekRules {
  const locale = new Intl.Locale(tag) as Intl.Locale & { weekInfo?: Partial<WeekRules> };
  const info = locale.weekInfo;
  return {
    firstDay: typeof info?.firstDay === 'number' ? info.firstDay : 7,
    minimalDays: typeof info?.minimalDays === 'number' ? info.minimalDays : 1,
  };
}

const REGION_CURRENCY: Readonly<Record<string, string>> = {
  US: 'USD',
  GB: 'GBP',
  NL: 'EUR',
  DE: 'EUR',
  FR: 'EUR',
  BE: 'EUR',
  ES: 'EUR',
  IT: 'EUR',
  AT: 'EUR',
  IE: 'EUR',
  FI: 'EUR',
  PT: 'EUR',
  LU: 'EUR',
  GR: 'EUR',
  SK: 'EUR',
  SI: 'EUR',
  EE: 'EUR',
  LV: 'EUR',
  LT: 'EUR',
  MT: 'EUR',
  CY: 'EUR',
  HR: 'EUR',
  CH: 'CHF',
  SE: 'SEK',
  NO: 'NOK',
  DK: 'DKK',
  PL: 'PLN',
  CZ: 'CZK',
  HU: 'HUF',
  RO: 'RON',
  BG: 'BGN',
  TR: 'TRY',
  RU: 'RUB',
  UA: 'UAH',
  JP: 'JPY',
  CN: 'CNY',
  KR: 'KRW',
  IN: 'INR',
  AU: 'AUD',
  NZ: 'NZD',
  CA: 'CAD',
  MX: 'MXN',
  BR: 'BRL',
  AR: 'ARS',
  ZA: 'ZAR',
  SG: 'SGD',
  HK: 'HKD',
  ID: 'IDR',
  IL: 'ILS',
  SA: 'SAR',
  AE: 'AED',
};

/** Number symbols of a locale. */
export function numberLocale(locale: string | undefined): NumberLocaleData {
  const tag = canonicalLocale(locale);
  let data = numberCache.get(tag);
  if (data !== undefined) return data;
  const parts = new Intl.NumberFormat(tag, { useGrouping: true }).formatToParts(-12345.5);
  const region = new Intl.Locale(tag).maximize().region;
  const explicitRegion = new Intl.Locale(tag).region;
  const currency = explicitRegion === undefined || region === undefined ? undefined : REGION_CURRENCY[region];
  let currencySymbol = '¤';
  if (currency !== undefined) {
    const cparts = new Intl.NumberFormat(tag, { style: 'currency', currency }).formatToParts(1);
    currencySymbol = cparts.find((p) => p.type === 'currency')?.value ?? '¤';
  }
  const percentParts = new Intl.NumberFormat(tag, { style: 'percent' }).formatToParts(1);
  data = {
    decimalSeparator: parts.find((p) => p.type === 'decimal')?.value ?? '.',
    groupingSeparator: parts.find((p) => p.type === 'group')?.value ?? ',',
    minusSign: parts.find((p) => p.type === 'minusSign')?.value ?? '-',
    percent: percentParts.find((p) => p.type === 'percentSign')?.value ?? '%',
    perMill: '‰',
    exponent: 'E',
    currencySymbol,
    infinity: '∞',
    nan: 'NaN',
  };
  numberCache.set(tag, data);
  return data;
}
