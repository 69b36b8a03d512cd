/**
 * Calendar arithmetic in a time zone: what Mendix does with a Java `Calendar` set to the
 * user's time zone (or UTC for the `...UTC` functions).
 */
import { DateTime, IANAZone } from 'luxon';

/** Fields of a moment as a wall clock in some zone shows it. */
export interface LocalFields {
  readonly year: number;
  /** 1–12 */
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly millisecond: number;
  /** ISO: 1 = Monday … 7 = Sunday */
  readonly weekday: number;
  /** Offset from UTC in minutes. */
  readonly offsetMinutes: number;
}

/** Calendar units that move the wall clock rather than the elapsed time. */
export type CalendarUnit = 'day' | 'week' | 'month' | 'quarter' | 'year';

/** Units a moment can be truncated to. */
export type TruncationUnit = 'second' | 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

/** The IANA name to use for a context's time zone: UTC when it is empty. */
export function effectiveZone(timeZone: string | undefined): string {
  return timeZone === undefined || timeZone === '' ? 'UTC' : timeZone;
}

const validZones = new Map<string, boolean>();

/** True for `UTC` and every IANA zone name the platform knows. */
export function isValidZone(zone: string): boolean {
  let valid = validZones.get(zone);
  if (valid === undefined) {
    valid = zone === 'UTC' || IANAZone.isValidZone(zone);
    validZones.set(zone, valid);
  }
  return valid;
}

function isUtc(zone: string): boolean {
  return zone === 'UTC' || zone === 'Etc/UTC';
}

/** The wall-clock fields of a moment in a zone. */
export function localFields(epochMs: number, zone: string): LocalFields {
  if (isUtc(zone)) {
    const d = new Date(epochMs);
    const dow = d.getUTCDay();
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      millisecond: d.getUTCMilliseconds(),
      weekday: dow === 0 ? 7 : dow,
      offsetMinutes: 0,
    };
  }
  const dt = DateTime.fromMillis(epochMs, { zone });
  return {
    year: dt.year,
    month: dt.month,
    day: dt.day,
    hour: dt.hour,
    minute: dt.minute,
    second: dt.second,
    millisecond: dt.millisecond,
    weekday: dt.weekday,
    offsetMinutes: dt.offset,
  };
}

/** Fields a wall-clock time is built from; out-of-range values roll over as in Java's lenient calendar. */
export interface WallClock {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour?: number;
  readonly minute?: number;
  readonly second?: number;
  readonly millisecond?: number;
}

/**
 * The moment a wall clock shows in a zone. Fields out of range roll over (month 13 is January
 * of the next year, day 35 of November is December 5th); a time in a daylight-saving gap moves
 * forward, as Java's lenient calendar does.
 */
export function fromWallClock(clock: WallClock, zone: string): number {
  const normalized = new Date(0);
  normalized.setUTCFullYear(clock.year, clock.month - 1, clock.day);
  normalized.setUTCHours(clock.hour ?? 0, clock.minute ?? 0, clock.second ?? 0, clock.millisecond ?? 0);
  // Beyond the range of JS dates: let the caller report it instead of luxon throwing.
  if (Number.isNaN(normalized.getTime())) return Number.NaN;
  if (isUtc(zone)) return normalized.getTime();
  const dt = DateTime.fromObject(
    {
      year: normalized.getUTCFullYear(),
      month: normalized.getUTCMonth() + 1,
      day: normalized.getUTCDate(),
      hour: normalized.getUTCHours(),
      minute: normalized.getUTCMinutes(),
      second: normalized.getUTCSeconds(),
      millisecond: normalized.getUTCMilliseconds(),
    },
    { zone },
  );
  return dt.toMillis();
}

