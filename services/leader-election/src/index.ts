/** The leader-election service: who leads, and which nodes live. */
export {
  startLeaderElection,
  type LeaderElectionDependencies,
  type RunningLeaderElection,
} from './leader-election.service.js';
