import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { common, executor, health } from '@runplane/proto';
import {
  callUnary,
  checkHealth,
  createClient,
  type RequestOf,
  type ResponseOf,
  type UnaryMethodName,
} from '@runplane/service-host';
import { testNamespace, type TestNamespace } from '../support/cluster.js';
import { NATS_URL, createTestDatabase, type TestDatabase } from '../support/infra.js';
import { freePort } from '../support/ports.js';
import { ROOT, startService, waitForServing, type ServiceProcess } from '../support/processes.js';

const S = common.ObjectState;
const str = (value: string): common.Value => ({ kind: { $case: 'string', value } });
const int = (value: bigint): common.Value => ({ kind: { $case: 'integer', value } });
const dec = (value: string): common.Value => ({ kind: { $case: 'decimal', value } });
const ref = (value: string): common.Value => ({ kind: { $case: 'objectId', value } });
const enumKey = (value: string): common.Value => ({ kind: { $case: 'enumeration', value } });
const kindOf = (value: common.Value | undefined): unknown => value?.kind?.value;

function user(userId: string, userName: string, userRoles: string[]): common.UserContext {
  return {
    userId,
    userName,
    userRoles,
    sessionIdHash: '',
    anonymous: false,
    timeZone: 'UTC',
    language: 'en-US',
    system: false,
  };
}
const SYSTEM: common.UserContext = { ...user('', '', []), system: true };

type Method = UnaryMethodName<executor.ExecutorServiceClient>;

/** An executor process and a client of its gRPC service. */
interface ExecutorProcess {
  readonly process: ServiceProcess;
  readonly address: string;
  call<K extends Method>(
    method: K,
    request: RequestOf<executor.ExecutorServiceClient, K>,
  ): Promise<ResponseOf<executor.ExecutorServiceClient, K>>;
  health(timeoutMs: number): Promise<string>;
  close(): void;
}

async function startExecutorProcess(env: Record<string, string>): Promise<ExecutorProcess> {
  const address = `127.0.0.1:${await freePort()}`;
  const process = startService('microflow-executor', { ...env, RUNPLANE_EXECUTOR_GRPC_ADDRESS: address });
  await waitForServing(address, 60_000);
  const client = createClient(executor.ExecutorServiceClient, address);
  const healthClient = createClient(health.HealthClient, address);
  return {
    process,
    address,
    call: (method, request) =>
      callUnary(client, method, request, { service: 'microflow-executor', deadlineMs: 60_000 }),
    health: (timeoutMs) => checkHealth(healthClient, '', timeoutMs),
    close() {
      client.close();
      healthClient.close();
    },
  };
}

/** The environment of an executor process on a suite's database and namespace. */
function executorEnv(
  db: TestDatabase,
  ns: TestNamespace,
  modelDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    RUNPLANE_DATABASE_URL: db.url,
    RUNPLANE_NATS_URL: NATS_URL,
    RUNPLANE_NATS_NAMESPACE: ns.namespace,
    RUNPLANE_MODEL_DIR: modelDir,
    RUNPLANE_LOG_LEVEL: 'warn',
    ...extra,
  };
}

/** Sets members on the client's copy of an object in a state. */
function edit(
  state: common.ClientState | undefined,
  id: string,
  members: Record<string, common.Value>,
): common.ClientState {
  return {
    objects: (state?.objects ?? []).map((o) =>
      o.id === id ? { ...o, members: { ...o.members, ...members } } : o,
    ),
  };
}

/** Creates and commits an object as system; returns its id. */
async function seed(
  exec: ExecutorProcess,
  entity: string,
  members: Record<string, common.Value>,
): Promise<string> {
  const made = await exec.call('instantiate', { user: SYSTEM, state: { objects: [] }, entity });
  const id = made.object?.id ?? '';
  await exec.call('commit', { user: SYSTEM, state: edit(made.update?.state, id, members), objectIds: [id] });
  return id;
}

/** Waits until `check` returns a value, looking every 50 ms. */
async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Counts objects of an entity matching a constraint, as system. */
async function count(exec: ExecutorProcess, entity: string, constraint = ''): Promise<number> {
  const result = await exec.call('retrieve', {
    user: SYSTEM,
    query: {
      $case: 'xpath',
      value: { entity, constraint, sort: [], offset: 0n, amount: 1n, includeCount: true },
    },
  });
  return Number(result.count ?? 0n);
}

