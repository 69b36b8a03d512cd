/**
 * Timetables: when a schedule fires, as instants, for every Mendix interval type, for
 * five-field cron, and for fixed periods (the cluster's duties).
 *
 * Times of day are wall-clock times in the schedule's zone. Daylight saving is handled
 * the way Mendix promises ("executes exactly once on those days"):
 * - A schedule at fixed times of day (Daily, Weekly, Monthly, Yearly, Hourly every 2+
 *   hours, cron with a restricted hour field) fires once per wall time: a time that does
 *   not exist on a spring-forward day fires at the moment the clock jumps over it, and a
 *   time that happens twice on a fall-back day fires at its first occurrence only.
 * - A schedule that runs every hour or more often (Minutes, Hourly every hour, cron on
 *   every hour) follows elapsed time: it fires whenever the local clock shows a matching
 *   minute, so in a repeated hour it keeps firing and in a skipped hour nothing is lost
 *   but the hour itself. This is how Vixie cron treats its wildcard-hour jobs.
 */
import type { CronSchedule, Interval, NthWeekday, TimeOfDay, Weekday } from '@runplane/model';
import { intervalInvalid } from './errors.js';
import { TimeZone, daysInMonth, fieldsOf, utcMs } from './zone.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/**
 * How far ahead a timetable looks for its next fire time before it concludes there is
 * none. Every valid Mendix interval fires within a year; a cron expression that can fire
 * at all (e.g. only on 29 February) does so within eight years.
 */
const HORIZON_DAYS = 9 * 366;

/** What a timetable is built from: a scheduled event's schedule, or a fixed period. */
export type ScheduleSpec =
  | { readonly kind: 'interval'; readonly interval: Interval }
  | { readonly kind: 'cron'; readonly cron: CronSchedule }
  /** Every `everyMs` of elapsed time, at the multiples of `everyMs` since the epoch (zone-free). */
  | { readonly kind: 'every'; readonly everyMs: number };

/** When a schedule fires. */
export interface Timetable {
  /**
   * What it is, e.g. `daily at 02:30 (Europe/Amsterdam)`; two timetables with the same
   * description fire at the same instants.
   */
  readonly description: string;
  /** The first fire time strictly after `afterMs`, or undefined when it never fires again. */
  next(afterMs: number): number | undefined;
}

const WEEKDAYS: readonly Weekday[] = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const WEEKS: Readonly<Record<NthWeekday['week'], number>> = {
  first: 1,
  second: 2,
  third: 3,
  fourth: 4,
  last: -1,
};

/** A local date. */
interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** 0 = Sunday. */
  readonly weekday: number;
}

/** The times of day (minutes since midnight, ascending) a schedule fires on a local date. */
type DayPlan = (date: LocalDate) => readonly number[];

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function clock(time: TimeOfDay): string {
  return `${pad(time.hour)}:${pad(time.minute)}`;
}

function minuteOfDay(time: TimeOfDay): number {
  return time.hour * 60 + time.minute;
}

/** The day of the month of an nth weekday (1-based). */
function nthWeekdayOf(year: number, month: number, nth: NthWeekday): number {
  const weekday = WEEKDAYS.indexOf(nth.day);
  const week = WEEKS[nth.week];
  if (week < 0) {
    const last = daysInMonth(year, month);
    const lastWeekday = new Date(utcMs(year, month, last)).getUTCDay();
    return last - ((lastWeekday - weekday + 7) % 7);
  }
  const firstWeekday = new Date(utcMs(year, month, 1)).getUTCDay();
  return 1 + ((weekday - firstWeekday + 7) % 7) + 7 * (week - 1);
}

/** The day a `{ day }` or `{ weekday }` rule picks in a month: a missing day is the month's last. */
function dayOfMonth(year: number, month: number, on: { day: number } | { weekday: NthWeekday }): number {
  return 'day' in on ? Math.min(on.day, daysInMonth(year, month)) : nthWeekdayOf(year, month, on.weekday);
}

