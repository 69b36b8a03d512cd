import { busNames, createMemoryBroker } from '@runplane/bus';
import { describeElections } from './election.suite.js';

const broker = createMemoryBroker();
const names = busNames('election-test');

describeElections({
  name: 'in-process',
  connect: (name) => Promise.resolve(broker.connect(name)),
  leasesBucket: names.buckets.leases,
  nodesBucket: names.buckets.nodes,
  cleanup: () => Promise.resolve(),
});