describe('the orders example through an executor process', () => {
  const ns = testNamespace('exo');
  let db: TestDatabase;
  let exec: ExecutorProcess;
  let mail: Server;
  const mails: Record<string, unknown>[] = [];

  beforeAll(async () => {
    mail = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        mails.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => mail.listen(0, '127.0.0.1', resolve));
    const { port } = mail.address() as AddressInfo;
    db = await createTestDatabase('runplane_e2e_orders');
    exec = await startExecutorProcess(
      executorEnv(db, ns, join(ROOT, 'examples', 'orders'), {
        RUNPLANE_CONSTANTS: JSON.stringify({ 'Sales.MailServiceUrl': `http://127.0.0.1:${port}/messages` }),
      }),
    );
  });

  afterAll(async () => {
    exec.close();
    await exec.process.stop();
    mail.close();
    await db.drop();
    await ns.cleanup();
  });

  it('builds an order in the client, places it, mails the confirmation from the Mail queue and approves it', async () => {
    const aliceId = await seed(exec, 'Sales.Customer', {
      Name: str('alice'),
      Email: str('alice@example.com'),
    });
    const samId = await seed(exec, 'System.User', { Name: str('sam') });
    const pearId = await seed(exec, 'Sales.Product', {
      Code: str('PR'),
      Name: str('Pear'),
      Price: dec('0.80'),
      Stock: int(3n),
    });
    const alice = user(aliceId, 'alice', ['Customer']);

    const created = await exec.call('execute', {
      microflow: 'Sales.NewOrder',
      parameters: {},
      user: alice,
      state: { objects: [] },
      fromClient: true,
    });
    const orderId = created.update?.state?.objects.find((o) => o.entity === 'Sales.Order')?.id ?? '';
    expect(created.instructions[0]?.kind?.$case).toBe('openPage');
    const added = await exec.call('execute', {
      microflow: 'Sales.AddLine',
      parameters: { Order: ref(orderId) },
      user: alice,
      state: created.update?.state,
      fromClient: true,
    });
    const lineId = added.update?.state?.objects.find((o) => o.entity === 'Sales.OrderLine')?.id ?? '';
    const state = edit(added.update?.state, lineId, {
      Quantity: int(3n),
      'Sales.OrderLine_Product': ref(pearId),
    });

    const placed = await exec.call('execute', {
      microflow: 'Sales.PlaceOrder',
      parameters: { Order: ref(orderId) },
      user: alice,
      state,
      fromClient: true,
    });
    expect(placed.result).toEqual({ kind: { $case: 'boolean', value: true } });
    expect(placed.update?.state?.objects).toEqual([]);
    expect(placed.update?.objects.find((o) => o.id === orderId)?.members).toMatchObject({
      Status: enumKey('Placed'),
      Total: dec('2.9'),
    });
    await eventually(
      () => Promise.resolve(mails.length > 0 ? true : undefined),
      20_000,
      'the confirmation mail',
    );
    expect(mails).toEqual([
      expect.objectContaining({ to: 'alice@example.com', text: 'Thank you for your order.' }),
    ]);

    const approved = await exec.call('execute', {
      microflow: 'Sales.ApproveOrder',
      parameters: { Order: ref(orderId) },
      user: user(samId, 'sam', ['Sales']),
      state: { objects: [] },
      fromClient: true,
    });
    expect(approved.update?.objects.find((o) => o.id === orderId)?.members.Status).toEqual(
      enumKey('Approved'),
    );
    expect(await count(exec, 'Sales.Invoice')).toBe(1);
  });
});

