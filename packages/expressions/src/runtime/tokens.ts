/**
 * The date tokens of expressions and XPath (`[%BeginOfCurrentDay%]`, `[%EndOfCurrentWeekUTC%]`,
 * ...) and the period tokens of XPath date arithmetic (`[%DayLength%]`, ...).
 */
import { addCalendar, endOf, startOf, type TruncationUnit } from './calendar.js';

/** The periods of begin/end tokens, by their name in the token. */
const PERIODS: Readonly<Record<string, { unit: TruncationUnit; shiftDays: number }>> = {
  CurrentMinute: { unit: 'minute', shiftDays: 0 },
  CurrentHour: { unit: 'hour', shiftDays: 0 },
  CurrentDay: { unit: 'day', shiftDays: 0 },
  Yesterday: { unit: 'day', shiftDays: -1 },
  Tomorrow: { unit: 'day', shiftDays: 1 },
  CurrentWeek: { unit: 'week', shiftDays: 0 },
  CurrentMonth: { unit: 'month', shiftDays: 0 },
  CurrentYear: { unit: 'year', shiftDays: 0 },
};

/** A date token, parsed. */
export interface DateToken {
  /** The token's name without brackets, e.g. `BeginOfCurrentDayUTC`. */
  readonly name: string;
  readonly edge: 'Begin' | 'End' | 'Now';
  readonly unit: TruncationUnit | undefined;
  readonly shiftDays: number;
  /** True for the `...UTC` variants: computed in UTC rather than the user's zone. */
  readonly utc: boolean;
}

/** The names of every date token, for documentation and hints. */
export const DATE_TOKEN_NAMES: readonly string[] = [
  'CurrentDateTime',
  ...Object.keys(PERIODS).flatMap((p) => [`BeginOf${p}`, `BeginOf${p}UTC`, `EndOf${p}`, `EndOf${p}UTC`]),
];

/** Reads a date token name; undefined when it is not one. */
export function parseDateToken(name: string): DateToken | undefined {
  if (name === 'CurrentDateTime') return { name, edge: 'Now', unit: undefined, shiftDays: 0, utc: false };
  const m = /^(BeginOf|EndOf)([A-Za-z]+?)(UTC)?$/.exec(name);
  if (m === null) return undefined;
  const period = PERIODS[m[2] ?? ''];
  if (period === undefined) return undefined;
  return {
    name,
    edge: m[1] === 'BeginOf' ? 'Begin' : 'End',
    unit: period.unit,
    shiftDays: period.shiftDays,
    utc: m[3] !== undefined,
  };
}

/** The moment a date token stands for, given the request's now, the user's zone and week start. */
export function dateTokenValue(
  token: DateToken,
  nowMs: number,
  userZone: string,
  firstDayOfWeek: number,
): number {
  if (token.edge === 'Now' || token.unit === undefined) return nowMs;
  const zone = token.utc ? 'UTC' : userZone;
  const base = token.shiftDays === 0 ? nowMs : addCalendar(nowMs, 'day', token.shiftDays, zone);
  return token.edge === 'Begin'
    ? startOf(base, token.unit, zone, firstDayOfWeek)
    : endOf(base, token.unit, zone, firstDayOfWeek);
}

/** Period tokens of XPath date arithmetic. Day, hour, minute, second and week are fixed lengths; month and year move the calendar. */
export const PeriodToken = {
  SecondLength: 'SecondLength',
  MinuteLength: 'MinuteLength',
  HourLength: 'HourLength',
  DayLength: 'DayLength',
  WeekLength: 'WeekLength',
  MonthLength: 'MonthLength',
  YearLength: 'YearLength',
} as const;
/** Period tokens of XPath date arithmetic. */
export type PeriodToken = (typeof PeriodToken)[keyof typeof PeriodToken];

const FIXED_MS: Readonly<Record<string, number>> = {
  SecondLength: 1000,
  MinuteLength: 60_000,
  HourLength: 3_600_000,
  DayLength: 86_400_000,
  WeekLength: 604_800_000,
};

/** True for a period token name. */
export function isPeriodToken(name: string): name is PeriodToken {
  return Object.prototype.hasOwnProperty.call(PeriodToken, name);
}

/** Adds `count` periods to a moment: fixed lengths for day and shorter, calendar months and years in the zone. */
export function addPeriod(epochMs: number, period: PeriodToken, count: number, zone: string): number {
  const fixed = FIXED_MS[period];
  if (fixed !== undefined) return epochMs + Math.round(count * fixed);
  return addCalendar(epochMs, period === PeriodToken.MonthLength ? 'month' : 'year', Math.trunc(count), zone);
}
