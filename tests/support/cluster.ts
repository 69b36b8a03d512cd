import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort } from './ports.js';
import { NATS_URL, uniqueName } from './infra.js';
import {
  SERVICES,
  startService,
  waitForServing,
  type ServiceName,
  type ServiceProcess,
} from './processes.js';

/** The addresses of one test cluster: a gRPC port per service and the gateway's HTTP port. */
export interface ClusterAddresses {
  readonly grpc: Readonly<Record<ServiceName, string>>;
  readonly httpPort: number;
  readonly httpUrl: string;
}

/** Picks free ports for every service of a cluster. */
export async function clusterAddresses(): Promise<ClusterAddresses> {
  const grpc = {} as Record<ServiceName, string>;
  for (const name of Object.keys(SERVICES) as ServiceName[]) grpc[name] = `127.0.0.1:${await freePort()}`;
  const httpPort = await freePort();
  return { grpc, httpPort, httpUrl: `http://127.0.0.1:${httpPort}` };
}

/** The environment that points every service of a cluster at the others. */
export function clusterEnv(
  addresses: ClusterAddresses,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    RUNPLANE_GATEWAY_GRPC_ADDRESS: addresses.grpc.gateway,
    RUNPLANE_SESSION_GRPC_ADDRESS: addresses.grpc.session,
    RUNPLANE_EXECUTOR_GRPC_ADDRESS: addresses.grpc['microflow-executor'],
    RUNPLANE_FILE_GRPC_ADDRESS: addresses.grpc.file,
    RUNPLANE_SCHEDULER_GRPC_ADDRESS: addresses.grpc.scheduler,
    RUNPLANE_LEADER_ELECTION_GRPC_ADDRESS: addresses.grpc['leader-election'],
    RUNPLANE_HTTP_HOST: '127.0.0.1',
    RUNPLANE_HTTP_PORT: String(addresses.httpPort),
    RUNPLANE_NATS_URL: NATS_URL,
    ...extra,
  };
}

/** A NATS namespace of a suite's own, with a way to delete its streams and buckets. */
export interface TestNamespace {
  readonly namespace: string;
  cleanup(): Promise<void>;
}

/** A fresh bus namespace; `cleanup()` deletes every stream and KV bucket under it. */
export function testNamespace(prefix = 't'): TestNamespace {
  const namespace = uniqueName(prefix).replaceAll('_', '-').toLowerCase().slice(0, 32);
  const upper = namespace.toUpperCase().replaceAll('-', '_');
  return {
    namespace,
    async cleanup() {
      const nc = await connect({ servers: NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        const doomed: string[] = [];
        for await (const name of jsm.streams.names()) {
          if (name.startsWith(`${upper}_`) || name.startsWith(`KV_${upper}_`)) doomed.push(name);
        }
        await Promise.all(doomed.map((name) => jsm.streams.delete(name)));
      } finally {
        await nc.close();
      }
    },
  };
}

/** Starts services as processes and waits until each answers SERVING. */
export async function startServices(
  names: readonly ServiceName[],
  addresses: ClusterAddresses,
  env: Record<string, string>,
): Promise<Map<ServiceName, ServiceProcess>> {
  const started = new Map<ServiceName, ServiceProcess>();
  for (const name of names) started.set(name, startService(name, env));
  await Promise.all(names.map((name) => waitForServing(addresses.grpc[name])));
  return started;
}
