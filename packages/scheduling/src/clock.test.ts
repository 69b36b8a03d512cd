import { describe, expect, it } from 'vitest';
import { MAX_TIMER_DELAY_MS, ManualClock, SystemClock, timerDelayMs, type TimerPrimitives } from './clock.js';

/** Timer primitives on a fake time line, recording every delay armed. */
function fakeTimers(startMs: number): TimerPrimitives & {
  armed: number[];
  /** Runs the earliest pending timer, moving the time to it. */
  runNext(): boolean;
  setNow(ms: number): void;
} {
  let now = startMs;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const armed: number[] = [];
  return {
    armed,
    now: () => now,
    setNow: (ms) => {
      now = ms;
    },
    setTimeout(fn, delayMs) {
      armed.push(delayMs);
      const id = seq++;
      pending.set(id, { at: now + delayMs, fn });
      return id;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
    runNext() {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of pending) if (first === undefined || entry[1].at < first[1].at) first = entry;
      if (first === undefined) return false;
      pending.delete(first[0]);
      now = Math.max(now, first[1].at);
      first[1].fn();
      return true;
    },
  };
}

describe('SystemClock', () => {
  it('waits 60 days in timeouts of at most 2^31-1 ms each, and fires once, at the time', () => {
    const timers = fakeTimers(1_000);
    const clock = new SystemClock(timers);
    const at = 1_000 + 60 * 86_400_000;
    const fired: number[] = [];
    clock.setTimer(at, () => fired.push(timers.now()));
    while (timers.runNext()) {
      /* run the time line to its end */
    }
    expect(fired).toEqual([at]);
    expect(timers.armed.length).toBeGreaterThan(2);
    for (const delay of timers.armed) expect(delay).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
  });

  it('re-arms instead of firing early when the wall clock was set back while waiting', () => {
    const timers = fakeTimers(0);
    const clock = new SystemClock(timers);
    const fired: number[] = [];
    clock.setTimer(10_000, () => fired.push(timers.now()));
    timers.setNow(-50_000);
    while (timers.runNext()) {
      /* run */
    }
    expect(fired).toEqual([10_000]);
  });

  it('fires at once for a time already passed, and never after a cancel', () => {
    const timers = fakeTimers(5_000);
    const clock = new SystemClock(timers);
    const fired: string[] = [];
    clock.setTimer(4_000, () => fired.push('past'));
    const cancel = clock.setTimer(9_000, () => fired.push('cancelled'));
    cancel();
    cancel();
    while (timers.runNext()) {
      /* run */
    }
    expect(fired).toEqual(['past']);
  });

  it('clamps delays to the range setTimeout takes', () => {
    expect(timerDelayMs(100, 200)).toBe(0);
    expect(timerDelayMs(200, 100)).toBe(100);
    expect(timerDelayMs(Number.MAX_SAFE_INTEGER, 0)).toBe(MAX_TIMER_DELAY_MS);
  });

  it('fires real timers through Node', async () => {
    const clock = new SystemClock();
    const start = clock.now();
    await new Promise<void>((resolve) => clock.setTimer(start + 5, resolve));
    expect(clock.now()).toBeGreaterThanOrEqual(start + 5);
  });
});

describe('ManualClock', () => {
  it('fires timers in time order as it is advanced, each with the clock at its time', () => {
    const clock = new ManualClock(0);
    const seen: [string, number][] = [];
    clock.setTimer(300, () => seen.push(['c', clock.now()]));
    clock.setTimer(100, () => {
      seen.push(['a', clock.now()]);
      // A timer armed by a timer still fires within the same advance when it is due.
      clock.setTimer(200, () => seen.push(['b', clock.now()]));
    });
    const cancel = clock.setTimer(250, () => seen.push(['x', clock.now()]));
    cancel();
    clock.advanceTo(299);
    expect(seen).toEqual([
      ['a', 100],
      ['b', 200],
    ]);
    expect(clock.now()).toBe(299);
    clock.advanceBy(1);
    expect(seen.at(-1)).toEqual(['c', 300]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires a timer set for the past on its own turn, not inside the caller', async () => {
    const clock = new ManualClock(1_000);
    let fired = false;
    clock.setTimer(500, () => {
      fired = true;
    });
    expect(fired).toBe(false);
    await Promise.resolve();
    expect(fired).toBe(true);
  });
});
