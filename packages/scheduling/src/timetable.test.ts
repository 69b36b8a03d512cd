import type { CronSchedule, Interval } from '@runplane/model';
import { describe, expect, it } from 'vitest';
import { SchedulingErrorCode } from './errors.js';
import { timetableOf, type ScheduleSpec } from './timetable.js';

const iso = (t: number): string => new Date(t).toISOString().replace(':00.000Z', 'Z');

/** The first `n` fire times strictly after `from`. */
function fires(spec: ScheduleSpec, zone: string, from: string, n: number): string[] {
  const tt = timetableOf(spec, zone);
  const out: string[] = [];
  let t = Date.parse(from);
  for (let i = 0; i < n; i++) {
    const next = tt.next(t);
    if (next === undefined) break;
    out.push(iso(next));
    t = next;
  }
  return out;
}

const interval = (i: Interval): ScheduleSpec => ({ kind: 'interval', interval: i });
const at = (hour: number, minute: number): { hour: number; minute: number } => ({ hour, minute });

/** A cron schedule as the model's parser produces it, for the fields given. */
function cron(expression: string, fields: Partial<Omit<CronSchedule, 'expression'>>): ScheduleSpec {
  const range = (a: number, b: number): number[] => Array.from({ length: b - a + 1 }, (_, i) => a + i);
  return {
    kind: 'cron',
    cron: {
      expression,
      minutes: range(0, 59),
      hours: range(0, 23),
      daysOfMonth: range(1, 31),
      months: range(1, 12),
      daysOfWeek: range(0, 6),
      dayOfMonthRestricted: false,
      dayOfWeekRestricted: false,
      ...fields,
    },
  };
}

