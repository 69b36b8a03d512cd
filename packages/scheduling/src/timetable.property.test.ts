import fc from 'fast-check';
import { parseCron, type Interval, type NthWeekday, type Weekday } from '@runplane/model';
import { describe, expect, it } from 'vitest';
import { timetableOf, type ScheduleSpec, type Timetable } from './timetable.js';
import { TimeZone, daysInMonth, fieldsOf, utcMs } from './zone.js';

const DAY_MS = 86_400_000;
const WEEKDAYS: readonly Weekday[] = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
];

/** Zones with daylight saving on both hemispheres, odd offsets, and none. */
const ZONES = [
  'UTC',
  'Europe/Amsterdam',
  'America/New_York',
  'America/Sao_Paulo',
  'Australia/Sydney',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'America/St_Johns',
  'Pacific/Chatham',
];

const zoneArb = fc.constantFrom(...ZONES);
const instantArb = fc.integer({ min: utcMs(2013, 1, 1), max: utcMs(2040, 1, 1) });
const timeArb = fc.record({ hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }) });
const nthArb: fc.Arbitrary<NthWeekday> = fc.record({
  week: fc.constantFrom('first', 'second', 'third', 'fourth', 'last'),
  day: fc.constantFrom(...WEEKDAYS),
});
const onArb = (maxDay: number): fc.Arbitrary<{ day: number } | { weekday: NthWeekday }> =>
  fc.oneof(
    fc.integer({ min: 1, max: maxDay }).map((day) => ({ day })),
    nthArb.map((weekday) => ({ weekday })),
  );

const minutesArb: fc.Arbitrary<Interval> = fc
  .constantFrom(1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)
  .chain((every) =>
    fc.integer({ min: 0, max: every === 60 ? 59 : every - 1 }).map((offset) => ({
      type: 'Minutes' as const,
      every,
      offset,
    })),
  );
const hourlyArb: fc.Arbitrary<Interval> = fc
  .constantFrom(1, 2, 3, 4, 6, 8, 12, 24)
  .chain((every) =>
    fc.integer({ min: 0, max: 59 }).map((minute) => ({ type: 'Hourly' as const, every, minute })),
  );
const dailyArb: fc.Arbitrary<Interval> = timeArb.map((time) => ({ type: 'Daily' as const, time }));
const weeklyArb: fc.Arbitrary<Interval> = fc
  .record({
    days: fc.uniqueArray(fc.constantFrom(...WEEKDAYS), { minLength: 1, maxLength: 7 }),
    time: timeArb,
  })
  .map(({ days, time }) => ({ type: 'Weekly' as const, days, time }));
const monthlyArb: fc.Arbitrary<Interval> = fc
  .record({ every: fc.constantFrom(1, 2, 3, 4, 6, 12), on: onArb(31), time: timeArb })
  .map((m) => ({ type: 'Monthly' as const, ...m }));
