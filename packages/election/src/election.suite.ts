import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, KeyValueStore } from '@runplane/bus';
import { Elections, NodeRegistry, type Leadership } from './index.js';

/** How a suite reaches a bus: a fresh connection per candidate, and cleanup after. */
export interface ElectionSuiteTarget {
  readonly name: string;
  connect(name: string): Promise<Bus>;
  readonly leasesBucket: string;
  readonly nodesBucket: string;
  cleanup(): Promise<void>;
}

const LEASE_TTL_MS = 1_500;
const POLL_MS = 100;

/** The election and node-registry behaviour, run against one bus implementation. */
export function describeElections(target: ElectionSuiteTarget): void {
  describe(`elections on the ${target.name} bus`, () => {
    const buses: Bus[] = [];
    const elections: Elections[] = [];
    const changes: [string, Leadership | undefined][] = [];
    let leases: KeyValueStore;

    beforeAll(async () => {
      for (const n of ['a', 'b', 'c']) {
        const bus = await target.connect(`election-${n}`);
        buses.push(bus);
        const store = await bus.kv(target.leasesBucket, { ttlMs: LEASE_TTL_MS });
        if (n === 'a') leases = store;
        elections.push(
          new Elections(store, {
            leaseTtlMs: LEASE_TTL_MS,
            pollIntervalMs: POLL_MS,
            onChange: (e, l) => changes.push([e, l]),
          }),
        );
      }
    });

    afterAll(async () => {
      await Promise.all(buses.map((b) => b.close({ gracePeriodMs: 0 })));
      await target.cleanup();
    });

    it('elects exactly one of several candidates campaigning at once', async () => {
      const [a, b, c] = elections as [Elections, Elections, Elections];
      const controller = new AbortController();
      const results = await Promise.allSettled([
        a.campaign('race', 'node-a', controller.signal),
        b.campaign('race', 'node-b', controller.signal),
        c.campaign('race', 'node-c', controller.signal),
        new Promise((resolve) => setTimeout(resolve, 500)).then(() => {
          controller.abort();
        }),
      ]);
      const winners = results.slice(0, 3).filter((r) => r.status === 'fulfilled');
      expect(winners).toHaveLength(1);
      const losers = results.slice(0, 3).filter((r) => r.status === 'rejected');
      for (const l of losers) expect(l.reason).toMatchObject({ code: 'CAMPAIGN_ABORTED' });
      const leader = await a.leader('race');
      expect(leader?.leaderId).toBe((winners[0] as PromiseFulfilledResult<Leadership>).value.leaderId);
    });

    it('hands over on resignation with a larger fencing token, and the old term can no longer renew', async () => {
      const [a, b] = elections as [Elections, Elections];
      const first = await a.campaign('handover', 'node-a');
      const waiting = b.campaign('handover', 'node-b');
      await a.resign(first);
      const second = await waiting;
      expect(second.leaderId).toBe('node-b');
      expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
      await expect(a.renew(first)).rejects.toMatchObject({ code: 'LEADERSHIP_LOST' });
      await expect(b.renew(second)).resolves.toMatchObject({
        leaderId: 'node-b',
        fencingToken: second.fencingToken,
      });
      expect(changes.filter(([e]) => e === 'handover').map(([, l]) => l?.leaderId)).toEqual([
        'node-a',
        undefined,
        'node-b',
      ]);
    });

    it('lets a lease lapse when its leader stops renewing, so another candidate takes over', async () => {
      const [a, b] = elections as [Elections, Elections];
      const first = await a.campaign('lapse', 'node-a');
      const started = Date.now();
      const second = await b.campaign('lapse', 'node-b', AbortSignal.timeout(LEASE_TTL_MS * 6));
      expect(second.leaderId).toBe('node-b');
      expect(Date.now() - started).toBeGreaterThanOrEqual(LEASE_TTL_MS - 200);
      expect(second.fencingToken).toBeGreaterThan(first.fencingToken);
      await expect(a.renew(first)).rejects.toMatchObject({ code: 'LEADERSHIP_LOST' });
    });

    it('keeps a renewed lease beyond its TTL and returns the same term to a leader that campaigns again', async () => {
      const [a, b] = elections as [Elections, Elections];
      let term = await a.campaign('renewed', 'node-a');
      const challenger = new AbortController();
      const challenge = b.campaign('renewed', 'node-b', challenger.signal).catch((e: unknown) => e);
      for (let i = 0; i < 5; i++) {
        await new Promise((r) => setTimeout(r, LEASE_TTL_MS / 3));
        term = await a.renew(term);
      }
      challenger.abort();
      expect(await challenge).toMatchObject({ code: 'CAMPAIGN_ABORTED' });
      expect((await a.campaign('renewed', 'node-a')).fencingToken).toBe(term.fencingToken);
      await a.resign(term);
    });

    it('streams changes of leadership to an observer', async () => {
      const [a, b, c] = elections as [Elections, Elections, Elections];
      const controller = new AbortController();
      const seen: (string | undefined)[] = [];
      const observing = (async () => {
        for await (const l of c.observe('observed', controller.signal)) {
          seen.push(l?.leaderId);
          if (seen.length === 4) controller.abort();
        }
      })();
      await new Promise((r) => setTimeout(r, 200));
      const t1 = await a.campaign('observed', 'node-a');
      await new Promise((r) => setTimeout(r, 300));
      const next = b.campaign('observed', 'node-b');
      await a.resign(t1);
      const t2 = await next;
      await observing;
      expect(seen).toEqual([undefined, 'node-a', undefined, 'node-b']);
      await b.resign(t2);
    });

    it('refuses names that cannot be keys', async () => {
      const [a] = elections as [Elections];
      await expect(a.campaign('bad name', 'x')).rejects.toMatchObject({ code: 'ELECTION_INVALID_NAME' });
      await expect(a.campaign('ok', 'bad id!')).rejects.toMatchObject({ code: 'ELECTION_INVALID_NAME' });
      expect(leases.bucket).toBe(target.leasesBucket);
    });
  });

  describe(`the node registry on the ${target.name} bus`, () => {
    let bus: Bus;
    let registry: NodeRegistry;
    const TTL = 1_200;

    beforeAll(async () => {
      bus = await target.connect('nodes');
      registry = new NodeRegistry(await bus.kv(target.nodesBucket, { ttlMs: TTL }), TTL);
    });
    afterAll(async () => {
      await bus.close({ gracePeriodMs: 0 });
    });

    it('lists nodes that heartbeat and forgets those that stop', async () => {
      const base = { address: '127.0.0.1:1', startedAtMs: Date.now() };
      await registry.heartbeat({ ...base, nodeId: 'exec-1', service: 'microflow-executor' });
      await registry.heartbeat({ ...base, nodeId: 'gw-1', service: 'gateway' });
      expect((await registry.list()).map((n) => n.nodeId)).toEqual(['exec-1', 'gw-1']);
      expect((await registry.list('gateway')).map((n) => n.nodeId)).toEqual(['gw-1']);
      const deadline = Date.now() + TTL * 3;
      while (Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, TTL / 4));
        await registry.heartbeat({ ...base, nodeId: 'gw-1', service: 'gateway' });
        if ((await registry.list()).length === 1) break;
      }
      expect((await registry.list()).map((n) => n.nodeId)).toEqual(['gw-1']);
      await registry.remove('gw-1');
      expect(await registry.list()).toEqual([]);
    });
  });
}
