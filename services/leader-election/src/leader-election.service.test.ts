import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busNames, createMemoryBroker, decodeJson } from '@runplane/bus';
import { leaderElectionConfig } from '@runplane/config';
import { leader } from '@runplane/proto';
import { callUnary, createClient } from '@runplane/service-host';
import { createLogger } from '@runplane/telemetry';
import { startLeaderElection, type RunningLeaderElection } from './index.js';

const broker = createMemoryBroker();
let service: RunningLeaderElection;
let client: leader.LeaderElectionServiceClient;

beforeAll(async () => {
  service = await startLeaderElection({
    config: leaderElectionConfig.load({
      RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
      RUNPLANE_LEADER_LEASE_TTL_MS: '1500',
      RUNPLANE_NODE_TTL_MS: '1000',
      RUNPLANE_ELECTION_POLL_MS: '50',
    }),
    logger: createLogger({ service: 'leader-election', nodeId: 't', level: 'silent' }),
    nodeId: 't',
    bus: broker.connect('leader-election'),
  });
  client = createClient(leader.LeaderElectionServiceClient, service.grpcAddress);
});

afterAll(async () => {
  client.close();
  await service.stop();
  await broker.close();
});

describe('the leader-election service', () => {
  it('elects, renews, reports, announces on the bus, and hands over on resignation', async () => {
    const watcher = broker.connect('watcher');
    const announced: unknown[] = [];
    await watcher.subscribe(busNames().subjects.leaderChanges, (msg) => {
      announced.push(decodeJson(msg.data));
    });
    const a = await callUnary(client, 'campaign', {
      election: 'duties',
      candidateId: 'sched-a',
      leaseTtlMs: 0n,
    });
    expect(a.leadership).toMatchObject({ election: 'duties', leaderId: 'sched-a' });
    const renewed = await callUnary(client, 'renew', { leadership: a.leadership });
    expect(renewed.leadership?.fencingToken).toBe(a.leadership?.fencingToken);
    expect((await callUnary(client, 'leader', { election: 'duties' })).leadership?.leaderId).toBe('sched-a');

    const b = callUnary(
      client,
      'campaign',
      { election: 'duties', candidateId: 'sched-b', leaseTtlMs: 0n },
      { deadlineMs: 5000 },
    );
    await callUnary(client, 'resign', { leadership: a.leadership });
    const won = await b;
    expect(won.leadership?.leaderId).toBe('sched-b');
    expect(won.leadership!.fencingToken > a.leadership!.fencingToken).toBe(true);
    await expect(callUnary(client, 'renew', { leadership: a.leadership })).rejects.toMatchObject({
      code: 'LEADERSHIP_LOST',
      status: 'conflict',
    });
    await watcher.close();
    expect(announced.map((m) => (m as { leaderId?: string }).leaderId)).toEqual([
      'sched-a',
      undefined,
      'sched-b',
    ]);
  });

  it('streams leadership changes to observers', async () => {
    const seen: string[] = [];
    const stream = client.observe({ election: 'observed' });
    // Cancelling is how an observer stops; the stream then reports CANCELLED, which is expected.
    stream.on('error', () => undefined);
    const done = new Promise<void>((resolve) => {
      stream.on('data', (msg: leader.LeaderResponse) => {
        seen.push(msg.leadership?.leaderId ?? '(none)');
        if (seen.length === 2) {
          stream.cancel();
          resolve();
        }
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    await callUnary(client, 'campaign', { election: 'observed', candidateId: 'x', leaseTtlMs: 0n });
    await done;
    expect(seen).toEqual(['(none)', 'x']);
  });

  it('refuses a lease length other than the configured one, naming it', async () => {
    await expect(
      callUnary(client, 'campaign', { election: 'e', candidateId: 'c', leaseTtlMs: 60_000n }),
    ).rejects.toMatchObject({ code: 'LEASE_TTL_UNSUPPORTED', details: { configured: 1500 } });
  });

  it('keeps a registry of nodes that heartbeat, which forgets silent ones', async () => {
    const node = {
      nodeId: 'exec-1',
      service: 'microflow-executor',
      address: '10.0.0.1:50052',
      startedAtMs: 1n,
      lastHeartbeatAtMs: 0n,
    };
    const beat = await callUnary(client, 'heartbeat', { node });
    expect(Number(beat.expiresAtMs)).toBeGreaterThan(Date.now());
    const listed = await callUnary(client, 'listNodes', { service: 'microflow-executor' });
    expect(listed.nodes.map((n) => n.nodeId)).toEqual(['exec-1']);
    expect((await callUnary(client, 'listNodes', { service: 'gateway' })).nodes).toEqual([]);
    const deadline = Date.now() + 5000;
    while (
      (await callUnary(client, 'listNodes', { service: '' })).nodes.length > 0 &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await callUnary(client, 'listNodes', { service: '' })).nodes).toEqual([]);
    await expect(callUnary(client, 'heartbeat', {})).rejects.toMatchObject({ code: 'NODE_REQUIRED' });
  });
});