const yearlyArb: fc.Arbitrary<Interval> = fc
  .integer({ min: 1, max: 12 })
  .chain((month) =>
    fc
      .record({ on: onArb([31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 28), time: timeArb })
      .map(({ on, time }) => ({ type: 'Yearly' as const, month, on, time })),
  );
const anyIntervalArb = fc.oneof(minutesArb, hourlyArb, dailyArb, weeklyArb, monthlyArb, yearlyArb);

const spec = (interval: Interval): ScheduleSpec => ({ kind: 'interval', interval });

/** A cron field: `*`, a step, or a list of values. */
const cronField = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.constant('*'),
    fc.integer({ min: 2, max: Math.max(2, Math.floor((max - min) / 2)) }).map((k) => `*/${k}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 4 }).map((v) => v.join(',')),
  );
const cronArb: fc.Arbitrary<ScheduleSpec> = fc
  .tuple(cronField(0, 59), cronField(0, 23), cronField(1, 28), cronField(1, 12), cronField(0, 6))
  .map((fields) => {
    const parsed = parseCron(fields.join(' '));
    if (!parsed.ok) throw new Error(parsed.problem.message);
    return { kind: 'cron' as const, cron: parsed.schedule };
  });
const anyScheduleArb: fc.Arbitrary<ScheduleSpec> = fc.oneof(anyIntervalArb.map(spec), cronArb);

/** The fire times in `[from, to)`. */
function firesBetween(tt: Timetable, from: number, to: number): number[] {
  const out: number[] = [];
  for (let t = tt.next(from - 1); t !== undefined && t < to; t = tt.next(t)) out.push(t);
  return out;
}

/** The local date (`y-m-d`) of an instant in a zone. */
function localDate(zone: TimeZone, t: number): string {
  const f = fieldsOf(zone.wallOf(t));
  return `${f.year}-${f.month}-${f.day}`;
}

describe('timetable properties', () => {
  it('gives a next fire time strictly later, with no fire time in between', () => {
    fc.assert(
      fc.property(
        anyScheduleArb,
        zoneArb,
        instantArb,
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (s, z, t, f) => {
          const tt = timetableOf(s, z);
          const next = tt.next(t);
          expect(next).toBeDefined();
          if (next === undefined) return;
          expect(next).toBeGreaterThan(t);
          const inBetween = t + Math.floor((next - t) * f);
          expect(tt.next(inBetween)).toBe(next);
          expect(tt.next(next - 1)).toBe(next);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('never goes back: a later instant never has an earlier next fire time', () => {
    fc.assert(
      fc.property(
        anyScheduleArb,
        zoneArb,
        instantArb,
        fc.integer({ min: 0, max: 40 * DAY_MS }),
        (s, z, t, d) => {
          const tt = timetableOf(s, z);
          expect(tt.next(t + d) ?? Infinity).toBeGreaterThanOrEqual(tt.next(t) ?? Infinity);
        },
      ),
      { numRuns: 600 },
    );
  });

  it('runs a daily event exactly once on every local day, daylight-saving days included', () => {
    fc.assert(
      fc.property(dailyArb, zoneArb, instantArb, (i, z, start) => {
        const zone = TimeZone.of(z);
        const tt = timetableOf(spec(i), z);
        const days = 400;
        const counts = new Map<string, number>();
        for (const t of firesBetween(tt, start, start + days * DAY_MS)) {
          counts.set(localDate(zone, t), (counts.get(localDate(zone, t)) ?? 0) + 1);
        }
        // Every whole local day inside the window: exactly one run.
        for (let d = 2; d < days - 1; d++) {
          expect(counts.get(localDate(zone, start + d * DAY_MS))).toBe(1);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('runs a weekly event exactly once on each chosen weekday, and never on the others', () => {
    fc.assert(
      fc.property(weeklyArb, zoneArb, instantArb, (i, z, start) => {
        if (i.type !== 'Weekly') return;
        const zone = TimeZone.of(z);
        const tt = timetableOf(spec(i), z);
        const days = 120;
        const counts = new Map<string, number>();
        for (const t of firesBetween(tt, start, start + days * DAY_MS)) {
          counts.set(localDate(zone, t), (counts.get(localDate(zone, t)) ?? 0) + 1);
        }
        const chosen = new Set(i.days.map((d) => WEEKDAYS.indexOf(d)));
        for (let d = 2; d < days - 1; d++) {
          const at = start + d * DAY_MS;
          const weekday = fieldsOf(zone.wallOf(at)).weekday;
          expect(counts.get(localDate(zone, at)) ?? 0).toBe(chosen.has(weekday) ? 1 : 0);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('runs a monthly event once in every chosen month, on the chosen day or the last day of a shorter month', () => {
    fc.assert(
      fc.property(monthlyArb, zoneArb, instantArb, (i, z, start) => {
        if (i.type !== 'Monthly') return;
        const zone = TimeZone.of(z);
        const tt = timetableOf(spec(i), z);
        const byMonth = new Map<string, number[]>();
        for (const t of firesBetween(tt, start, start + 800 * DAY_MS)) {
          const f = fieldsOf(zone.wallOf(t));
          const key = `${f.year}-${f.month}`;
          byMonth.set(key, [...(byMonth.get(key) ?? []), f.day]);
        }
        const first = fieldsOf(zone.wallOf(start));
        // Whole months after the first, for two years.
        for (let k = 1; k <= 24; k++) {
          const month = ((first.month - 1 + k) % 12) + 1;
          const year = first.year + Math.floor((first.month - 1 + k) / 12);
          const days = byMonth.get(`${year}-${month}`) ?? [];
          if ((month - 1) % i.every !== 0) {
            expect(days).toEqual([]);
            continue;
          }
          expect(days).toHaveLength(1);
          if ('day' in i.on) expect(days[0]).toBe(Math.min(i.on.day, daysInMonth(year, month)));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('runs a yearly event once a year, on 28 February for 29 February in common years', () => {
    fc.assert(
      fc.property(yearlyArb, zoneArb, fc.integer({ min: 2013, max: 2030 }), (i, z, year) => {
        if (i.type !== 'Yearly') return;
        const zone = TimeZone.of(z);
        const tt = timetableOf(spec(i), z);
        const fires = firesBetween(tt, utcMs(year, 1, 2), utcMs(year + 8, 1, 1));
        const years = fires.map((t) => fieldsOf(zone.wallOf(t)).year);
        expect(new Set(years).size).toBe(years.length);
        for (let y = year + 1; y < year + 8; y++) expect(years).toContain(y);
        for (const t of fires) {
          const f = fieldsOf(zone.wallOf(t));
          expect(f.month).toBe(i.month);
          if ('day' in i.on) expect(f.day).toBe(Math.min(i.on.day, daysInMonth(f.year, i.month)));
        }
      }),
      { numRuns: 30 },
    );
  });

  it('keeps minute intervals on elapsed time: consecutive runs exactly the interval apart, even across clock changes', () => {
    fc.assert(
      fc.property(minutesArb, zoneArb, instantArb, (i, z, start) => {
        if (i.type !== 'Minutes') return;
        const tt = timetableOf(spec(i), z);
        // A window around a change in either hemisphere half the time.
        const fires = firesBetween(tt, start, start + 3 * DAY_MS);
        for (let k = 1; k < fires.length; k++) {
          expect((fires[k] ?? 0) - (fires[k - 1] ?? 0)).toBe(i.every * 60_000);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('never fires a fixed time of day twice on a fall-back day: the clock reading grows from run to run', () => {
    const changeDays = [
      ['Europe/Amsterdam', utcMs(2024, 10, 26)],
      ['America/New_York', utcMs(2024, 11, 2)],
      ['Australia/Sydney', utcMs(2024, 4, 6)],
      ['America/Sao_Paulo', utcMs(2018, 2, 16)],
      ['Europe/Amsterdam', utcMs(2024, 3, 30)],
    ] as const;
    fc.assert(
      fc.property(
        fc.oneof(
          dailyArb,
          hourlyArb.filter((h) => h.type === 'Hourly' && h.every > 1),
        ),
        fc.constantFrom(...changeDays),
        (i, [z, day]) => {
          const zone = TimeZone.of(z);
          const tt = timetableOf(spec(i), z);
          const fires = firesBetween(tt, day, day + 3 * DAY_MS);
          for (let k = 1; k < fires.length; k++) {
            expect(zone.wallOf(fires[k] ?? 0)).toBeGreaterThan(zone.wallOf(fires[k - 1] ?? 0));
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
