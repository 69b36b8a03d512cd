import { ErrorStatus, OperationalError, UserError } from '@runplane/errors';
import type { ClusterNode, Elections, Leadership, NodeRegistry } from '@runplane/election';
import type { leader } from '@runplane/proto';
import { serverStreamHandler, unaryHandler } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';

/** Proto → domain: a leadership sent back by a client. */
function fromProto(l: leader.Leadership | undefined): Leadership {
  if (!l) {
    throw new UserError({
      code: 'LEADERSHIP_REQUIRED',
      message: 'The request must carry the leadership it acts on',
    });
  }
  return {
    election: l.election,
    leaderId: l.leaderId,
    fencingToken: l.fencingToken,
    expiresAtMs: Number(l.expiresAtMs),
  };
}

function toProto(l: Leadership): leader.Leadership {
  return {
    election: l.election,
    leaderId: l.leaderId,
    fencingToken: l.fencingToken,
    expiresAtMs: BigInt(l.expiresAtMs),
  };
}

function nodeToProto(n: ClusterNode): leader.Node {
  return {
    nodeId: n.nodeId,
    service: n.service,
    address: n.address,
    startedAtMs: BigInt(n.startedAtMs),
    lastHeartbeatAtMs: BigInt(n.lastHeartbeatAtMs),
  };
}

/**
 * The grpc-js implementation of `runplane.leader.v1.LeaderElectionService`. Long calls
 * (Campaign, Observe) end as soon as `stopping` aborts, so a shutting-down service
 * answers them — Campaign with `SERVICE_STOPPING`, a retry elsewhere — instead of
 * holding its shutdown until their deadlines.
 */
export function leaderElectionImplementation(
  elections: Elections,
  nodes: NodeRegistry,
  leaseTtlMs: number,
  logger: Logger,
  stopping: AbortSignal,
): leader.LeaderElectionServiceServer {
  return {
    campaign: unaryHandler(logger, 'Campaign', async (req, ctx) => {
      const ttl = Number(req.leaseTtlMs);
      if (ttl !== 0 && ttl !== leaseTtlMs) {
        throw new UserError({
          code: 'LEASE_TTL_UNSUPPORTED',
          status: ErrorStatus.InvalidArgument,
          message: `Leases last ${leaseTtlMs} ms in this cluster (RUNPLANE_LEADER_LEASE_TTL_MS); ask for 0 or ${leaseTtlMs}`,
          details: { requested: ttl, configured: leaseTtlMs },
        });
      }
      try {
        const signal = AbortSignal.any([ctx.signal, stopping]);
        return { leadership: toProto(await elections.campaign(req.election, req.candidateId, signal)) };
      } catch (err) {
        if (stopping.aborted) {
          throw new OperationalError({
            code: 'SERVICE_STOPPING',
            message:
              'The leader-election service is stopping; campaign again (another replica, or after restart)',
            cause: err,
          });
        }
        throw err;
      }
    }),
    renew: unaryHandler(logger, 'Renew', async (req) => ({
      leadership: toProto(await elections.renew(fromProto(req.leadership))),
    })),
    leader: unaryHandler(logger, 'Leader', async (req) => {
      const current = await elections.leader(req.election);
      return current ? { leadership: toProto(current) } : {};
    }),
    observe: serverStreamHandler<leader.LeaderRequest, leader.LeaderResponse>(
      logger,
      'Observe',
      async function* (req, ctx) {
        for await (const l of elections.observe(req.election, ctx.signal))
          yield l ? { leadership: toProto(l) } : {};
      },
    ),
    resign: unaryHandler(logger, 'Resign', async (req) => {
      await elections.resign(fromProto(req.leadership));
      return {};
    }),
    heartbeat: unaryHandler(logger, 'Heartbeat', async (req) => {
      const n = req.node;
      if (!n) throw new UserError({ code: 'NODE_REQUIRED', message: 'A heartbeat must describe its node' });
      const expiresAtMs = await nodes.heartbeat({
        nodeId: n.nodeId,
        service: n.service,
        address: n.address,
        startedAtMs: Number(n.startedAtMs),
      });
      return { expiresAtMs: BigInt(expiresAtMs) };
    }),
    listNodes: unaryHandler(logger, 'ListNodes', async (req) => ({
      nodes: (await nodes.list(req.service)).map(nodeToProto),
    })),
  };
}
