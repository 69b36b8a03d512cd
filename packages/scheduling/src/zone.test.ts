import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { SchedulingErrorCode } from './errors.js';
import { TimeZone, daysInMonth, fieldsOf, utcMs } from './zone.js';

const ZONES = [
  'UTC',
  'Europe/Amsterdam',
  'Europe/London',
  'America/New_York',
  'America/Sao_Paulo',
  'Australia/Sydney',
  'Australia/Lord_Howe',
  'Asia/Kolkata',
  'Asia/Kathmandu',
  'Pacific/Chatham',
  'America/St_Johns',
  'Pacific/Apia',
];

const iso = (t: number): string => new Date(t).toISOString();

describe('TimeZone', () => {
  it('reads the same offsets as an independent tz implementation, at any instant since 1970', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: 0, max: utcMs(2060, 1, 1) }),
        (name, instant) => {
          const expected = DateTime.fromMillis(instant, { zone: name }).offset * 60_000;
          expect(TimeZone.of(name).offsetMs(instant)).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('finds every instant of a wall time: one, none in a spring-forward gap, two in a fall-back', () => {
    const ams = TimeZone.of('Europe/Amsterdam');
    expect(ams.occurrences(utcMs(2024, 6, 1, 12, 0)).map(iso)).toEqual(['2024-06-01T10:00:00.000Z']);
    expect(ams.occurrences(utcMs(2024, 3, 31, 2, 30))).toEqual([]);
    expect(ams.occurrences(utcMs(2024, 10, 27, 2, 30)).map(iso)).toEqual([
      '2024-10-27T00:30:00.000Z',
      '2024-10-27T01:30:00.000Z',
    ]);
    const ny = TimeZone.of('America/New_York');
    expect(ny.occurrences(utcMs(2024, 3, 10, 2, 15))).toEqual([]);
    expect(ny.occurrences(utcMs(2024, 11, 3, 1, 15)).map(iso)).toEqual([
      '2024-11-03T05:15:00.000Z',
      '2024-11-03T06:15:00.000Z',
    ]);
  });

  it('places a wall time in a gap at the moment the clock jumps over it', () => {
    const ams = TimeZone.of('Europe/Amsterdam');
    // 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    for (const minute of [0, 1, 30, 59]) {
      expect(iso(ams.firstAtOrAfter(utcMs(2024, 3, 31, 2, minute)))).toBe('2024-03-31T01:00:00.000Z');
    }
    // Lord Howe moves its clock by half an hour.
    const lh = TimeZone.of('Australia/Lord_Howe');
    expect(iso(lh.firstAtOrAfter(utcMs(2024, 10, 6, 2, 10)))).toBe('2024-10-05T15:30:00.000Z');
    // Samoa skipped 30 December 2011 altogether.
    const apia = TimeZone.of('Pacific/Apia');
    expect(iso(apia.firstAtOrAfter(utcMs(2011, 12, 30, 9, 0)))).toBe('2011-12-30T10:00:00.000Z');
  });

  it('maps wall times to instants without ever going back as the wall time grows', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...ZONES),
        fc.integer({ min: utcMs(1990, 1, 1), max: utcMs(2050, 1, 1) }),
        fc.integer({ min: 0, max: 3 * 3_600_000 }),
        (name, wall, step) => {
          const zone = TimeZone.of(name);
          const a = zone.firstAtOrAfter(wall);
          const b = zone.firstAtOrAfter(wall + step);
          expect(b).toBeGreaterThanOrEqual(a);
          // The clock shows at least the wall time there, and showed less just before.
          expect(zone.wallOf(a)).toBeGreaterThanOrEqual(wall);
          expect(zone.wallOf(a - 1)).toBeLessThan(wall);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses a name that is no time zone, with a stable code', () => {
    expect(() => TimeZone.of('Mars/Olympus_Mons')).toThrow(
      expect.objectContaining({ code: SchedulingErrorCode.TimeZoneInvalid }),
    );
  });

  it('knows the calendar: month lengths, leap years, weekdays', () => {
    expect(daysInMonth(2024, 2)).toBe(29);
    expect(daysInMonth(2023, 2)).toBe(28);
    expect(daysInMonth(1900, 2)).toBe(28);
    expect(daysInMonth(2000, 2)).toBe(29);
    expect(daysInMonth(2024, 4)).toBe(30);
    expect(daysInMonth(2024, 12)).toBe(31);
    expect(fieldsOf(utcMs(2024, 2, 29, 13, 45))).toEqual({
      year: 2024,
      month: 2,
      day: 29,
      weekday: 4,
      hour: 13,
      minute: 45,
    });
  });
});
