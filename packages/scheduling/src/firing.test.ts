import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FireReason,
  OverlapPolicy,
  PassReason,
  RunStatus,
  decideFiring,
  passedFireTimes,
  recordRunEnd,
  runIdOf,
  type FiringDecision,
  type FiringInput,
  type FiringState,
} from './firing.js';
import { timetableOf, type Timetable } from './timetable.js';

const MIN = 60_000;
const T0 = Date.parse('2024-05-01T00:00:00Z');
const every5 = timetableOf({ kind: 'interval', interval: { type: 'Minutes', every: 5, offset: 0 } }, 'UTC');

function input(
  overrides: Partial<FiringInput> & { state: FiringState | undefined; nowMs: number },
): FiringInput {
  return {
    name: 'Sales.Report',
    timetable: every5,
    overlap: OverlapPolicy.Skip,
    enabled: true,
    misfireWindowMs: 0,
    runTimeoutMs: 60 * MIN,
    ...overrides,
  };
}

const started = (at: number, timetable: Timetable = every5): FiringState => ({
  timetable: timetable.description,
  handledThroughMs: at,
});

describe('decideFiring', () => {
  it('starts a schedule seen for the first time from now, without firing anything of the past', () => {
    const d = decideFiring(input({ state: undefined, nowMs: T0 + 7 * MIN }));
    expect(d.action).toEqual({ kind: 'start' });
    expect(d.state).toEqual({ timetable: every5.description, handledThroughMs: T0 + 7 * MIN });
    expect(d.wakeAtMs).toBe(T0 + 10 * MIN);
  });

  it('does nothing before the next fire time, and says when to look again', () => {
    const state = started(T0);
    const d = decideFiring(input({ state, nowMs: T0 + 4 * MIN }));
    expect(d).toEqual({ action: { kind: 'none' }, state, wakeAtMs: T0 + 5 * MIN });
  });

  it('fires a due time with the deterministic run id <name>@<fireAtMs>', () => {
    const d = decideFiring(input({ state: started(T0), nowMs: T0 + 5 * MIN + 30 }));
    const run = {
      runId: `Sales.Report@${T0 + 5 * MIN}`,
      slotMs: T0 + 5 * MIN,
      firedAtMs: T0 + 5 * MIN + 30,
      status: RunStatus.Queued,
    };
    expect(d.action).toEqual({ kind: 'fire', run, reason: FireReason.Due });
    expect(d.state).toEqual({ ...started(T0 + 5 * MIN), lastRun: run });
    expect(runIdOf('Sales.Report', T0 + 5 * MIN)).toBe(run.runId);
    // Still going at the next time: the next decision wakes then.
    expect(d.wakeAtMs).toBe(T0 + 10 * MIN);
  });

  it('fires a run missed during downtime once — the latest missed time — then continues from now', () => {
    const state = started(T0);
    const d = decideFiring(input({ state, nowMs: T0 + 62 * MIN }));
    expect(d.action).toMatchObject({
      kind: 'fire',
      reason: FireReason.CatchUp,
      firstPassedMs: T0 + 5 * MIN,
      run: { slotMs: T0 + 60 * MIN },
    });
    const after = decideFiring(input({ state: d.state, nowMs: T0 + 62 * MIN }));
    expect(after.action).toEqual({ kind: 'none' });
    expect(after.wakeAtMs).toBe(T0 + 65 * MIN);
  });

  it('gives the same decision on every replica that reads the same record (what makes a fail-over idempotent)', () => {
    const state = started(T0);
    const a = decideFiring(input({ state, nowMs: T0 + 12 * MIN }));
    const b = decideFiring(input({ state, nowMs: T0 + 14 * MIN }));
    expect(a.action.kind === 'fire' && a.action.run.runId).toBe(
      b.action.kind === 'fire' && b.action.run.runId,
    );
  });

  it('records a missed run instead of firing it when it is later than the misfire window', () => {
    const d = decideFiring(input({ state: started(T0), nowMs: T0 + 62 * MIN, misfireWindowMs: MIN }));
    expect(d.action).toEqual({ kind: 'pass', slotMs: T0 + 60 * MIN, reason: PassReason.Missed });
    expect(d.state?.lastPassed).toEqual({ slotMs: T0 + 60 * MIN, atMs: T0 + 62 * MIN, reason: 'missed' });
    expect(
      decideFiring(input({ state: started(T0), nowMs: T0 + 62 * MIN, misfireWindowMs: 5 * MIN })).action.kind,
    ).toBe('fire');
  });

  describe('Skip next (the default)', () => {
    it('skips a time that comes while the previous run is still going, and records it as skipped', () => {
      const fired = decideFiring(input({ state: started(T0), nowMs: T0 + 5 * MIN }));
      const d = decideFiring(input({ state: fired.state, nowMs: T0 + 10 * MIN }));
      expect(d.action).toEqual({ kind: 'pass', slotMs: T0 + 10 * MIN, reason: PassReason.Skipped });
      expect(d.state?.lastRun?.slotMs).toBe(T0 + 5 * MIN);
      expect(d.state?.handledThroughMs).toBe(T0 + 10 * MIN);
    });

    it('fires at the next time once the previous run has finished, not before', () => {
      const fired = decideFiring(input({ state: started(T0), nowMs: T0 + 5 * MIN }));
      const skipped = decideFiring(input({ state: fired.state, nowMs: T0 + 10 * MIN }));
      const ended = recordRunEnd(
        skipped.state!,
        runIdOf('Sales.Report', T0 + 5 * MIN),
        RunStatus.Completed,
        T0 + 11 * MIN,
      );
      expect(ended?.lastRun).toMatchObject({ status: 'completed', finishedAtMs: T0 + 11 * MIN });
      expect(decideFiring(input({ state: ended, nowMs: T0 + 11 * MIN })).action.kind).toBe('none');
      expect(decideFiring(input({ state: ended, nowMs: T0 + 15 * MIN })).action).toMatchObject({
        kind: 'fire',
        reason: 'due',
        run: { slotMs: T0 + 15 * MIN },
      });
    });

    it('presumes a run over when no word of its end came within the run timeout', () => {
      const fired = decideFiring(input({ state: started(T0), nowMs: T0 + 5 * MIN, runTimeoutMs: 12 * MIN }));
      expect(fired.wakeAtMs).toBe(T0 + 10 * MIN);
      const skipped = decideFiring(
        input({ state: fired.state, nowMs: T0 + 10 * MIN, runTimeoutMs: 12 * MIN }),
      );
      expect(skipped.action.kind).toBe('pass');
      // Awake when the run is presumed over, before the next time.
      expect(skipped.wakeAtMs).toBe(T0 + 15 * MIN);
      expect(
        decideFiring(input({ state: skipped.state, nowMs: T0 + 20 * MIN, runTimeoutMs: 12 * MIN })).action
          .kind,
      ).toBe('fire');
    });
  });

  describe('Delay next', () => {
    const delay = { overlap: OverlapPolicy.Delay };

    it('holds a time that comes while the previous run is going, and fires it as soon as that run ends', () => {
      const fired = decideFiring(input({ ...delay, state: started(T0), nowMs: T0 + 5 * MIN }));
      const held = decideFiring(input({ ...delay, state: fired.state, nowMs: T0 + 10 * MIN }));
      expect(held.action).toEqual({ kind: 'delay', slotMs: T0 + 10 * MIN });
      expect(decideFiring(input({ ...delay, state: held.state, nowMs: T0 + 12 * MIN })).action.kind).toBe(
        'none',
      );
      const ended = recordRunEnd(held.state!, fired.state!.lastRun!.runId, RunStatus.Failed, T0 + 13 * MIN)!;
      const d = decideFiring(input({ ...delay, state: ended, nowMs: T0 + 13 * MIN }));
      expect(d.action).toEqual({
        kind: 'fire',
        reason: FireReason.Delayed,
        run: {
          runId: runIdOf('Sales.Report', T0 + 10 * MIN),
          slotMs: T0 + 10 * MIN,
          firedAtMs: T0 + 13 * MIN,
          status: 'queued',
        },
      });
    });

    it('makes one delayed run of several times that came while the previous run was going', () => {
      const fired = decideFiring(input({ ...delay, state: started(T0), nowMs: T0 + 5 * MIN }));
      let state = fired.state;
      for (const at of [10, 15, 20]) {
        state = decideFiring(input({ ...delay, state, nowMs: T0 + at * MIN })).state;
      }
      expect(state?.delayedSlotMs).toBe(T0 + 20 * MIN);
      const ended = recordRunEnd(state!, fired.state!.lastRun!.runId, RunStatus.Completed, T0 + 21 * MIN)!;
      const d = decideFiring(input({ ...delay, state: ended, nowMs: T0 + 21 * MIN }));
      expect(d.action).toMatchObject({ kind: 'fire', run: { slotMs: T0 + 20 * MIN } });
      expect(decideFiring(input({ ...delay, state: d.state, nowMs: T0 + 21 * MIN })).action.kind).toBe(
        'none',
      );
    });
  });

  it('pauses a switched-off schedule, and starts afresh — without catching up — when it is switched on', () => {
    const paused = decideFiring(input({ state: started(T0), nowMs: T0 + 3 * MIN, enabled: false }));
    expect(paused.action).toEqual({ kind: 'pause' });
    expect(paused.wakeAtMs).toBeUndefined();
    expect(
      decideFiring(input({ state: paused.state, nowMs: T0 + 30 * MIN, enabled: false })).action.kind,
    ).toBe('none');
    const resumed = decideFiring(input({ state: paused.state, nowMs: T0 + 90 * MIN }));
    expect(resumed.action).toEqual({ kind: 'start' });
    expect(resumed.state?.handledThroughMs).toBe(T0 + 90 * MIN);
    expect(decideFiring(input({ state: undefined, nowMs: T0, enabled: false })).action.kind).toBe('none');
  });

  it('starts afresh when the timetable changed, keeping the last run for the overlap policy', () => {
    const fired = decideFiring(input({ state: started(T0), nowMs: T0 + 5 * MIN }));
    const hourly = timetableOf(
      { kind: 'interval', interval: { type: 'Hourly', every: 1, minute: 0 } },
      'UTC',
    );
    const d = decideFiring(input({ timetable: hourly, state: fired.state, nowMs: T0 + 200 * MIN }));
    expect(d.action).toEqual({ kind: 'start' });
    expect(d.state).toMatchObject({
      timetable: hourly.description,
      handledThroughMs: T0 + 200 * MIN,
      lastRun: fired.state?.lastRun,
    });
  });

  it('records a run end only for the latest run, and only once', () => {
    const fired = decideFiring(input({ state: started(T0), nowMs: T0 + 5 * MIN })).state!;
    expect(recordRunEnd(fired, 'Sales.Report@1', RunStatus.Completed, T0)).toBeUndefined();
    const ended = recordRunEnd(fired, fired.lastRun!.runId, RunStatus.Completed, T0 + 6 * MIN)!;
    expect(recordRunEnd(ended, fired.lastRun!.runId, RunStatus.Failed, T0 + 7 * MIN)).toBeUndefined();
  });

  it('finds the passed fire times of a long downtime cheaply', () => {
    const everyMinute = timetableOf(
      { kind: 'interval', interval: { type: 'Minutes', every: 1, offset: 0 } },
      'UTC',
    );
    const year = 366 * 24 * 60 * MIN;
    expect(passedFireTimes(everyMinute, T0, T0 + year + 30)).toEqual({
      earliestMs: T0 + MIN,
      latestMs: T0 + year,
    });
    expect(passedFireTimes(everyMinute, T0, T0 + 59_999)).toBeUndefined();
  });
});

