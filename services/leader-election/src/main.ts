import { leaderElectionConfig } from '@runplane/config';
import { runProcess } from '@runplane/service-host';
import { startLeaderElection } from './leader-election.service.js';

await runProcess({
  service: 'leader-election',
  config: leaderElectionConfig,
  start: (ctx) => startLeaderElection(ctx),
});
