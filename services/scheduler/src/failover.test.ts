/**
 * Exactly once across fail-overs, with a real leader-election service and the machine's
 * NATS: two replicas share a simulated clock (minutes pass in milliseconds), their leases
 * run in real time, and the leader is crashed (stopped without resigning).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { busNames } from '@runplane/bus';
import { ManualClock, runIdOf } from '@runplane/scheduling';
import { FireRecords, eventKey, tokenOf } from './fire-records.js';
import { SchedulerErrorCode } from './errors.js';
import { createTestSite, eventually, type LogLine, type Replica, type TestSite } from './testing/harness.js';

const LEASE_TTL_MS = 3000;
const MINUTE = 60_000;
/** Simulated start: half a minute past midnight, so each minute passed brings one fire time. */
const T0 = Date.parse('2031-03-01T00:00:30Z');
const slot = (minute: number): number => Date.parse('2031-03-01T00:00:00Z') + minute * MINUTE;

let site: TestSite;

beforeEach(async () => {
  site = await createTestSite('failover');
});

afterEach(async () => {
  await site.cleanup();
});

/** The runs each replica logged firing, by run id. */
function fired(logs: readonly LogLine[]): Map<string, LogLine[]> {
  const out = new Map<string, LogLine[]>();
  for (const line of logs) {
    if (
      typeof line.runId === 'string' &&
      (line.msg === 'firing' || line.msg === 'firing a missed run once')
    ) {
      out.set(line.runId, [...(out.get(line.runId) ?? []), line]);
    }
  }
  return out;
}

const leading = (r: Replica): true | undefined => (r.scheduler.leading() ? true : undefined);