function describeOn(on: { day: number } | { weekday: NthWeekday }): string {
  return 'day' in on ? `day ${on.day}` : `the ${on.weekday.week} ${on.weekday.day}`;
}

/** The day plan, description and DST mode of a Mendix interval. */
function intervalPlan(interval: Interval): { plan: DayPlan; text: string; elapsed: boolean } {
  switch (interval.type) {
    case 'Minutes': {
      const every = interval.every;
      const minutes: number[] = [];
      for (let h = 0; h < 24; h++) {
        for (let m = interval.offset % every; m < 60; m += every) minutes.push(h * 60 + m);
      }
      const text =
        every === 60
          ? `every hour at minute ${interval.offset}`
          : `${every === 1 ? 'every minute' : `every ${every} minutes`}${interval.offset === 0 ? '' : ` from minute ${interval.offset}`}`;
      return { plan: () => minutes, text, elapsed: true };
    }
    case 'Hourly': {
      const every = interval.every;
      const minutes: number[] = [];
      // Mendix's offset counts from the start of each period of `every` hours.
      for (let start = 0; start < 24 * 60; start += every * 60) {
        const at = start + interval.minute;
        if (at < 24 * 60) minutes.push(at);
      }
      const text = `every ${every === 1 ? 'hour' : `${every} hours`} at +${interval.minute} min`;
      return { plan: () => minutes, text, elapsed: every === 1 };
    }
    case 'Daily': {
      const at = [minuteOfDay(interval.time)];
      return { plan: () => at, text: `daily at ${clock(interval.time)}`, elapsed: false };
    }
    case 'Weekly': {
      const at = [minuteOfDay(interval.time)];
      const days = new Set(interval.days.map((d) => WEEKDAYS.indexOf(d)));
      const names = [...days].sort((a, b) => a - b).map((d) => (WEEKDAYS[d] ?? '').slice(0, 3));
      return {
        plan: (date) => (days.has(date.weekday) ? at : []),
        text: `weekly on ${names.join(', ')} at ${clock(interval.time)}`,
        elapsed: false,
      };
    }
    case 'Monthly': {
      const at = [minuteOfDay(interval.time)];
      const { every, on } = interval;
      // Months counted from January: every 3 months is January, April, July and October.
      return {
        plan: (date) =>
          (date.month - 1) % every === 0 && date.day === dayOfMonth(date.year, date.month, on) ? at : [],
        text: `${every === 1 ? 'monthly' : `every ${every} months`} on ${describeOn(on)} at ${clock(interval.time)}`,
        elapsed: false,
      };
    }
    case 'Yearly': {
      const at = [minuteOfDay(interval.time)];
      const { month, on } = interval;
      return {
        plan: (date) => (date.month === month && date.day === dayOfMonth(date.year, month, on) ? at : []),
        text: `yearly in ${MONTH_NAMES[month - 1] ?? month} on ${describeOn(on)} at ${clock(interval.time)}`,
        elapsed: false,
      };
    }
  }
}

/** The day plan and DST mode of a cron expression (Vixie rules for day-of-month/day-of-week). */
function cronPlan(cron: CronSchedule): { plan: DayPlan; text: string; elapsed: boolean } {
  const minutes: number[] = [];
  for (const h of cron.hours) for (const m of cron.minutes) minutes.push(h * 60 + m);
  minutes.sort((a, b) => a - b);
  const doms = new Set(cron.daysOfMonth);
  const dows = new Set(cron.daysOfWeek);
  const months = new Set(cron.months);
  // Both fields restricted: either may match. Otherwise both must (a `*` field matches all).
  const either = cron.dayOfMonthRestricted && cron.dayOfWeekRestricted;
  return {
    plan: (date) => {
      if (!months.has(date.month)) return [];
      const dom = doms.has(date.day);
      const dow = dows.has(date.weekday);
      return (either ? dom || dow : dom && dow) ? minutes : [];
    },
    text: `cron ${cron.expression}`,
    elapsed: new Set(cron.hours).size === 24,
  };
}

function localDateOf(wallMs: number): LocalDate {
  const f = fieldsOf(wallMs);
  return { year: f.year, month: f.month, day: f.day, weekday: f.weekday };
}