describe('the helpdesk example through an executor process', () => {
  const ns = testNamespace('exh');
  let db: TestDatabase;
  let exec: ExecutorProcess;

  beforeAll(async () => {
    db = await createTestDatabase('runplane_e2e_helpdesk');
    exec = await startExecutorProcess(executorEnv(db, ns, join(ROOT, 'examples', 'helpdesk')));
  });

  afterAll(async () => {
    exec.close();
    await exec.process.stop();
    await db.drop();
    await ns.cleanup();
  });

  it('turns an anonymous submission into a bug report that an agent triages, assigns and tags', async () => {
    const anonymous: common.UserContext = { ...user('', '', ['Anonymous']), anonymous: true };
    const form = await exec.call('execute', {
      microflow: 'Helpdesk.DS_NewSubmitForm',
      parameters: {},
      user: anonymous,
      state: { objects: [] },
      fromClient: true,
    });
    const formId = kindOf(form.result) as string;
    const submitted = await exec.call('execute', {
      microflow: 'Helpdesk.ACT_SubmitTicket',
      parameters: { Form: ref(formId) },
      user: anonymous,
      state: edit(form.update?.state, formId, {
        Kind: enumKey('Bug'),
        Name: str('V'),
        Email: str('v@example.com'),
        Subject: str('Broken'),
      }),
      fromClient: true,
    });
    expect(submitted.result).toEqual({ kind: { $case: 'boolean', value: true } });

    const annId = await seed(exec, 'Helpdesk.Agent', { Name: str('ann'), DisplayName: str('Ann') });
    const ann = user(annId, 'ann', ['Agent']);
    const found = await exec.call('retrieve', {
      user: ann,
      query: {
        $case: 'xpath',
        value: {
          entity: 'Helpdesk.Ticket',
          constraint: "[Subject = 'Broken']",
          sort: [],
          offset: 0n,
          amount: 0n,
          includeCount: false,
        },
      },
    });
    const ticketId = found.objects[0]?.id ?? '';
    expect(found.objects[0]?.entity).toBe('Helpdesk.BugReport');
    const triaged = await exec.call('execute', {
      microflow: 'Helpdesk.TriageTicket',
      parameters: { Ticket: ref(ticketId) },
      user: ann,
      state: { objects: [] },
      fromClient: true,
    });
    expect(triaged.update?.objects.find((o) => o.id === ticketId)?.members).toMatchObject({
      Priority: enumKey('High'),
      State: enumKey('Open'),
    });
    const assigned = await exec.call('execute', {
      microflow: 'Helpdesk.AssignToLeastBusyAgent',
      parameters: { Ticket: ref(ticketId) },
      user: ann,
      state: { objects: [] },
      fromClient: true,
    });
    expect(assigned.update?.objects.find((o) => o.id === ticketId)?.members['Helpdesk.Ticket_Agent']).toEqual(
      ref(annId),
    );
    const tagId = await seed(exec, 'Helpdesk.Tag', { Name: str('ui'), Color: str('#00ff00') });
    await exec.call('execute', {
      microflow: 'Helpdesk.AddTag',
      parameters: { Ticket: ref(ticketId), Tag: ref(tagId) },
      user: ann,
      state: { objects: [] },
      fromClient: true,
    });
    const tags = await exec.call('retrieve', {
      user: ann,
      query: { $case: 'association', value: { objectId: ticketId, association: 'Helpdesk.Ticket_Tag' } },
    });
    expect(tags.objects.map((o) => kindOf(o.members.Name))).toEqual(['ui']);
  });
});