/** Moves a moment by whole calendar units in a zone, keeping the wall-clock time (month ends clamp). */
export function addCalendar(epochMs: number, unit: CalendarUnit, amount: number, zone: string): number {
  if (isUtc(zone)) {
    const d = new Date(epochMs);
    switch (unit) {
      case 'day':
        d.setUTCDate(d.getUTCDate() + amount);
        return d.getTime();
      case 'week':
        d.setUTCDate(d.getUTCDate() + amount * 7);
        return d.getTime();
      default: {
        const months = unit === 'month' ? amount : unit === 'quarter' ? amount * 3 : amount * 12;
        return addMonthsUtc(d, months);
      }
    }
  }
  const dt = DateTime.fromMillis(epochMs, { zone });
  switch (unit) {
    case 'day':
      return dt.plus({ days: amount }).toMillis();
    case 'week':
      return dt.plus({ weeks: amount }).toMillis();
    case 'month':
      return dt.plus({ months: amount }).toMillis();
    case 'quarter':
      return dt.plus({ months: amount * 3 }).toMillis();
    default:
      return dt.plus({ years: amount }).toMillis();
  }
}

function addMonthsUtc(d: Date, months: number): number {
  const day = d.getUTCDate();
  const target = new Date(d.getTime());
  target.setUTCDate(1);
  target.setUTCMonth(target.getUTCMonth() + months);
  const lastDay = daysInMonth(target.getUTCFullYear(), target.getUTCMonth() + 1);
  target.setUTCDate(Math.min(day, lastDay));
  return target.getTime();
}

/** Days in a month (1–12) of a proleptic Gregorian year. */
export function daysInMonth(year: number, month: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month, 0);
  return d.getUTCDate();
}

/** The first moment of the unit containing the moment, in a zone. `firstDayOfWeek` is ISO (1 = Monday, 7 = Sunday). */
export function startOf(epochMs: number, unit: TruncationUnit, zone: string, firstDayOfWeek: number): number {
  switch (unit) {
    case 'second':
      return Math.floor(epochMs / 1000) * 1000;
    case 'minute':
      if (isUtc(zone)) return Math.floor(epochMs / 60_000) * 60_000;
      break;
    case 'hour':
      if (isUtc(zone)) return Math.floor(epochMs / 3_600_000) * 3_600_000;
      break;
    default:
      break;
  }
  const f = localFields(epochMs, zone);
  switch (unit) {
    case 'minute':
      return fromWallClock(
        { year: f.year, month: f.month, day: f.day, hour: f.hour, minute: f.minute },
        zone,
      );
    case 'hour':
      return fromWallClock({ year: f.year, month: f.month, day: f.day, hour: f.hour }, zone);
    case 'day':
      return fromWallClock({ year: f.year, month: f.month, day: f.day }, zone);
    case 'week': {
      const back = (f.weekday - firstDayOfWeek + 7) % 7;
      return fromWallClock({ year: f.year, month: f.month, day: f.day - back }, zone);
    }
    case 'month':
      return fromWallClock({ year: f.year, month: f.month, day: 1 }, zone);
    default:
      return fromWallClock({ year: f.year, month: 1, day: 1 }, zone);
  }
}

/** The last millisecond of the unit containing the moment, in a zone. */
export function endOf(epochMs: number, unit: TruncationUnit, zone: string, firstDayOfWeek: number): number {
  const start = startOf(epochMs, unit, zone, firstDayOfWeek);
  switch (unit) {
    case 'second':
      return start + 999;
    case 'minute':
      return start + 59_999;
    case 'hour':
      return start + 3_599_999;
    case 'week':
      return addCalendar(start, 'week', 1, zone) - 1;
    case 'day':
      return addCalendar(start, 'day', 1, zone) - 1;
    case 'month':
      return addCalendar(start, 'month', 1, zone) - 1;
    default:
      return addCalendar(start, 'year', 1, zone) - 1;
  }
}

/** Whole calendar months between two moments in a zone, ignoring the time of day; never negative. */
export function calendarMonthsBetween(aMs: number, bMs: number, zone: string): number {
  const [early, late] = aMs <= bMs ? [aMs, bMs] : [bMs, aMs];
  const a = localFields(early, zone);
  const b = localFields(late, zone);
  let months = (b.year - a.year) * 12 + (b.month - a.month);
  if (b.day < a.day) months -= 1;
  return Math.max(0, months);
}
