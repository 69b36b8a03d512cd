/**
 * Who leads: elections on leases with fencing tokens ({@link Elections}) and the registry
 * of live nodes ({@link NodeRegistry}), both over KV buckets whose TTL does the expiry.
 */
export {
  CampaignAbortedError,
  Elections,
  LeadershipLostError,
  type ElectionOptions,
  type Leadership,
} from './election.js';
export { NodeRegistry, type ClusterNode } from './nodes.js';
