/**
 * Wall-clock time in a time zone, on top of `Intl` (no tz database of our own).
 *
 * A *wall time* is a local date and time written as milliseconds since 1970-01-01T00:00
 * of the local calendar, as if the zone were UTC: `Date.UTC(y, m - 1, d, h, min)`. The
 * local clock `L(t) = t + offset(t)` maps instants to wall times; it jumps forward at a
 * spring-forward change (some wall times never happen) and back at a fall-back change
 * (some happen twice).
 */
import { timeZoneInvalid } from './errors.js';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Entries kept per zone in the offset cache before it is emptied. */
const OFFSET_CACHE_ENTRIES = 20_000;

/** The rules of one time zone: offsets, and the instants of a wall time. */
export class TimeZone {
  /** The IANA name, or `UTC`. */
  readonly name: string;
  readonly #format: Intl.DateTimeFormat | undefined;
  // Offsets by minute: every change of the tz database since 1970 falls on a whole minute.
  readonly #offsets = new Map<number, number>();

  private constructor(name: string, format: Intl.DateTimeFormat | undefined) {
    this.name = name;
    this.#format = format;
  }

  /** The zone named `name` (`UTC` or an IANA name); throws `SCHEDULE_TIME_ZONE_INVALID` otherwise. */
  static of(name: string): TimeZone {
    const cached = zones.get(name);
    if (cached !== undefined) return cached;
    if (name === 'UTC' || name === 'Etc/UTC') {
      const utc = new TimeZone(name, undefined);
      zones.set(name, utc);
      return utc;
    }
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: name,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        era: 'short',
      });
    } catch {
      throw timeZoneInvalid(name);
    }
    const zone = new TimeZone(name, format);
    zones.set(name, zone);
    return zone;
  }

  /** True for UTC, where wall time and instant are the same. */
  get isUtc(): boolean {
    return this.#format === undefined;
  }

  /** The zone's offset from UTC at an instant, in milliseconds (local minus UTC). */
  offsetMs(instantMs: number): number {
    if (this.#format === undefined) return 0;
    const minute = Math.floor(instantMs / MINUTE_MS);
    const cached = this.#offsets.get(minute);
    if (cached !== undefined) return cached;
    const at = minute * MINUTE_MS;
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let min = 0;
    let sec = 0;
    let bc = false;
    for (const part of this.#format.formatToParts(at)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          min = Number(part.value);
          break;
        case 'second':
          sec = Number(part.value);
          break;
        case 'era':
          bc = part.value.startsWith('B');
          break;
        default:
          break;
      }
    }
    const wall = utcMs(bc ? 1 - year : year, month, day, hour, min, sec);
    const offset = wall - at;
    if (this.#offsets.size >= OFFSET_CACHE_ENTRIES) this.#offsets.clear();
    this.#offsets.set(minute, offset);
    return offset;
  }

  /** The wall time at an instant. */
  wallOf(instantMs: number): number {
    return instantMs + this.offsetMs(instantMs);
  }

  /**
   * The instants whose wall time is `wallMs`, ascending: one normally, none in a
   * spring-forward gap, two in a fall-back overlap.
   */
  occurrences(wallMs: number): number[] {
    if (this.#format === undefined) return [wallMs];
    // Offsets a day either side bound every offset in effect near this wall time (zones
    // change offset at most once within a couple of days).
    const before = this.offsetMs(wallMs - DAY_MS);
    const after = this.offsetMs(wallMs + DAY_MS);
    const out: number[] = [];
    for (const offset of before === after ? [before] : [before, after]) {
      const t = wallMs - offset;
      if (this.offsetMs(t) === offset && !out.includes(t)) out.push(t);
    }
    return out.sort((a, b) => a - b);
  }

  /**
   * The earliest instant at which the local clock shows `wallMs` or later: the wall
   * time's first occurrence, or — when it falls in a spring-forward gap — the instant the
   * clock jumps over it. Never decreases as `wallMs` grows.
   */
  firstAtOrAfter(wallMs: number): number {
    const [first] = this.occurrences(wallMs);
    if (first !== undefined) return first;
    // In a gap: the change lies between the instant read with the later offset and the one
    // read with the earlier; the local clock only grows there, so search it.
    const before = this.offsetMs(wallMs - DAY_MS);
    const after = this.offsetMs(wallMs + DAY_MS);
    let lo = wallMs - Math.max(before, after);
    let hi = wallMs - Math.min(before, after);
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.wallOf(mid) >= wallMs) hi = mid;
      else lo = mid;
    }
    return hi;
  }
}

const zones = new Map<string, TimeZone>();

/** `Date.UTC` with a 1-based month, also for years 0–99 (which `Date.UTC` would shift to 19xx). */
export function utcMs(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): number {
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, 0);
  return d.getTime();
}

/** A wall time's calendar fields. */
export interface WallFields {
  readonly year: number;
  /** 1–12. */
  readonly month: number;
  /** 1–31. */
  readonly day: number;
  /** 0 = Sunday … 6 = Saturday. */
  readonly weekday: number;
  readonly hour: number;
  readonly minute: number;
}

/** The calendar fields of a wall time. */
export function fieldsOf(wallMs: number): WallFields {
  const d = new Date(wallMs);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    weekday: d.getUTCDay(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  };
}

/** Days in a month of a (proleptic Gregorian) year. */
export function daysInMonth(year: number, month: number): number {
  return new Date(utcMs(year, month + 1, 1) - DAY_MS).getUTCDate();
}