describe('two executor processes on one database and queue', () => {
  const ns = testNamespace('exq');
  let db: TestDatabase;
  let a: ExecutorProcess;
  let b: ExecutorProcess;
  let member: common.UserContext;

  beforeAll(async () => {
    db = await createTestDatabase('runplane_e2e_queue');
    const env = executorEnv(db, ns, join(ROOT, 'tests', 'fixtures', 'executor', 'queue-app'), {
      RUNPLANE_TASK_ACK_WAIT_MS: '2000',
      RUNPLANE_MICROFLOW_MAX_LOOP_ITERATIONS: '8000000',
    });
    [a, b] = await Promise.all([startExecutorProcess(env), startExecutorProcess(env)]);
    const id = await seed(a, 'System.User', { Name: str('member') });
    member = user(id, 'member', ['User']);
  });

  afterAll(async () => {
    for (const exec of [a, b]) {
      exec.close();
      await exec.process.stop('SIGKILL');
    }
    await db.drop();
    await ns.cleanup();
  });

  it("serves one client's uncommitted object from either process, alternately", async () => {
    const made = await a.call('instantiate', { user: member, state: { objects: [] }, entity: 'Queue.Note' });
    const noteId = made.object?.id ?? '';
    let state = edit(made.update?.state, noteId, { Text: str('') });
    const marks = ['a', 'b', 'a', 'b'];
    for (const [i, mark] of marks.entries()) {
      const exec = mark === 'a' ? a : b;
      const bumped = await exec.call('execute', {
        microflow: 'Queue.Bump',
        parameters: { Note: ref(noteId), Mark: str(mark) },
        user: member,
        state,
        fromClient: true,
      });
      expect(kindOf(bumped.result)).toBe(BigInt(i + 1));
      state = bumped.update?.state ?? { objects: [] };
      expect(state.objects[0]?.state).toBe(S.OBJECT_STATE_NEW);
    }
    expect(state.objects[0]?.members.Text).toEqual(str('abab'));
    expect(await count(b, 'Queue.Note')).toBe(0);
    const committed = await b.call('commit', { user: member, state, objectIds: [noteId] });
    expect(committed.update?.committedIds).toEqual([noteId]);
    // Now stored: a change travels as a delta and is served by the other process.
    const delta: common.MxObject = {
      id: noteId,
      entity: 'Queue.Note',
      state: S.OBJECT_STATE_CHANGED,
      members: { Text: str('edited') },
      readOnlyMembers: [],
    };
    const bumped = await a.call('execute', {
      microflow: 'Queue.Bump',
      parameters: { Note: ref(noteId), Mark: str('!') },
      user: member,
      state: { objects: [delta] },
      fromClient: true,
    });
    expect(bumped.update?.state?.objects[0]?.members).toEqual({ Count: int(5n), Text: str('edited!') });
    const stored = await b.call('retrieve', {
      user: member,
      query: { $case: 'ids', value: { ids: [noteId], entity: 'Queue.Note' } },
    });
    expect(stored.objects[0]?.members).toMatchObject({ Count: int(4n), Text: str('abab') });
  });

  it('stops a runaway loop at its limit while its health check keeps answering SERVING, then serves other calls', async () => {
    const started = Date.now();
    const runaway = b.call('execute', {
      microflow: 'Queue.Runaway',
      parameters: {},
      user: member,
      state: { objects: [] },
      fromClient: true,
    });
    const outcome = runaway.then(
      () => 'finished',
      (error: unknown) => error,
    );
    const answers: string[] = [];
    let done = false;
    void outcome.then(() => (done = true));
    while (!done) {
      answers.push(await b.health(500));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(await outcome).toMatchObject({
      code: 'MICROFLOW_LIMIT_EXCEEDED',
      details: { microflow: 'Queue.Runaway', node: 'forever' },
    });
    expect(Date.now() - started).toBeGreaterThan(500);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    expect(new Set(answers)).toEqual(new Set(['SERVING']));
    const pong = await b.call('execute', {
      microflow: 'Queue.Ping',
      parameters: {},
      user: member,
      state: { objects: [] },
      fromClient: true,
    });
    expect(pong.result).toEqual(str('pong'));
  });

  it('runs 1,000 queued microflows exactly once across both processes, also when one is killed with SIGKILL mid-run', async () => {
    await a.call('execute', {
      microflow: 'Queue.EnqueueMany',
      parameters: { Count: int(1000n) },
      user: member,
      state: { objects: [] },
      fromClient: true,
    });
    const before = await eventually(
      async () => {
        const n = await count(b, 'Queue.Row');
        return n >= 150 ? n : undefined;
      },
      60_000,
      'the first runs',
    );
    expect(before).toBeLessThan(1000);
    await a.process.stop('SIGKILL');

    await eventually(
      async () =>
        (await count(b, 'Queue.Row')) >= 1000 && (await count(b, 'System.QueuedTask')) === 0
          ? true
          : undefined,
      120_000,
      'all runs',
    );
    const rows = await b.call('retrieve', {
      user: SYSTEM,
      query: {
        $case: 'xpath',
        value: {
          entity: 'Queue.Row',
          constraint: '',
          sort: [{ member: 'N', descending: false }],
          offset: 0n,
          amount: 0n,
          includeCount: true,
        },
      },
    });
    expect(rows.count).toBe(1000n);
    const numbers = rows.objects.map((o) => kindOf(o.members.N) as bigint);
    expect(new Set(numbers).size).toBe(1000);
    expect(numbers[0]).toBe(0n);
    expect(numbers[999]).toBe(999n);
    expect(await count(b, 'System.ProcessedQueueTask', "[Status = 'Completed']")).toBe(1000);
    expect(await count(b, 'System.ProcessedQueueTask', "[Status != 'Completed']")).toBe(0);
  });
});
