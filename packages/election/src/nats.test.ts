import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { busNames, connectNats } from '@runplane/bus';
import { describeElections } from './election.suite.js';

const servers = process.env['RUNPLANE_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const names = busNames(`elect-${Math.random().toString(36).slice(2, 10)}`);

describeElections({
  name: 'NATS',
  connect: (name) => connectNats({ servers, name }),
  leasesBucket: names.buckets.leases,
  nodesBucket: names.buckets.nodes,
  async cleanup() {
    const nc = await connect({ servers });
    try {
      const jsm = await jetstreamManager(nc);
      for (const bucket of [names.buckets.leases, names.buckets.nodes]) {
        await jsm.streams.delete(`KV_${bucket}`).catch(() => false);
      }
    } finally {
      await nc.close();
    }
  },
});
