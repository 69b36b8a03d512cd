import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { busNames, connectNats, type Bus } from '@runplane/bus';
import { SYSTEM_CONTEXT, type RunplaneDatabase } from '@runplane/persistence';
import { executor, type common } from '@runplane/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LAB_MODEL_DIR,
  NATS_URL,
  createTestSite,
  eventually,
  openSiteDatabase,
  startTestExecutor,
  uniqueName,
  type TestExecutor,
  type TestSite,
} from '../testing/harness.js';
import { PROCESSED_TASK, deleteProcessedTasks } from './task-records.js';

const T = executor.TaskStatus;

function int(value: bigint): common.Value {
  return { kind: { $case: 'integer', value } };
}

const SYSTEM: common.UserContext = {
  userId: '',
  userName: '',
  userRoles: [],
  sessionIdHash: '',
  anonymous: false,
  timeZone: '',
  language: '',
  system: true,
};

/** An HTTP server that answers `GET /echo?n=<n>` with "echo <n>", failing the first requests per n as told. */
function startEchoServer(): Promise<{
  server: Server;
  url: string;
  failFirst: Map<string, number>;
  hits: Map<string, number>;
}> {
  const failFirst = new Map<string, number>();
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const n = new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? '';
    const hit = (hits.get(n) ?? 0) + 1;
    hits.set(n, hit);
    if (hit <= (failFirst.get(n) ?? 0)) {
      res.writeHead(500).end('not now');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`echo ${n}`);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ server, url: `http://127.0.0.1:${port}/echo`, failFirst, hits });
    });
  });
}