/**
 * A simulation of one schedule over many fire times: a leader that goes down and comes
 * back, runs of random length, reports of their ends. What must hold whatever happens.
 */
describe('firing over a simulated timeline', () => {
  interface Run {
    readonly runId: string;
    readonly slotMs: number;
    readonly startMs: number;
    readonly endMs: number;
  }

  function simulate(
    overlap: OverlapPolicy,
    downtimes: readonly (readonly [number, number])[],
    durations: readonly number[],
  ): { runs: Run[]; timetable: Timetable; endMs: number } {
    const timetable = every5;
    const endMs = T0 + 24 * 60 * MIN;
    const isUp = (t: number): boolean => !downtimes.some(([a, b]) => t >= a && t < b);
    const runs: Run[] = [];
    let state: FiringState | undefined = started(T0);
    let now = T0;
    let guard = 0;
    while (now < endMs && guard++ < 10_000) {
      // Runs that ended by now are reported (the report is applied to the record by anyone).
      for (const r of runs) {
        if (r.endMs <= now && state !== undefined) {
          state = recordRunEnd(state, r.runId, RunStatus.Completed, r.endMs) ?? state;
        }
      }
      let wake: number | undefined = endMs;
      if (isUp(now)) {
        for (let i = 0; i < 10; i++) {
          const d: FiringDecision = decideFiring({
            name: 'S',
            timetable,
            overlap,
            enabled: true,
            state,
            nowMs: now,
            misfireWindowMs: 0,
            runTimeoutMs: 24 * 60 * MIN,
          });
          state = d.state;
          wake = d.wakeAtMs;
          if (d.action.kind === 'none') break;
          if (d.action.kind === 'fire') {
            const duration = durations[runs.length % durations.length] ?? MIN;
            runs.push({
              runId: d.action.run.runId,
              slotMs: d.action.run.slotMs,
              startMs: now,
              endMs: now + duration,
            });
          }
        }
      }
      const candidates = [
        wake ?? endMs,
        ...runs.map((r) => r.endMs).filter((t) => t > now),
        ...downtimes.flatMap(([a, b]) => [a, b]).filter((t) => t > now),
        endMs,
      ];
      now = Math.min(...candidates);
    }
    return { runs, timetable, endMs };
  }

  const downtimesArb = fc
    .array(fc.tuple(fc.integer({ min: 0, max: 23 * 60 }), fc.integer({ min: 1, max: 120 })), { maxLength: 4 })
    .map((list) =>
      list.map(([start, length]) => [T0 + start * MIN + 17, T0 + (start + length) * MIN + 17] as const),
    );
  const durationsArb = fc.array(fc.integer({ min: 1_000, max: 20 * MIN }), { minLength: 1, maxLength: 8 });

  it('fires only at timetable times, never the same time twice, and never two runs at once under Skip next', () => {
    fc.assert(
      fc.property(downtimesArb, durationsArb, (downtimes, durations) => {
        const { runs, timetable } = simulate(OverlapPolicy.Skip, downtimes, durations);
        expect(new Set(runs.map((r) => r.runId)).size).toBe(runs.length);
        for (const r of runs) expect(timetable.next(r.slotMs - 1)).toBe(r.slotMs);
        for (let i = 1; i < runs.length; i++) {
          expect(runs[i]!.startMs).toBeGreaterThanOrEqual(runs[i - 1]!.endMs);
          expect(runs[i]!.slotMs).toBeGreaterThan(runs[i - 1]!.slotMs);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('fires every time while the leader is up unless a run is still going, and once per downtime at most', () => {
    fc.assert(
      fc.property(downtimesArb, (downtimes) => {
        const { runs, timetable, endMs } = simulate(OverlapPolicy.Skip, downtimes, [MIN]);
        const fired = new Set(runs.map((r) => r.slotMs));
        const isDown = (t: number): boolean => downtimes.some(([a, b]) => t >= a && t < b);
        for (let s = timetable.next(T0); s !== undefined && s < endMs; s = timetable.next(s)) {
          const busy = runs.some((r) => r.startMs <= s && s < r.endMs);
          if (!isDown(s) && !busy) expect(fired.has(s)).toBe(true);
        }
        // Times inside one stretch of downtime: at most one of them fires (the latest, at restart).
        for (const [a, b] of downtimes) {
          const inside = runs.filter(
            (r) =>
              r.slotMs >= a && r.slotMs < b && !downtimes.some(([c, d]) => r.startMs >= c && r.startMs < d),
          );
          const merged = downtimes.filter(([c, d]) => c < b && d > a);
          expect(inside.length).toBeLessThanOrEqual(merged.length);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('under Delay next, starts every held run right when the one before it ends, and loses no stretch of time', () => {
    fc.assert(
      fc.property(durationsArb, (durations) => {
        const { runs } = simulate(OverlapPolicy.Delay, [], durations);
        for (let i = 1; i < runs.length; i++) {
          const prev = runs[i - 1]!;
          const run = runs[i]!;
          expect(run.startMs).toBeGreaterThanOrEqual(prev.endMs);
          // A run that starts late was held: it starts the moment the previous one ended.
          if (run.startMs > run.slotMs) expect(run.startMs).toBe(prev.endMs);
        }
        // No gap without a run that is longer than one interval plus the longest run.
        const longest = Math.max(...durations);
        for (let i = 1; i < runs.length; i++) {
          expect(runs[i]!.startMs - runs[i - 1]!.endMs).toBeLessThanOrEqual(5 * MIN + longest);
        }
      }),
      { numRuns: 150 },
    );
  });
});