describe('timetables of Mendix intervals', () => {
  const cases: { name: string; spec: ScheduleSpec; zone: string; from: string; want: string[] }[] = [
    {
      name: 'Minutes: every 15 from minute 5',
      spec: interval({ type: 'Minutes', every: 15, offset: 5 }),
      zone: 'UTC',
      from: '2024-05-01T10:06:00Z',
      want: ['2024-05-01T10:20Z', '2024-05-01T10:35Z', '2024-05-01T10:50Z', '2024-05-01T11:05Z'],
    },
    {
      name: 'Minutes: every minute, strictly after an exact fire time',
      spec: interval({ type: 'Minutes', every: 1, offset: 0 }),
      zone: 'UTC',
      from: '2024-05-01T10:00:00Z',
      want: ['2024-05-01T10:01Z', '2024-05-01T10:02Z'],
    },
    {
      name: 'Minutes: every 60 is once an hour at the offset',
      spec: interval({ type: 'Minutes', every: 60, offset: 45 }),
      zone: 'UTC',
      from: '2024-05-01T10:46:00Z',
      want: ['2024-05-01T11:45Z', '2024-05-01T12:45Z'],
    },
    {
      name: 'Minutes: aligned to the local hour in a half-hour zone',
      spec: interval({ type: 'Minutes', every: 60, offset: 0 }),
      zone: 'Asia/Kolkata',
      from: '2024-05-01T10:00:00Z',
      want: ['2024-05-01T10:30Z', '2024-05-01T11:30Z'],
    },
    {
      name: 'Hourly: every 3 hours, 90 minutes into each period (Mendix: "every three hours starting at 01:30")',
      spec: interval({ type: 'Hourly', every: 3, minute: 90 }),
      zone: 'UTC',
      from: '2024-05-01T00:00:00Z',
      want: ['2024-05-01T01:30Z', '2024-05-01T04:30Z', '2024-05-01T07:30Z'],
    },
    {
      name: 'Hourly: every 8 hours wraps at midnight',
      spec: interval({ type: 'Hourly', every: 8, minute: 0 }),
      zone: 'UTC',
      from: '2024-05-01T16:30:00Z',
      want: ['2024-05-02T00:00Z', '2024-05-02T08:00Z', '2024-05-02T16:00Z'],
    },
    {
      name: 'Daily: in UTC',
      spec: interval({ type: 'Daily', time: at(2, 30) }),
      zone: 'UTC',
      from: '2024-05-01T02:30:00Z',
      want: ['2024-05-02T02:30Z', '2024-05-03T02:30Z'],
    },
    {
      name: 'Daily: in server time (New York, summer and winter)',
      spec: interval({ type: 'Daily', time: at(9, 0) }),
      zone: 'America/New_York',
      from: '2024-11-02T00:00:00Z',
      want: ['2024-11-02T13:00Z', '2024-11-03T14:00Z', '2024-11-04T14:00Z'],
    },
    {
      name: 'Weekly: Monday, Wednesday and Friday',
      spec: interval({ type: 'Weekly', days: ['Friday', 'Monday', 'Wednesday'], time: at(8, 0) }),
      zone: 'UTC',
      from: '2024-05-01T09:00:00Z',
      want: ['2024-05-03T08:00Z', '2024-05-06T08:00Z', '2024-05-08T08:00Z', '2024-05-10T08:00Z'],
    },
    {
      name: 'Monthly: day 31 runs on the last day of shorter months',
      spec: interval({ type: 'Monthly', every: 1, on: { day: 31 }, time: at(23, 0) }),
      zone: 'UTC',
      from: '2023-12-31T23:00:00Z',
      want: [
        '2024-01-31T23:00Z',
        '2024-02-29T23:00Z',
        '2024-03-31T23:00Z',
        '2024-04-30T23:00Z',
        '2024-05-31T23:00Z',
      ],
    },
    {
      name: 'Monthly: day 30 in February of a common year',
      spec: interval({ type: 'Monthly', every: 1, on: { day: 30 }, time: at(0, 0) }),
      zone: 'UTC',
      from: '2023-01-31T00:00:00Z',
      want: ['2023-02-28T00:00Z', '2023-03-30T00:00Z'],
    },
    {
      name: 'Monthly: every 3 months counts from January',
      spec: interval({ type: 'Monthly', every: 3, on: { day: 15 }, time: at(6, 0) }),
      zone: 'UTC',
      from: '2024-02-01T00:00:00Z',
      want: ['2024-04-15T06:00Z', '2024-07-15T06:00Z', '2024-10-15T06:00Z', '2025-01-15T06:00Z'],
    },
    {
      name: 'Monthly: the first Monday',
      spec: interval({
        type: 'Monthly',
        every: 1,
        on: { weekday: { week: 'first', day: 'Monday' } },
        time: at(9, 0),
      }),
      zone: 'UTC',
      from: '2024-01-01T10:00:00Z',
      want: ['2024-02-05T09:00Z', '2024-03-04T09:00Z', '2024-04-01T09:00Z'],
    },
    {
      name: 'Monthly: the last Friday',
      spec: interval({
        type: 'Monthly',
        every: 1,
        on: { weekday: { week: 'last', day: 'Friday' } },
        time: at(17, 0),
      }),
      zone: 'UTC',
      from: '2024-01-01T00:00:00Z',
      want: ['2024-01-26T17:00Z', '2024-02-23T17:00Z', '2024-03-29T17:00Z'],
    },
    {
      name: 'Monthly: the fourth Thursday',
      spec: interval({
        type: 'Monthly',
        every: 1,
        on: { weekday: { week: 'fourth', day: 'Thursday' } },
        time: at(12, 0),
      }),
      zone: 'UTC',
      from: '2024-11-01T00:00:00Z',
      want: ['2024-11-28T12:00Z', '2024-12-26T12:00Z'],
    },
    {
      name: 'Yearly: 29 February runs on 28 February in common years',
      spec: interval({ type: 'Yearly', month: 2, on: { day: 29 }, time: at(0, 0) }),
      zone: 'UTC',
      from: '2023-06-01T00:00:00Z',
      want: [
        '2024-02-29T00:00Z',
        '2025-02-28T00:00Z',
        '2026-02-28T00:00Z',
        '2027-02-28T00:00Z',
        '2028-02-29T00:00Z',
      ],
    },
    {
      name: 'Yearly: the first Monday of April',
      spec: interval({
        type: 'Yearly',
        month: 4,
        on: { weekday: { week: 'first', day: 'Monday' } },
        time: at(7, 0),
      }),
      zone: 'UTC',
      from: '2024-01-01T00:00:00Z',
      want: ['2024-04-01T07:00Z', '2025-04-07T07:00Z', '2026-04-06T07:00Z'],
    },
  ];

  for (const c of cases) {
    it(`fires at the right times — ${c.name}`, () => {
      expect(fires(c.spec, c.zone, c.from, c.want.length)).toEqual(c.want);
    });
  }
});

