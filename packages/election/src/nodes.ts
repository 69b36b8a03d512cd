import { decodeJson, encodeJson, type KeyValueStore } from '@runplane/bus';
import { UserError } from '@runplane/errors';

/** A live process of the cluster. */
export interface ClusterNode {
  /** Unique id of the process. */
  readonly nodeId: string;
  /** The Runplane service it runs, e.g. `microflow-executor`. */
  readonly service: string;
  readonly address: string;
  readonly startedAtMs: number;
  readonly lastHeartbeatAtMs: number;
}

const NODE_ID = /^[A-Za-z0-9_-]{1,128}$/;

function isNode(v: unknown): v is ClusterNode {
  if (typeof v !== 'object' || v === null) return false;
  const n = v as Partial<Record<keyof ClusterNode, unknown>>;
  return (
    typeof n.nodeId === 'string' && typeof n.service === 'string' && typeof n.lastHeartbeatAtMs === 'number'
  );
}

/**
 * The registry of live nodes: each heartbeat rewrites the node's entry in a bucket whose
 * TTL is the node expiry, so a node that stops heartbeating disappears on its own — no
 * leader has to sweep, and no clock comparison across machines is needed.
 */
export class NodeRegistry {
  constructor(
    private readonly nodes: KeyValueStore,
    private readonly nodeTtlMs: number,
  ) {}

  /** Records a heartbeat; returns when the node expires unless it beats again. */
  async heartbeat(node: Omit<ClusterNode, 'lastHeartbeatAtMs'>): Promise<number> {
    if (!NODE_ID.test(node.nodeId)) {
      throw new UserError({
        code: 'NODE_ID_INVALID',
        message: `"${node.nodeId}" is not a valid node id: use 1–128 letters, digits, _ and -`,
        details: { nodeId: node.nodeId },
      });
    }
    const now = Date.now();
    await this.nodes.put(node.nodeId, encodeJson({ ...node, lastHeartbeatAtMs: now }));
    return now + this.nodeTtlMs;
  }

  /** The live nodes, optionally of one service, by node id. */
  async list(service?: string): Promise<ClusterNode[]> {
    const out: ClusterNode[] = [];
    for (const entry of await this.nodes.entries()) {
      const node = decodeJson(entry.value);
      if (isNode(node) && (service === undefined || service === '' || node.service === service))
        out.push(node);
    }
    return out;
  }

  /** Removes a node at once, e.g. when it shuts down cleanly. */
  async remove(nodeId: string): Promise<void> {
    if (NODE_ID.test(nodeId)) await this.nodes.delete(nodeId);
  }
}
