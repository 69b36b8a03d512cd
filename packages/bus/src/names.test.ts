import { describe, expect, it } from 'vitest';
import { BusErrorCode, DEFAULT_NAMESPACE, TASK_DUPLICATE_WINDOW_MS, busNames } from './index.js';
import { assertResourceName, assertSubject, assertSubjectPattern, subjectMatches } from './validate.js';

describe('busNames', () => {
  it('derives every subject from the namespace, and streams and buckets from it in uppercase', () => {
    const names = busNames('my-app');
    expect(names.subjects.sessionEvent('logout')).toBe('my-app.session.logout');
    expect(names.subjects.tasks('Sales.Reports')).toBe('my-app.tasks.Sales.Reports');
    expect(names.subjects.objectEvent('Sales.Order', 'committed')).toBe(
      'my-app.objects.Sales.Order.committed',
    );
    expect(names.subjects.leaderChanged('cluster')).toBe('my-app.leader.cluster.changed');
    expect(names.streams.tasks).toBe('MY_APP_TASKS');
    expect(names.buckets).toEqual({
      leases: 'MY_APP_LEASES',
      nodes: 'MY_APP_NODES',
      schedules: 'MY_APP_SCHEDULES',
    });
  });

  it('uses the runplane namespace by default', () => {
    expect(DEFAULT_NAMESPACE).toBe('runplane');
    expect(busNames().subjects.modelDeployed).toBe('runplane.model.deployed');
  });

  it('produces names that NATS accepts', () => {
    const names = busNames();
    for (const subject of [
      names.subjects.sessionEvent('user-blocked'),
      names.subjects.modelDeployed,
      names.subjects.objectEvent('Sales.Order', 'deleted'),
      names.subjects.tasks('Module.Queue'),
      names.subjects.leaderChanged('scheduler'),
    ]) {
      expect(() => {
        assertSubject(subject);
      }).not.toThrow();
    }
    for (const pattern of [
      names.subjects.sessionEvents,
      names.subjects.objectEvents(),
      names.subjects.objectEvents('Sales.Order'),
      names.subjects.allTasks,
      names.subjects.leaderChanges,
    ]) {
      expect(() => {
        assertSubjectPattern(pattern);
      }).not.toThrow();
    }
    for (const name of [
      names.streams.tasks,
      names.buckets.leases,
      names.buckets.nodes,
      names.consumers.tasks('A.B'),
    ]) {
      expect(() => {
        assertResourceName('resource', name);
      }).not.toThrow();
    }
  });

  it('makes each wildcard cover exactly its family of subjects', () => {
    const names = busNames();
    expect(subjectMatches(names.subjects.sessionEvents, names.subjects.sessionEvent('logout'))).toBe(true);
    expect(
      subjectMatches(
        names.subjects.objectEvents('Sales.Order'),
        names.subjects.objectEvent('Sales.Order', 'x'),
      ),
    ).toBe(true);
    expect(
      subjectMatches(
        names.subjects.objectEvents('Sales.Order'),
        names.subjects.objectEvent('Sales.Line', 'x'),
      ),
    ).toBe(false);
    expect(subjectMatches(names.subjects.objectEvents(), names.subjects.objectEvent('Sales.Line', 'x'))).toBe(
      true,
    );
    expect(subjectMatches(names.subjects.allTasks, names.subjects.tasks('A.B'))).toBe(true);
    expect(subjectMatches(names.subjects.leaderChanges, names.subjects.leaderChanged('cluster'))).toBe(true);
  });

  it('gives each task queue its own subject and consumer, inside the one task stream', () => {
    const names = busNames();
    const a = names.workQueues.tasks('Sales.Reports');
    const b = names.workQueues.tasks('Sales_Reports');
    expect(a).toEqual({
      stream: 'RUNPLANE_TASKS',
      streamSubjects: ['runplane.tasks.>'],
      subject: 'runplane.tasks.Sales.Reports',
      consumer: 'tasks-Sales-Reports',
      duplicateWindowMs: TASK_DUPLICATE_WINDOW_MS,
    });
    expect(b.consumer).not.toBe(a.consumer);
    expect(b.subject).not.toBe(a.subject);
  });

  it('rejects namespaces and name parts that would break subjects or names', () => {
    for (const bad of ['', 'Runplane', 'run.plane', 'run plane', '1abc', 'x'.repeat(33)]) {
      expect(() => busNames(bad)).toThrow(expect.objectContaining({ code: BusErrorCode.InvalidName }));
    }
    const names = busNames();
    expect(() => names.subjects.tasks('Sales.*')).toThrow(
      expect.objectContaining({ code: BusErrorCode.InvalidName }),
    );
    expect(() => names.subjects.tasks('Sales..Q')).toThrow(
      expect.objectContaining({ code: BusErrorCode.InvalidName }),
    );
    expect(() => names.subjects.sessionEvent('a.b')).toThrow(
      expect.objectContaining({ code: BusErrorCode.InvalidName }),
    );
    expect(() => names.subjects.objectEvent('Sales Order', 'x')).toThrow(
      expect.objectContaining({ code: BusErrorCode.InvalidName }),
    );
  });
});