describe('timetables across daylight-saving changes', () => {
  const daily0230 = interval({ type: 'Daily', time: at(2, 30) });

  it('runs a daily 02:30 event once on a spring-forward day, when the clock jumps over 02:30', () => {
    // Amsterdam, 31 March 2024: 02:00 CET becomes 03:00 CEST.
    expect(fires(daily0230, 'Europe/Amsterdam', '2024-03-29T12:00:00Z', 4)).toEqual([
      '2024-03-30T01:30Z',
      '2024-03-31T01:00Z',
      '2024-04-01T00:30Z',
      '2024-04-02T00:30Z',
    ]);
  });

  it('runs a daily 02:30 event once, not twice, on a fall-back day', () => {
    // Amsterdam, 27 October 2024: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    expect(fires(daily0230, 'Europe/Amsterdam', '2024-10-25T12:00:00Z', 4)).toEqual([
      '2024-10-26T00:30Z',
      '2024-10-27T00:30Z',
      '2024-10-28T01:30Z',
      '2024-10-29T01:30Z',
    ]);
  });

  it('does not fire the repeated 02:30 when asked from inside the repeated hour', () => {
    const tt = timetableOf(daily0230, 'Europe/Amsterdam');
    // 02:10 CET, the second pass through 02:xx.
    expect(iso(tt.next(Date.parse('2024-10-27T01:10:00Z')) ?? 0)).toBe('2024-10-28T01:30Z');
  });

  it('keeps an every-30-minutes event on elapsed time through both changes', () => {
    const every30 = interval({ type: 'Minutes', every: 30, offset: 0 });
    expect(fires(every30, 'Europe/Amsterdam', '2024-03-31T00:00:00Z', 4)).toEqual([
      '2024-03-31T00:30Z',
      '2024-03-31T01:00Z',
      '2024-03-31T01:30Z',
      '2024-03-31T02:00Z',
    ]);
    expect(fires(every30, 'Europe/Amsterdam', '2024-10-27T00:00:00Z', 4)).toEqual([
      '2024-10-27T00:30Z',
      '2024-10-27T01:00Z',
      '2024-10-27T01:30Z',
      '2024-10-27T02:00Z',
    ]);
  });

  it('runs an hourly event every hour through a fall-back, and once per remaining hour through a spring-forward', () => {
    const hourly = interval({ type: 'Hourly', every: 1, minute: 15 });
    // New York, 3 November 2024: 01:15 EDT and 01:15 EST are an hour apart; both run.
    expect(fires(hourly, 'America/New_York', '2024-11-03T04:00:00Z', 4)).toEqual([
      '2024-11-03T04:15Z',
      '2024-11-03T05:15Z',
      '2024-11-03T06:15Z',
      '2024-11-03T07:15Z',
    ]);
    // 10 March 2024: 02:15 does not exist; 01:15 EST is followed by 03:15 EDT, an hour later.
    expect(fires(hourly, 'America/New_York', '2024-03-10T05:30:00Z', 3)).toEqual([
      '2024-03-10T06:15Z',
      '2024-03-10T07:15Z',
      '2024-03-10T08:15Z',
    ]);
  });

  it('runs a every-12-hours event once per wall time on the change days', () => {
    const twice = interval({ type: 'Hourly', every: 12, minute: 150 });
    // 02:30 and 14:30 in Amsterdam around the spring change.
    expect(fires(twice, 'Europe/Amsterdam', '2024-03-30T12:00:00Z', 4)).toEqual([
      '2024-03-30T13:30Z',
      '2024-03-31T01:00Z',
      '2024-03-31T12:30Z',
      '2024-04-01T00:30Z',
    ]);
  });

  it('runs a cron job with fixed hours once per wall time, and a wildcard-hour one on elapsed time', () => {
    const fixed = cron('*/20 2 * * *', { minutes: [0, 20, 40], hours: [2] });
    // Spring forward: 02:00, 02:20 and 02:40 do not exist; they run once, at the jump.
    expect(fires(fixed, 'Europe/Amsterdam', '2024-03-30T12:00:00Z', 4)).toEqual([
      '2024-03-31T01:00Z',
      '2024-04-01T00:00Z',
      '2024-04-01T00:20Z',
      '2024-04-01T00:40Z',
    ]);
    // Fall back: the first 02:00–02:40 run; the repeated ones do not.
    expect(fires(fixed, 'Europe/Amsterdam', '2024-10-26T12:00:00Z', 4)).toEqual([
      '2024-10-27T00:00Z',
      '2024-10-27T00:20Z',
      '2024-10-27T00:40Z',
      '2024-10-28T01:00Z',
    ]);
    const wildcard = cron('30 * * * *', { minutes: [30] });
    expect(fires(wildcard, 'Europe/Amsterdam', '2024-10-26T23:45:00Z', 3)).toEqual([
      '2024-10-27T00:30Z',
      '2024-10-27T01:30Z',
      '2024-10-27T02:30Z',
    ]);
  });

  it('follows a zone whose clock moves by half an hour', () => {
    // Lord Howe: 02:00 +10:30 becomes 02:30 +11 on 6 October 2024.
    expect(fires(daily0230, 'Australia/Lord_Howe', '2024-10-04T00:00:00Z', 3)).toEqual([
      '2024-10-04T16:00Z',
      '2024-10-05T15:30Z',
      '2024-10-06T15:30Z',
    ]);
  });
});