describe('the scheduler across fail-overs', () => {
  it('enqueues every due run exactly once: none twice, none lost, and a crashed leader’s missed times once', async () => {
    const clock = new ManualClock(T0);
    const election = await site.startElection(LEASE_TTL_MS);
    const env = {
      RUNPLANE_SCHEDULED_EVENTS: 'Clock.EveryMinute',
      // No executor here: a run is presumed over a second (simulated) after it fired.
      RUNPLANE_SCHEDULER_RUN_TIMEOUT_MS: '1000',
    };
    const options = { electionAddress: election.grpcAddress, leaseTtlMs: LEASE_TTL_MS, clock, env };
    const a = await site.startReplica({ name: 'a', ...options });
    await eventually(() => leading(a), 'a to lead');
    await a.scheduler.settled();
    const b = await site.startReplica({ name: 'b', ...options });

    const expected: string[] = [];
    for (let minute = 1; minute <= 5; minute++) {
      clock.advanceBy(MINUTE);
      await a.scheduler.settled();
      expected.push(runIdOf('Clock.EveryMinute', slot(minute)));
    }
    expect(await site.queuedRunIds()).toEqual(expected);

    // The leader dies without a word; three fire times pass before the lease lapses.
    await a.crash();
    clock.advanceBy(3 * MINUTE);
    expect(b.scheduler.leading()).toBe(false);
    await eventually(() => leading(b), 'b to take over');
    await b.scheduler.settled();
    // The missed times fire once: the latest of them.
    expected.push(runIdOf('Clock.EveryMinute', slot(8)));
    for (let minute = 9; minute <= 11; minute++) {
      clock.advanceBy(MINUTE);
      await b.scheduler.settled();
      expected.push(runIdOf('Clock.EveryMinute', slot(minute)));
    }

    expect(await site.queuedRunIds()).toEqual(expected);
    const byRun = fired(site.logs);
    expect([...byRun.keys()]).toEqual(expected);
    for (const [, lines] of byRun) expect(lines).toHaveLength(1);
    expect(byRun.get(runIdOf('Clock.EveryMinute', slot(8)))?.[0]).toMatchObject({
      node_id: b.nodeId,
      reason: 'catch-up',
      firstPassedMs: slot(6),
    });
    expect(site.logs.filter((l) => l.msg === 'run was already enqueued')).toEqual([]);
  });

  it('re-sends a run the crashed leader recorded but may not have sent, and the queue keeps it once', async () => {
    const clock = new ManualClock(T0);
    const election = await site.startElection(LEASE_TTL_MS);
    // Runs stay "queued" (no executor reports their end), so the new leader cannot tell
    // whether the old one enqueued the last run before it died, and sends it again.
    const env = { RUNPLANE_SCHEDULED_EVENTS: 'Clock.EveryMinute' };
    const options = { electionAddress: election.grpcAddress, leaseTtlMs: LEASE_TTL_MS, clock, env };
    const a = await site.startReplica({ name: 'a', ...options });
    await eventually(() => leading(a), 'a to lead');
    await a.scheduler.settled();
    const b = await site.startReplica({ name: 'b', ...options });
    clock.advanceBy(MINUTE);
    await a.scheduler.settled();
    await a.crash();
    await eventually(() => leading(b), 'b to take over');
    await b.scheduler.settled();
    // Skip next: the next time comes while the first run has not been reported finished.
    clock.advanceBy(MINUTE);
    await b.scheduler.settled();

    const first = runIdOf('Clock.EveryMinute', slot(1));
    expect(await site.queuedRunIds()).toEqual([first]);
    expect(site.logs.filter((l) => l.msg === 'run was already enqueued')).toMatchObject([
      { node_id: b.nodeId, runId: first },
    ]);
    expect(site.logs.filter((l) => l.msg === 'run skipped')).toMatchObject([
      { node_id: b.nodeId, fireAtMs: slot(2), reason: 'skipped' },
    ]);
  });

  it('stops a leader cut off from the election before another can lead, and fences it out of the records', async () => {
    const clock = new ManualClock(T0);
    // Each replica talks to its own election service; both share the lease in NATS.
    const electionA = await site.startElection(LEASE_TTL_MS);
    const electionB = await site.startElection(LEASE_TTL_MS);
    const env = { RUNPLANE_SCHEDULED_EVENTS: 'Clock.EveryMinute' };
    const a = await site.startReplica({
      name: 'a',
      electionAddress: electionA.grpcAddress,
      leaseTtlMs: LEASE_TTL_MS,
      clock,
      env,
    });
    await eventually(() => leading(a), 'a to lead');
    await a.scheduler.settled();
    const b = await site.startReplica({
      name: 'b',
      electionAddress: electionB.grpcAddress,
      leaseTtlMs: LEASE_TTL_MS,
      clock,
      env,
    });
    const records = new FireRecords(await a.bus.kv(busNames(site.namespace).buckets.schedules));
    const before = await records.get(eventKey('Clock.EveryMinute'));
    const tokenA = tokenOf(before!.record);

    // A loses its election service: its renewals fail, but it still reaches NATS.
    await electionA.stop();
    await eventually(() => leading(b), 'b to take over');
    await b.scheduler.settled();
    expect(a.scheduler.leading()).toBe(false);

    const stoppedA = site.logs.findIndex((l) => l.node_id === a.nodeId && l.msg === 'stopped leading');
    const startedB = site.logs.findIndex((l) => l.node_id === b.nodeId && l.msg === 'leading');
    expect(stoppedA).toBeGreaterThanOrEqual(0);
    expect(site.logs[stoppedA]).toMatchObject({ reason: 'expired' });
    expect(startedB).toBeGreaterThan(stoppedA);

    // B's term fenced every record: what A read before cannot be written back.
    const after = await records.get(eventKey('Clock.EveryMinute'));
    expect(tokenOf(after!.record)).toBeGreaterThan(tokenA);
    for (const expected of [before, after]) {
      await expect(
        records.writeAsLeader(eventKey('Clock.EveryMinute'), before!.record, expected, tokenA),
      ).rejects.toMatchObject({
        code: SchedulerErrorCode.Fenced,
      });
    }
    // And time passing makes only B fire.
    clock.advanceBy(MINUTE);
    await Promise.all([a.scheduler.settled(), b.scheduler.settled()]);
    expect(await site.queuedRunIds()).toEqual([runIdOf('Clock.EveryMinute', slot(1))]);
    expect(
      fired(site.logs)
        .get(runIdOf('Clock.EveryMinute', slot(1)))
        ?.map((l) => l.node_id),
    ).toEqual([b.nodeId]);
  });
});