function ceilToMinute(ms: number): number {
  return Math.ceil(ms / MINUTE_MS) * MINUTE_MS;
}

/** A schedule of times of day in a zone. */
class WallTimetable implements Timetable {
  constructor(
    readonly description: string,
    private readonly zone: TimeZone,
    private readonly plan: DayPlan,
    private readonly elapsed: boolean,
  ) {}

  /** The first wall time at or after `wallMs` the plan fires at, within the horizon. */
  private nextWall(wallMs: number): number | undefined {
    const from = ceilToMinute(wallMs);
    let dayStart = Math.floor(from / DAY_MS) * DAY_MS;
    const firstMinute = (from - dayStart) / MINUTE_MS;
    for (let i = 0; i < HORIZON_DAYS; i++, dayStart += DAY_MS) {
      const minutes = this.plan(localDateOf(dayStart));
      for (const m of minutes) {
        if (i === 0 && m < firstMinute) continue;
        return dayStart + m * MINUTE_MS;
      }
    }
    return undefined;
  }

  next(afterMs: number): number | undefined {
    return this.elapsed || this.zone.isUtc ? this.nextElapsed(afterMs) : this.nextWallTime(afterMs);
  }

  /** Fixed times of day: each wall time once, at the first instant the clock reaches it. */
  private nextWallTime(afterMs: number): number | undefined {
    // Every wall time up to the clock's reading at `afterMs` was reached by then.
    let wall = this.zone.wallOf(afterMs) + 1;
    for (;;) {
      const found = this.nextWall(wall);
      if (found === undefined) return undefined;
      const at = this.zone.firstAtOrAfter(found);
      if (at > afterMs) return at;
      wall = found + MINUTE_MS;
    }
  }

  /** Elapsed time: the next instant at which the local clock shows a planned minute. */
  private nextElapsed(afterMs: number): number | undefined {
    let t = ceilToMinute(afterMs + 1);
    for (;;) {
      const offset = this.zone.offsetMs(t);
      const wall = t + offset;
      const found = this.nextWall(wall);
      if (found === undefined) return undefined;
      const candidate = t + (found - wall);
      if (this.zone.offsetMs(candidate) === offset) return candidate;
      // The offset changed on the way: go to the change and read the clock afresh there.
      let lo = t;
      let hi = candidate;
      while (hi - lo > MINUTE_MS) {
        const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
        if (this.zone.offsetMs(mid) === offset) lo = mid;
        else hi = mid;
      }
      t = hi;
    }
  }
}

/** A fixed period of elapsed time, at the multiples of the period since the epoch. */
class PeriodTimetable implements Timetable {
  readonly description: string;

  constructor(private readonly everyMs: number) {
    if (!Number.isSafeInteger(everyMs) || everyMs <= 0) throw intervalInvalid(everyMs);
    this.description = `every ${describeMs(everyMs)}`;
  }

  next(afterMs: number): number {
    return (Math.floor(afterMs / this.everyMs) + 1) * this.everyMs;
  }
}

function describeMs(ms: number): string {
  const units: [number, string][] = [
    [DAY_MS, 'day'],
    [3_600_000, 'hour'],
    [MINUTE_MS, 'minute'],
    [1000, 'second'],
  ];
  for (const [size, name] of units) {
    if (ms % size === 0) return ms === size ? name : `${ms / size} ${name}s`;
  }
  return `${ms} ms`;
}

/**
 * The timetable of a schedule in a zone (`UTC` or an IANA name; ignored for `every`).
 * Throws `SCHEDULE_TIME_ZONE_INVALID` for an unknown zone.
 */
export function timetableOf(spec: ScheduleSpec, zone: string): Timetable {
  if (spec.kind === 'every') return new PeriodTimetable(spec.everyMs);
  const tz = TimeZone.of(zone);
  const { plan, text, elapsed } =
    spec.kind === 'interval' ? intervalPlan(spec.interval) : cronPlan(spec.cron);
  return new WallTimetable(`${text} (${tz.name})`, tz, plan, elapsed);
}