describe('timetables of cron expressions', () => {
  it('fires on weekdays only (MON-FRI)', () => {
    const spec = cron('0 3 * * MON-FRI', {
      minutes: [0],
      hours: [3],
      daysOfWeek: [1, 2, 3, 4, 5],
      dayOfWeekRestricted: true,
    });
    expect(fires(spec, 'UTC', '2024-05-03T04:00:00Z', 3)).toEqual([
      '2024-05-06T03:00Z',
      '2024-05-07T03:00Z',
      '2024-05-08T03:00Z',
    ]);
  });

  it('fires when either day field matches if both are restricted, as cron does', () => {
    const spec = cron('0 0 13 * FRI', {
      minutes: [0],
      hours: [0],
      daysOfMonth: [13],
      daysOfWeek: [5],
      dayOfMonthRestricted: true,
      dayOfWeekRestricted: true,
    });
    expect(fires(spec, 'UTC', '2024-09-01T00:00:00Z', 4)).toEqual([
      '2024-09-06T00:00Z',
      '2024-09-13T00:00Z',
      '2024-09-20T00:00Z',
      '2024-09-27T00:00Z',
    ]);
  });

  it('needs both day fields when one starts with *, even with a step (*/10 is days 1, 11, 21, 31)', () => {
    const spec = cron('0 12 */10 * MON', {
      minutes: [0],
      hours: [12],
      daysOfMonth: [1, 11, 21, 31],
      daysOfWeek: [1],
      dayOfMonthRestricted: false,
      dayOfWeekRestricted: true,
    });
    // Mondays that are the 1st, 11th, 21st or 31st.
    expect(fires(spec, 'UTC', '2024-01-01T13:00:00Z', 3)).toEqual([
      '2024-03-11T12:00Z',
      '2024-04-01T12:00Z',
      '2024-07-01T12:00Z',
    ]);
  });

  it('fires a 29 February job only in leap years', () => {
    const spec = cron('0 0 29 2 *', {
      minutes: [0],
      hours: [0],
      daysOfMonth: [29],
      months: [2],
      dayOfMonthRestricted: true,
    });
    expect(fires(spec, 'UTC', '2024-03-01T00:00:00Z', 2)).toEqual(['2028-02-29T00:00Z', '2032-02-29T00:00Z']);
  });

  it('never fires an expression no date matches (30 February)', () => {
    const spec = cron('0 0 30 2 *', {
      minutes: [0],
      hours: [0],
      daysOfMonth: [30],
      months: [2],
      dayOfMonthRestricted: true,
    });
    expect(timetableOf(spec, 'UTC').next(Date.parse('2024-01-01T00:00:00Z'))).toBeUndefined();
  });
});

