import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busNames, encodeJson, type Bus } from '@runplane/bus';
import { SchedulerErrorCode } from './errors.js';
import { FireRecords, eventKey, tokenOf } from './fire-records.js';
import { createTestSite, type TestSite } from './testing/harness.js';

let site: TestSite;
let bus: Bus;
let records: FireRecords;

beforeAll(async () => {
  site = await createTestSite('fire');
  bus = await site.connect('fire-records');
  records = new FireRecords(await bus.kv(busNames(site.namespace).buckets.schedules));
});

afterAll(async () => {
  await site.cleanup();
});

const record = (name: string, handledThroughMs: number) => ({
  name,
  state: { timetable: 'every minute (UTC)', handledThroughMs },
  writtenBy: 'test',
  writtenAtMs: 0,
});

describe('fire records', () => {
  it('creates a record once, then changes it only at the revision it was read at', async () => {
    const key = eventKey('Clock.A');
    const created = await records.writeAsLeader(key, record('Clock.A', 1), undefined, 5n);
    expect(created?.record.fencingToken).toBe('5');
    // A second create, or an update from a stale read, loses: read again and decide again.
    expect(await records.writeAsLeader(key, record('Clock.A', 2), undefined, 5n)).toBeUndefined();
    const updated = await records.writeAsLeader(key, record('Clock.A', 3), created, 5n);
    expect(updated?.record.state?.handledThroughMs).toBe(3);
    expect(await records.writeAsLeader(key, record('Clock.A', 4), created, 5n)).toBeUndefined();
    expect((await records.get(key))?.record.state?.handledThroughMs).toBe(3);
  });

  it('refuses a stale leader: a record of a later term is never overwritten by an earlier one', async () => {
    const key = eventKey('Clock.B');
    const mine = await records.writeAsLeader(key, record('Clock.B', 1), undefined, 7n);
    // The next term fences the record with its token.
    const theirs = await records.writeAsLeader(key, record('Clock.B', 2), mine, 9n);
    expect(tokenOf(theirs!.record)).toBe(9n);
    // The stale term, with what it read before: the compare-and-set fails, and it is told why.
    await expect(records.writeAsLeader(key, record('Clock.B', 3), mine, 7n)).rejects.toMatchObject({
      code: SchedulerErrorCode.Fenced,
      details: { key, fencingToken: '7', storedToken: '9' },
    });
    // Even reading afresh does not let it write.
    await expect(records.writeAsLeader(key, record('Clock.B', 3), theirs, 7n)).rejects.toMatchObject({
      code: SchedulerErrorCode.Fenced,
    });
    expect((await records.get(key))?.record.state?.handledThroughMs).toBe(2);
  });

  it('amends a record without changing its term, retrying over concurrent writers', async () => {
    const key = eventKey('Clock.C');
    await records.writeAsLeader(key, record('Clock.C', 1), undefined, 11n);
    const results = await Promise.all(
      [10, 20, 30, 40].map((n) =>
        records.amend(key, (r) => ({
          ...r,
          state: {
            timetable: r.state?.timetable ?? '',
            handledThroughMs: (r.state?.handledThroughMs ?? 0) + n,
          },
        })),
      ),
    );
    expect(results.every((r) => r !== undefined)).toBe(true);
    const stored = await records.get(key);
    expect(stored?.record.state?.handledThroughMs).toBe(101);
    expect(stored?.record.fencingToken).toBe('11');
    expect(await records.amend(key, () => undefined)).toBeUndefined();
    expect(await records.amend(eventKey('Clock.Never'), (r) => r)).toBeUndefined();
  });

  it('treats an unreadable record as belonging to no term, so the next leader rewrites it', async () => {
    const key = eventKey('Clock.D');
    await records.kv.put(key, encodeJson({ garbage: true }));
    const stored = await records.get(key);
    expect(stored?.record.fencingToken).toBe('0');
    expect(await records.writeAsLeader(key, record('Clock.D', 1), stored, 1n)).toBeDefined();
    expect([...(await records.all()).keys()]).toEqual(
      expect.arrayContaining([eventKey('Clock.A'), eventKey('Clock.B'), eventKey('Clock.C'), key]),
    );
  });
});
