import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, health, leader } from '@runplane/proto';
import { callUnary, checkHealth, createClient } from '@runplane/service-host';
import {
  clusterAddresses,
  clusterEnv,
  startServices,
  testNamespace,
  type ClusterAddresses,
} from '../support/cluster.js';
import { closedPort, freePort } from '../support/ports.js';
import {
  SERVICES,
  startNodeProcess,
  startService,
  type ServiceName,
  type ServiceProcess,
} from '../support/processes.js';

const ALL = Object.keys(SERVICES) as ServiceName[];

async function getJson(url: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function waitForReady(url: string, want: number, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: { status: number; body: Record<string, unknown> } | undefined;
  while (Date.now() < deadline) {
    try {
      last = await getJson(`${url}/ready`);
      if (last.status === want) return last.body;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(
    `${url}/ready did not answer ${want} within ${timeoutMs} ms; last: ${JSON.stringify(last)}`,
  );
}

describe('each service as its own process', () => {
  const ns = testNamespace('found');
  let addresses: ClusterAddresses;
  let processes: Map<ServiceName, ServiceProcess>;

  beforeAll(async () => {
    addresses = await clusterAddresses();
    processes = await startServices(
      ALL,
      addresses,
      clusterEnv(addresses, { RUNPLANE_NATS_NAMESPACE: ns.namespace, RUNPLANE_LOG_LEVEL: 'warn' }),
    );
  });

  afterAll(async () => {
    await Promise.all([...processes.values()].map((p) => p.stop('SIGKILL')));
    await ns.cleanup();
  });

  it('answers grpc.health.v1.Health/Check with SERVING, for the server and for its own service', async () => {
    const qualified: Record<ServiceName, string> = {
      gateway: 'runplane.gateway.v1.GatewayService',
      session: '',
      'microflow-executor': '',
      file: 'runplane.file.v1.FileService',
      scheduler: '',
      'leader-election': 'runplane.leader.v1.LeaderElectionService',
    };
    for (const name of ALL) {
      const client = createClient(health.HealthClient, addresses.grpc[name]);
      expect(await checkHealth(client, '', 2000), name).toBe('SERVING');
      expect(await checkHealth(client, qualified[name], 2000), name).toBe('SERVING');
      client.close();
    }
  });

  it('lets an upload in flight at SIGTERM complete, then exits 0 within 5 s (file)', async () => {
    const proc = processes.get('file')!;
    const client = createClient(file.FileServiceClient, addresses.grpc.file);
    const payload = Buffer.alloc(256 * 1024, 1);
    const done = new Promise<file.UploadResponse>((resolve, reject) => {
      const call = client.upload((err, res) => {
        if (err) reject(err);
        else resolve(res);
      });
      call.write({
        part: {
          $case: 'metadata',
          value: { key: 'inflight/1', name: 'x', contentType: '', sizeBytes: BigInt(payload.length * 2) },
        },
      });
      call.write({ part: { $case: 'chunk', value: payload } });
      // The second half goes after the signal: the call is in flight across it.
      setTimeout(() => {
        call.write({ part: { $case: 'chunk', value: payload } });
        call.end();
      }, 400);
    });
    await new Promise((r) => setTimeout(r, 100));
    const stopping = proc.stop('SIGTERM');
    const res = await done;
    expect(res.sizeBytes).toBe(BigInt(payload.length * 2));
    const { code, elapsedMs } = await stopping;
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(5000);
    client.close();
  });

  it('answers a campaign in flight at SIGTERM instead of cutting it, then exits 0 within 5 s (leader-election)', async () => {
    const proc = processes.get('leader-election')!;
    const a = createClient(leader.LeaderElectionServiceClient, addresses.grpc['leader-election']);
    const held = await callUnary(a, 'campaign', {
      election: 'inflight',
      candidateId: 'holder',
      leaseTtlMs: 0n,
    });
    expect(held.leadership?.leaderId).toBe('holder');
    // A second candidate waits for the lease: its call is in flight when the signal comes.
    const waiting = callUnary(
      a,
      'campaign',
      { election: 'inflight', candidateId: 'waiter', leaseTtlMs: 0n },
      { deadlineMs: 20_000 },
    );
    await new Promise((r) => setTimeout(r, 300));
    const stopping = proc.stop('SIGTERM');
    await expect(waiting).rejects.toMatchObject({ code: 'SERVICE_STOPPING', kind: 'operational' });
    const { code, elapsedMs } = await stopping;
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(5000);
    a.close();
  });

  it('answers every health check sent around SIGTERM — SERVING or a clean refusal — and exits 0 within 5 s (the others)', async () => {
    for (const name of ['gateway', 'session', 'microflow-executor', 'scheduler'] as const) {
      const proc = processes.get(name)!;
      const client = createClient(health.HealthClient, addresses.grpc[name]);
      const calls = Array.from({ length: 50 }, (_, i) =>
        new Promise((r) => setTimeout(r, i * 2)).then(() => checkHealth(client, '', 3000)),
      );
      const stopping = proc.stop('SIGTERM');
      const answers = await Promise.all(calls);
      for (const a of answers) expect(['SERVING', 'NOT_SERVING', 'UNREACHABLE'], name).toContain(a);
      expect(answers, name).not.toContain('TIMEOUT');
      const { code, elapsedMs } = await stopping;
      expect(code, name).toBe(0);
      expect(elapsedMs, name).toBeLessThan(5000);
      expect(proc.output.join('\n'), name).not.toMatch(/"level":"(error|fatal)"/);
      client.close();
    }
  });
});

describe('stack mode', () => {
  const ns = testNamespace('stack');
  let stack: ServiceProcess;
  let addresses: ClusterAddresses;

  beforeAll(async () => {
    addresses = await clusterAddresses();
    stack = startNodeProcess(
      'stack',
      'apps/stack/src/main.ts',
      clusterEnv(addresses, { RUNPLANE_NATS_NAMESPACE: ns.namespace, RUNPLANE_LOG_LEVEL: 'warn' }),
    );
  });

  afterAll(async () => {
    await stack.stop('SIGTERM');
    await ns.cleanup();
  });

  it('starts six processes that /ready lists as SERVING, and names the one that stops', async () => {
    const body = await waitForReady(addresses.httpUrl, 200);
    expect(body).toEqual({
      status: 'ready',
      services: Object.fromEntries(ALL.map((n) => [n, 'SERVING'])),
    });
    const line = await stack.waitForLine(/stack: started file \(pid (\d+)\)/);
    const pid = Number(/pid (\d+)/.exec(line)?.[1]);
    process.kill(pid, 'SIGTERM');
    const down = await waitForReady(addresses.httpUrl, 503);
    expect(down.status).toBe('not_ready');
    expect(down.notServing).toEqual(['file']);
    expect((down.services as Record<string, string>).session).toBe('SERVING');
  });

  it('stops every process cleanly on Ctrl-C', async () => {
    const { code, elapsedMs } = await stack.stop('SIGINT');
    expect(code).toBe(0);
    expect(elapsedMs).toBeLessThan(6000);
  });
});

describe('standalone mode', () => {
  it('serves /ready = 200 with no PostgreSQL or NATS, whether their URLs are unset or point at closed ports', async () => {
    const envs: Record<string, string>[] = [
      {},
      {
        RUNPLANE_DATABASE_URL: `postgres://postgres@127.0.0.1:${await closedPort()}/nowhere`,
        RUNPLANE_NATS_URL: `nats://127.0.0.1:${await closedPort()}`,
      },
    ];
    for (const env of envs) {
      const port = await freePort();
      const proc = startNodeProcess('standalone', 'apps/standalone/src/main.ts', {
        ...env,
        RUNPLANE_HTTP_PORT: String(port),
        RUNPLANE_LOG_LEVEL: 'warn',
      });
      try {
        await proc.waitForLine(/Runplane is running at http:\/\/127\.0\.0\.1:\d+/);
        const body = await waitForReady(`http://127.0.0.1:${port}`, 200);
        expect(Object.values(body.services as Record<string, string>)).toEqual(Array(6).fill('SERVING'));
      } finally {
        const { code } = await proc.stop('SIGTERM');
        expect(code).toBe(0);
      }
    }
  });
});

describe('a bad setting', () => {
  it('stops each service at start with a non-zero exit and a message naming the variable', async () => {
    const bad: Record<ServiceName, Record<string, string>> = {
      gateway: { RUNPLANE_HTTP_PORT: 'eighty' },
      session: { RUNPLANE_DATABASE_URL: 'mysql://db/app' },
      'microflow-executor': { RUNPLANE_NATS_URL: 'http://not-nats' },
      file: { RUNPLANE_SHUTDOWN_TIMEOUT_MS: '-1' },
      scheduler: { RUNPLANE_LEADER_ELECTION_GRPC_ADDRESS: 'no-port' },
      'leader-election': { RUNPLANE_LEADER_LEASE_TTL_MS: '10s' },
    };
    await Promise.all(
      ALL.map(async (name) => {
        const proc = startService(name, bad[name]);
        const code = await proc.exited;
        const variable = Object.keys(bad[name])[0]!;
        expect(code, name).toBe(1);
        expect(proc.output.join('\n'), name).toContain(`${variable}=`);
        expect(proc.output.join('\n'), name).toMatch(/expected /);
      }),
    );
  });
});