describe('fixed periods and descriptions', () => {
  it('fires a fixed period at its multiples since the epoch, so every replica agrees', () => {
    expect(fires({ kind: 'every', everyMs: 300_000 }, 'UTC', '2024-01-01T00:01:00Z', 3)).toEqual([
      '2024-01-01T00:05Z',
      '2024-01-01T00:10Z',
      '2024-01-01T00:15Z',
    ]);
    expect(timetableOf({ kind: 'every', everyMs: 200 }, 'UTC').next(1000)).toBe(1200);
  });

  it('refuses a period that is not a positive whole number of milliseconds', () => {
    for (const everyMs of [0, -5, 1.5, Number.NaN]) {
      expect(() => timetableOf({ kind: 'every', everyMs }, 'UTC')).toThrow(
        expect.objectContaining({ code: SchedulingErrorCode.IntervalInvalid }),
      );
    }
  });

  it('describes each timetable in words that name its zone', () => {
    const d = (spec: ScheduleSpec, zone = 'UTC'): string => timetableOf(spec, zone).description;
    expect(d(interval({ type: 'Minutes', every: 5, offset: 2 }))).toBe('every 5 minutes from minute 2 (UTC)');
    expect(d(interval({ type: 'Hourly', every: 3, minute: 90 }))).toBe('every 3 hours at +90 min (UTC)');
    expect(d(interval({ type: 'Daily', time: at(2, 30) }), 'Europe/Amsterdam')).toBe(
      'daily at 02:30 (Europe/Amsterdam)',
    );
    expect(d(interval({ type: 'Weekly', days: ['Friday', 'Monday'], time: at(8, 5) }))).toBe(
      'weekly on Mon, Fri at 08:05 (UTC)',
    );
    expect(
      d(
        interval({
          type: 'Monthly',
          every: 1,
          on: { weekday: { week: 'last', day: 'Friday' } },
          time: at(17, 0),
        }),
      ),
    ).toBe('monthly on the last Friday at 17:00 (UTC)');
    expect(d(interval({ type: 'Yearly', month: 2, on: { day: 29 }, time: at(0, 0) }))).toBe(
      'yearly in Feb on day 29 at 00:00 (UTC)',
    );
    expect(d(cron('0 3 * * MON-FRI', {}))).toBe('cron 0 3 * * MON-FRI (UTC)');
    expect(d({ kind: 'every', everyMs: 300_000 })).toBe('every 5 minutes');
    expect(d(interval({ type: 'Minutes', every: 1, offset: 0 }))).toBe('every minute (UTC)');
    expect(d({ kind: 'every', everyMs: 1500 })).toBe('every 1500 ms');
  });

  it('refuses an unknown zone', () => {
    expect(() => timetableOf(interval({ type: 'Daily', time: at(1, 0) }), 'Nowhere/Town')).toThrow(
      expect.objectContaining({ code: SchedulingErrorCode.TimeZoneInvalid }),
    );
  });
});
