/**
 * The scheduler as processes: two scheduler replicas with leader-election, session and an
 * executor on a real PostgreSQL and NATS. The leader is killed with SIGKILL; the other one
 * takes over when the lease lapses, and duties and scheduled events keep running exactly
 * once in the cluster.
 */
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scheduler, session } from '@runplane/proto';
import { callUnary, createClient } from '@runplane/service-host';
import {
  clusterAddresses,
  clusterEnv,
  startServices,
  testNamespace,
  type ClusterAddresses,
} from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/infra.js';
import { freePort } from '../support/ports.js';
import {
  ROOT,
  startService,
  waitForServing,
  type ServiceName,
  type ServiceProcess,
} from '../support/processes.js';

const ADMIN_PASSWORD = 'Scheduler-Admin-1!';
const LEASE_TTL_MS = 3000;
const EVENT = 'Clock.EveryMinute';

/** A scheduler process and a client of its gRPC service. */
interface SchedulerProcess {
  readonly process: ServiceProcess;
  readonly client: scheduler.SchedulerServiceClient;
  list(): Promise<scheduler.ListSchedulesResponse>;
}

/** Waits until `check` returns a value, looking every 100 ms. */
async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The JSON log lines of a process with a given message. */
function lines(p: ServiceProcess, msg: string): Record<string, unknown>[] {
  return p.output
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

describe('scheduler replicas as processes, across a SIGKILL of the leader', () => {
  const ns = testNamespace('sched');
  let db: TestDatabase;
  let sql: pg.Client;
  let addresses: ClusterAddresses;
  let env: Record<string, string>;
  let services = new Map<ServiceName, ServiceProcess>();
  let a: SchedulerProcess;
  let b: SchedulerProcess;
  /** The fire time of the run asked for with RunNow. */
  let requestedAtMs = 0;

  async function startScheduler(): Promise<SchedulerProcess> {
    const address = `127.0.0.1:${await freePort()}`;
    const process = startService('scheduler', {
      ...env,
      // Every duty run is logged at debug; the test reads them to see where each ran.
      RUNPLANE_LOG_LEVEL: 'debug',
      RUNPLANE_SCHEDULER_GRPC_ADDRESS: address,
    });
    await waitForServing(address);
    const client = createClient(scheduler.SchedulerServiceClient, address);
    return {
      process,
      client,
      list: () => callUnary(client, 'listSchedules', {}, { deadlineMs: 5000 }),
    };
  }

  async function sessions(): Promise<number> {
    const { rows } = await sql.query<{ n: string }>('SELECT count(*) AS n FROM "system$session"');
    return Number(rows[0]?.n ?? 0);
  }

  async function login(): Promise<void> {
    const client = createClient(session.SessionServiceClient, addresses.grpc.session);
    try {
      await callUnary(client, 'login', {
        userName: 'MxAdmin',
        password: ADMIN_PASSWORD,
        clientAddress: '127.0.0.1',
      });
    } finally {
      client.close();
    }
  }

  /** The runs of the event the executor recorded: fire time and status, in order. */
  async function processedRuns(): Promise<{ startat: Date; status: string }[]> {
    const { rows } = await sql.query<{ startat: Date; status: string }>(
      'SELECT startat, status FROM "system$processedqueuetask" WHERE scheduledeventname = $1 ORDER BY startat',
      [EVENT],
    );
    return rows;
  }

  beforeAll(async () => {
    db = await createTestDatabase('scheduler_e2e');
    addresses = await clusterAddresses();
    env = clusterEnv(addresses, {
      RUNPLANE_NATS_NAMESPACE: ns.namespace,
      RUNPLANE_DATABASE_URL: db.url,
      RUNPLANE_MODEL_DIR: join(ROOT, 'tests', 'fixtures', 'scheduler', 'app'),
      RUNPLANE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      RUNPLANE_LOG_LEVEL: 'warn',
      RUNPLANE_LEADER_LEASE_TTL_MS: String(LEASE_TTL_MS),
      RUNPLANE_ELECTION_POLL_MS: '100',
      // Sessions expire a second after their last use; the leader cleans them up every 300 ms.
      RUNPLANE_SESSION_TIMEOUT_MS: '1000',
      RUNPLANE_SESSION_CLEANUP_INTERVAL_MS: '300',
      RUNPLANE_UNBLOCK_INTERVAL_MS: '1000',
    });
    services = await startServices(['leader-election', 'session', 'microflow-executor'], addresses, env);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    a = await startScheduler();
    await eventually(
      async () => ((await a.list()).leading ? true : undefined),
      'the first scheduler to lead',
    );
    b = await startScheduler();
  }, 120_000);

  afterAll(async () => {
    a.client.close();
    b.client.close();
    await Promise.all([...services.values(), a.process, b.process].map((p) => p.stop('SIGKILL')));
    await sql.end();
    await ns.cleanup();
    await db.drop();
  });

  it('answers on both replicas, one leading, and runs a run asked of the follower once, through the executor', async () => {
    const [fromA, fromB] = await Promise.all([a.list(), b.list()]);
    expect(fromA.leading).toBe(true);
    expect(fromB.leading).toBe(false);
    expect(fromB.schedules.map((s) => s.name)).toEqual([
      EVENT,
      'duty:session-cleanup',
      'duty:unblock-users',
      'duty:processed-tasks-cleanup',
      'duty:clear-sessions-on-deploy',
    ]);
    const { runId } = await callUnary(b.client, 'runNow', { name: EVENT });
    expect(runId).toMatch(/^Clock\.EveryMinute@\d+~/);
    requestedAtMs = Number(/@(\d+)~/.exec(runId)?.[1]);
    const requested = await eventually(
      async () => (await processedRuns()).find((r) => r.startat.getTime() === requestedAtMs),
      'the requested run',
    );
    expect(requested.status).toBe('Completed');
    // One row per completed run, whatever else the minute brought meanwhile.
    const completed = (await processedRuns()).filter((r) => r.status === 'Completed').length;
    const { rows } = await sql.query<{ n: string }>('SELECT count(*) AS n FROM "clock$tick"');
    expect(Number(rows[0]?.n)).toBe(completed);
  });

  it('cleans up expired sessions on one replica at a time, and on the other once the leader is killed', async () => {
    await login();
    await eventually(
      async () => ((await sessions()) === 0 ? true : undefined),
      'the leader to delete the expired session',
    );
    expect(lines(a.process, 'duty done').length).toBeGreaterThan(0);

    await a.process.stop('SIGKILL');
    await eventually(async () => ((await b.list()).leading ? true : undefined), 'the follower to take over');
    await login();
    await eventually(
      async () => ((await sessions()) === 0 ? true : undefined),
      'the new leader to delete it',
    );
    const byA = lines(a.process, 'duty done').filter((l) => l.schedule === 'duty:session-cleanup');
    const byB = lines(b.process, 'duty done').filter((l) => l.schedule === 'duty:session-cleanup');
    expect(byB.length).toBeGreaterThan(0);
    // Each period's clean-up ran on one replica only.
    const runIds = [...byA, ...byB].map((l) => l.runId);
    expect(new Set(runIds).size).toBe(runIds.length);
    const state = (await b.list()).schedules.find((s) => s.name === 'duty:session-cleanup');
    expect(state?.lastRunId).toMatch(/^duty:session-cleanup@\d+$/);
    // The new model version's sessions were cleared once, by the first leader.
    expect(lines(a.process, 'sessions of earlier model versions cleared')).toHaveLength(1);
    expect(lines(b.process, 'sessions of earlier model versions cleared')).toHaveLength(0);
  });

  it('fires the scheduled event once per minute on whichever replica leads, and learns from the executor how it went', async () => {
    const timetabled = await eventually(
      async () => {
        const runs = (await processedRuns()).filter((r) => r.startat.getTime() !== requestedAtMs);
        return runs.length > 0 ? runs : undefined;
      },
      'a run at a whole minute',
      75_000,
    );
    const fireTimes = timetabled.map((r) => r.startat.getTime());
    expect(new Set(fireTimes).size).toBe(fireTimes.length);
    expect(fireTimes.every((t) => t % 60_000 === 0)).toBe(true);
    expect(timetabled.every((r) => r.status === 'Completed')).toBe(true);
    const firing = [
      ...lines(a.process, 'firing'),
      ...lines(a.process, 'firing a missed run once'),
      ...lines(b.process, 'firing'),
      ...lines(b.process, 'firing a missed run once'),
    ]
      .filter((l) => l.schedule === EVENT)
      .map((l) => l.runId);
    expect(new Set(firing).size).toBe(firing.length);
    const done = await eventually(async () => {
      const s = (await b.list()).schedules.find((x) => x.name === EVENT);
      return s?.lastRunStatus === 'completed' ? s : undefined;
    }, 'the executor’s report to reach the records');
    // The run the record says completed is one the executor recorded as completed.
    const reported = Number(/^Clock\.EveryMinute@(\d+)$/.exec(done.lastRunId)?.[1]);
    expect((await processedRuns()).find((r) => r.startat.getTime() === reported)?.status).toBe('Completed');
    const { rows } = await sql.query<{ n: string }>('SELECT count(*) AS n FROM "clock$tick"');
    expect(Number(rows[0]?.n)).toBe(1 + fireTimes.length);
  }, 120_000);
});