describe('the task queue', () => {
  let site: TestSite;
  let exec: TestExecutor;
  let db: RunplaneDatabase;
  let bus: Bus;
  let echo: Awaited<ReturnType<typeof startEchoServer>>;

  /** Rows with this N. */
  const rows = (n: bigint): Promise<{ n: bigint; label: string }[]> =>
    db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const { objects } = await uow.retrieve({
        entity: 'Lab.Row',
        xpath: '[N = $n]',
        variables: new Map([['n', n]]),
      });
      return objects.map((o) => ({ n: o.get('N') as bigint, label: o.get('Label') as string }));
    });

  const finished = (taskId: string): Promise<executor.Task> =>
    eventually(
      async () => {
        const { task } = await exec.call('getTask', { taskId });
        return task !== undefined &&
          (task.status === T.TASK_STATUS_COMPLETED || task.status === T.TASK_STATUS_FAILED)
          ? task
          : undefined;
      },
      20_000,
      `task ${taskId} to finish`,
    );

  const enqueue = (microflow: string, queue: string, n: bigint, idempotencyKey = '') =>
    exec.call('enqueueTask', { user: SYSTEM, microflow, queue, parameters: { N: int(n) }, idempotencyKey });

  /** Inserts a pending task row as a committed-but-never-published task would be. */
  const insertQueuedTask = (n: bigint): Promise<string> =>
    db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const row = await uow.instantiate('System.QueuedTask');
      row.set('QueueName', 'Lab.Work');
      row.set('MicroflowName', 'Lab.InsertRow');
      row.set('Arguments', JSON.stringify({ N: n.toString() }));
      row.set('ContextData', JSON.stringify({ system: true }));
      row.set('Created', new Date(Date.now() - 60_000));
      row.set('Retried', 0n);
      await uow.commit([row], { events: false });
      return (row.get('Sequence') as bigint).toString();
    });

  const publishTaskJob = async (taskId: string, msgId: string): Promise<void> => {
    const queue = await bus.workQueue(busNames(site.namespace).workQueues.tasks('Lab.Work'));
    const data = executor.TaskJob.encode({
      kind: { $case: 'task', value: { taskId, microflow: 'Lab.InsertRow', queue: 'Lab.Work' } },
    }).finish();
    await queue.enqueue(data, { msgId });
  };

  /** Waits until a work queue's consumer has nothing left to deliver or settle. */
  const drained = async (definition: { stream: string; consumer: string }): Promise<void> => {
    const nc = await connect({ servers: NATS_URL });
    try {
      const jsm = await jetstreamManager(nc);
      await eventually(
        async () => {
          const info = await jsm.consumers.info(definition.stream, definition.consumer);
          return info.num_pending === 0 && info.num_ack_pending === 0 ? true : undefined;
        },
        20_000,
        `consumer ${definition.consumer} to drain`,
      );
    } finally {
      await nc.close();
    }
  };

  beforeAll(async () => {
    site = await createTestSite('tasks');
    echo = await startEchoServer();
    exec = await startTestExecutor(site, LAB_MODEL_DIR, {
      RUNPLANE_CONSTANTS: JSON.stringify({ 'Lab.EchoUrl': echo.url }),
      RUNPLANE_TASK_RELAY_INTERVAL_MS: '200',
      RUNPLANE_TASK_RELAY_AFTER_MS: '1000',
    });
    db = await openSiteDatabase(site, exec.model);
    bus = await connectNats({ servers: [NATS_URL], name: 'task-queue-test' });
  });

  afterAll(async () => {
    await exec.stop();
    await bus.close();
    await db.close();
    echo.server.close();
    await site.cleanup();
  });

  it('runs every task a microflow queues exactly once, after its transaction commits', async () => {
    const user = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const u = await uow.instantiate('System.User');
      u.set('Name', 'queuer');
      await uow.commit([u]);
      return u.id;
    });
    await exec.call('execute', {
      microflow: 'Lab.QueueRows',
      parameters: { Count: int(50n) },
      user: { ...SYSTEM, system: false, userId: user, userName: 'queuer', userRoles: ['Member'] },
      state: { objects: [] },
      fromClient: true,
    });
    const all = await eventually(async () => {
      const found = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const { objects } = await uow.retrieve({
          entity: 'Lab.Row',
          xpath: "[N >= 0][N < 50][starts-with(Label, 'task ')]",
        });
        return objects.map((o) => o.get('N') as bigint);
      });
      return found.length >= 50 ? found : undefined;
    });
    expect(all).toHaveLength(50);
    expect(new Set(all).size).toBe(50);
    const pending = await db.transaction(SYSTEM_CONTEXT, (uow) =>
      uow.retrieve({ entity: 'System.QueuedTask', xpath: "[MicroflowName = 'Lab.InsertRow']", count: true }),
    );
    expect(pending.count).toBe(0);
    const processed = await db.transaction(SYSTEM_CONTEXT, (uow) =>
      uow.retrieve({
        entity: 'System.ProcessedQueueTask',
        xpath: "[MicroflowName = 'Lab.InsertRow'][Status = 'Completed']",
        count: true,
      }),
    );
    expect(processed.count).toBeGreaterThanOrEqual(50);
  });

  it('never records, so never runs, a task queued by a transaction that rolled back', async () => {
    await expect(
      exec.call('execute', {
        microflow: 'Lab.QueueThenFail',
        parameters: {},
        user: SYSTEM,
        state: { objects: [] },
        fromClient: false,
      }),
    ).rejects.toMatchObject({ code: 'MICROFLOW_FAILED', details: { causeCode: 'VALIDATION_FAILED' } });
    const recorded = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
      const queued = await uow.retrieve({
        entity: 'System.QueuedTask',
        xpath: '[Arguments = $args]',
        variables: new Map([['args', '{"N":"-1"}']]),
        count: true,
      });
      const processed = await uow.retrieve({
        entity: 'System.ProcessedQueueTask',
        xpath: '[Arguments = $args]',
        variables: new Map([['args', '{"N":"-1"}']]),
        count: true,
      });
      return (queued.count ?? 0) + (processed.count ?? 0);
    });
    expect(recorded).toBe(0);
    expect(await rows(-1n)).toEqual([]);
  });

  it('queues once per idempotency key and reports the same task', async () => {
    const first = await enqueue('Lab.InsertRow', 'Lab.Work', 1001n, 'order-1001-confirmation');
    const second = await enqueue('Lab.InsertRow', 'Lab.Work', 1001n, 'order-1001-confirmation');
    expect(first.duplicate).toBe(false);
    expect(second).toEqual({ taskId: first.taskId, duplicate: true });
    const task = await finished(first.taskId);
    expect(task).toMatchObject({
      id: first.taskId,
      status: T.TASK_STATUS_COMPLETED,
      attempts: 1,
      microflow: 'Lab.InsertRow',
      queue: 'Lab.Work',
      lastError: '',
    });
    expect(task.finishedAtMs).toBeGreaterThanOrEqual(task.startedAtMs);
    expect(task.startedAtMs).toBeGreaterThanOrEqual(task.enqueuedAtMs);
    // Also once the task is done and its row has moved.
    expect(await enqueue('Lab.InsertRow', 'Lab.Work', 1001n, 'order-1001-confirmation')).toEqual({
      taskId: first.taskId,
      duplicate: true,
    });
    expect(await rows(1001n)).toHaveLength(1);
  });

  it("retries a failing task after the queue's delay, then completes it", async () => {
    echo.failFirst.set('2001', 2);
    const { taskId } = await enqueue('Lab.CallEcho', 'Lab.Retry', 2001n);
    const task = await finished(taskId);
    expect(task.status).toBe(T.TASK_STATUS_COMPLETED);
    expect(task.attempts).toBe(3);
    expect(task.lastError).toContain('REST_STATUS');
    expect(echo.hits.get('2001')).toBe(3);
    expect(await rows(2001n)).toEqual([{ n: 2001n, label: 'echo 2001' }]);
  });

  it('parks a task that fails on every attempt, with its error and call stack', async () => {
    const { taskId } = await enqueue('Lab.NeverValid', 'Lab.Retry', 3001n);
    const task = await finished(taskId);
    expect(task.status).toBe(T.TASK_STATUS_FAILED);
    expect(task.attempts).toBe(3);
    expect(task.lastError).toContain('VALIDATION_FAILED');
    expect(task.lastError).toContain('Lab.NeverValid › create');
    const attempts = await db.transaction(SYSTEM_CONTEXT, (uow) =>
      uow.retrieve({
        entity: 'System.ProcessedQueueTask',
        xpath: '[Sequence = $s]',
        variables: new Map([['s', BigInt(taskId)]]),
      }),
    );
    expect(attempts.objects.map((o) => o.get('Status'))).toEqual(['Failed', 'Failed', 'Failed']);
    expect(attempts.objects.map((o) => o.get('Retried')).sort()).toEqual([0n, 1n, 2n]);
    expect(await rows(3001n)).toEqual([]);
  });

  it('refuses tasks for queues or microflows the model does not have, and unknown task ids', async () => {
    await expect(enqueue('Lab.InsertRow', 'Lab.Nope', 1n)).rejects.toMatchObject({
      code: 'UNKNOWN_TASK_QUEUE',
      status: 'not_found',
    });
    await expect(enqueue('Lab.Nope', 'Lab.Work', 1n)).rejects.toMatchObject({ code: 'MICROFLOW_NOT_FOUND' });
    await expect(exec.call('getTask', { taskId: '999999999' })).rejects.toMatchObject({
      code: 'TASK_NOT_FOUND',
    });
    await expect(exec.call('getTask', { taskId: 'abc' })).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
  });

  it('hands over tasks that were committed but never reached the work queue', async () => {
    const taskId = await insertQueuedTask(4001n);
    const task = await finished(taskId);
    expect(task.status).toBe(T.TASK_STATUS_COMPLETED);
    expect(await rows(4001n)).toHaveLength(1);
  });

  it('runs a task once when copies of its job arrive together or after it completed', async () => {
    const taskId = await insertQueuedTask(5001n);
    await Promise.all([
      publishTaskJob(taskId, 'copy-a'),
      publishTaskJob(taskId, 'copy-b'),
      publishTaskJob(taskId, 'copy-c'),
    ]);
    await finished(taskId);
    await publishTaskJob(taskId, 'late-copy');
    await drained(busNames(site.namespace).workQueues.tasks('Lab.Work'));
    expect(await rows(5001n)).toHaveLength(1);
    const completions = await db.transaction(SYSTEM_CONTEXT, (uow) =>
      uow.retrieve({
        entity: 'System.ProcessedQueueTask',
        xpath: "[Sequence = $s][Status = 'Completed']",
        variables: new Map([['s', BigInt(taskId)]]),
        count: true,
      }),
    );
    expect(completions.count).toBe(1);
  });

  it('runs a scheduled-event run once per run key, with system rights, and records it', async () => {
    const events = await bus.workQueue(busNames(site.namespace).workQueues.scheduledEvents);
    const fireAtMs = 1_700_000_000_000n;
    const job = executor.TaskJob.encode({
      kind: { $case: 'scheduledEvent', value: { event: 'Lab.Ticker', microflow: 'Lab.Tick', fireAtMs } },
    }).finish();
    const first = await events.enqueue(job, { msgId: `Lab.Ticker@${fireAtMs}` });
    const again = await events.enqueue(job, { msgId: `Lab.Ticker@${fireAtMs}` });
    expect(again).toEqual({ sequence: first.sequence, duplicate: true });
    // The same run without a message id (the stream cannot tell): the run key still can.
    await events.enqueue(job);
    await drained(busNames(site.namespace).workQueues.scheduledEvents);
    expect(await rows(9000n)).toEqual([{ n: 9000n, label: 'tick' }]);
    const recorded = await db.transaction(SYSTEM_CONTEXT, (uow) =>
      uow.retrieve({ entity: 'System.ProcessedQueueTask', xpath: "[ScheduledEventName = 'Lab.Ticker']" }),
    );
    expect(recorded.objects).toHaveLength(1);
    expect(recorded.objects[0]?.get('Status')).toBe('Completed');
    expect((recorded.objects[0]?.get('StartAt') as Date).getTime()).toBe(Number(fireAtMs));
  });

  it('deletes completed attempts older than the cleanup age, batch by batch, and keeps failed and recent ones', async () => {
    const day = 24 * 60 * 60_000;
    const queue = uniqueName('cleanup');
    const seed = (rows: readonly (readonly [string, number, string])[]): Promise<void> =>
      db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const made = [];
        for (const [status, ageDays, name] of rows) {
          const row = await uow.instantiate(PROCESSED_TASK);
          row.set('Status', status);
          row.set('Finished', new Date(Date.now() - ageDays * day));
          row.set('QueueName', queue);
          row.set('MicroflowName', name);
          made.push(row);
        }
        await uow.commit(made);
      });
    const left = async (): Promise<string[]> =>
      db.transaction(SYSTEM_CONTEXT, async (uow) => {
        const { objects } = await uow.retrieve({
          entity: PROCESSED_TASK,
          xpath: '[QueueName = $queue]',
          variables: new Map([['queue', queue]]),
        });
        return objects.map((o) => o.get('MicroflowName') as string).sort();
      });
    await seed([
      ['Completed', 8, 'old-done-1'],
      ['Completed', 30, 'old-done-2'],
      ['Failed', 8, 'old-failed'],
      ['Aborted', 8, 'old-aborted'],
      ['Completed', 6, 'recent-done'],
    ]);
    // The executor's duty, with its default age of 7 days (Mendix's ProcessedTasksCleanupAge).
    expect(Number((await exec.call('cleanupProcessedTasks', {})).deleted)).toBeGreaterThanOrEqual(2);
    expect(await left()).toEqual(['old-aborted', 'old-failed', 'recent-done']);
    expect(Number((await exec.call('cleanupProcessedTasks', {})).deleted)).toBe(0);
    // Five rows in batches of two: three transactions, all five gone.
    await seed([1, 2, 3, 4, 5].map((i) => ['Completed', 10, `batch-${i}`] as const));
    expect(await deleteProcessedTasks(db, new Date(Date.now() - 7 * day), 2)).toBe(5);
    expect(await left()).toEqual(['old-aborted', 'old-failed', 'recent-done']);
  });
});
