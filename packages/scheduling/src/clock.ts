/**
 * Time as the firing logic sees it: an injectable clock whose timers never arm a
 * `setTimeout` beyond what Node can hold.
 */

/**
 * The longest delay `setTimeout` takes (2^31 − 1 ms, about 24.8 days). A longer one is
 * clamped to 1 ms by Node and fires at once; a timer that must wait longer is re-armed
 * in steps of at most this.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Cancels a timer; cancelling twice, or after it fired, does nothing. */
export type CancelTimer = () => void;

/** The time, and timers at instants. */
export interface Clock {
  /** Now, in epoch milliseconds. */
  now(): number;
  /**
   * Calls `fn` once, when the clock reaches `atMs` (at once when it already has).
   * However far away `atMs` is, no single underlying timer exceeds {@link MAX_TIMER_DELAY_MS}.
   */
  setTimer(atMs: number, fn: () => void): CancelTimer;
}

/** The primitives a {@link SystemClock} uses; Node's by default. */
export interface TimerPrimitives {
  now(): number;
  setTimeout(fn: () => void, delayMs: number): unknown;
  clearTimeout(handle: unknown): void;
}

const nodeTimers: TimerPrimitives = {
  now: () => Date.now(),
  setTimeout: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimeout: (handle) => {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

/** The delay to arm for a timer at `atMs`: never negative, never above {@link MAX_TIMER_DELAY_MS}. */
export function timerDelayMs(atMs: number, nowMs: number): number {
  return Math.min(Math.max(0, atMs - nowMs), MAX_TIMER_DELAY_MS);
}

/**
 * The wall clock. A timer re-reads the clock when it wakes and re-arms if the time has
 * not come (a long wait in steps, or a clock set back), so it never fires early.
 */
export class SystemClock implements Clock {
  constructor(private readonly timers: TimerPrimitives = nodeTimers) {}

  now(): number {
    return this.timers.now();
  }

  setTimer(atMs: number, fn: () => void): CancelTimer {
    let handle: unknown;
    let cancelled = false;
    const arm = (): void => {
      const now = this.timers.now();
      if (now >= atMs) {
        fn();
        return;
      }
      handle = this.timers.setTimeout(
        () => {
          if (!cancelled) arm();
        },
        timerDelayMs(atMs, now),
      );
    };
    arm();
    return () => {
      cancelled = true;
      this.timers.clearTimeout(handle);
    };
  }
}

/** The process's wall clock. */
export const systemClock: Clock = new SystemClock();

/**
 * A clock that moves only when told: for tests and simulations of the firing logic.
 * Timers fire in time order as the clock is advanced past them.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<number, { atMs: number; fn: () => void }>();

  constructor(startMs: number) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  setTimer(atMs: number, fn: () => void): CancelTimer {
    const id = this.#seq++;
    if (atMs <= this.#now) {
      // Like a zero-delay timeout: never inside the caller's own stack.
      queueMicrotask(() => {
        if (this.#timers.delete(id)) fn();
      });
    }
    this.#timers.set(id, { atMs, fn });
    return () => {
      this.#timers.delete(id);
    };
  }

  /** Timers armed and not yet fired. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** Moves the clock to `atMs` (never back), firing every timer due on the way, in time order. */
  advanceTo(atMs: number): void {
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, t] of this.#timers) {
        if (t.atMs <= atMs && t.atMs < nextAt) {
          nextAt = t.atMs;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const timer = this.#timers.get(nextId);
      this.#timers.delete(nextId);
      this.#now = Math.max(this.#now, nextAt);
      timer?.fn();
    }
    this.#now = Math.max(this.#now, atMs);
  }

  /** Moves the clock forward by `ms`. */
  advanceBy(ms: number): void {
    this.advanceTo(this.#now + ms);
  }
}
