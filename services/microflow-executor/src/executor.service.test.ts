import { type RunplaneDatabase, SYSTEM_CONTEXT } from '@runplane/persistence';
import { common, executor as proto } from '@runplane/proto';
import { checkHealth, createClient } from '@runplane/service-host';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  LAB_MODEL_DIR,
  createTestSite,
  openSiteDatabase,
  startTestExecutor,
  type TestExecutor,
  type TestSite,
} from './testing/harness.js';

const S = common.ObjectState;

function str(value: string): common.Value {
  return { kind: { $case: 'string', value } };
}
function int(value: bigint): common.Value {
  return { kind: { $case: 'integer', value } };
}
function dec(value: string): common.Value {
  return { kind: { $case: 'decimal', value } };
}
function ref(id: string): common.Value {
  return { kind: { $case: 'objectId', value: id } };
}
function refs(ids: string[]): common.Value {
  return { kind: { $case: 'objectIds', value: { ids } } };
}
function kindOf(value: common.Value | undefined): unknown {
  return value?.kind?.value;
}

/** A user of the Lab app, created in the database. */
interface LabUser {
  readonly id: string;
  readonly context: common.UserContext;
}

async function createUser(db: RunplaneDatabase, name: string, roles: string[]): Promise<LabUser> {
  const id = await db.transaction(SYSTEM_CONTEXT, async (uow) => {
    const user = await uow.instantiate('System.User');
    user.set('Name', name);
    await uow.commit([user]);
    return user.id;
  });
  return {
    id,
    context: {
      userId: id,
      userName: name,
      userRoles: roles,
      sessionIdHash: '',
      anonymous: false,
      timeZone: 'Europe/Amsterdam',
      language: 'en-US',
      system: false,
    },
  };
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

describe('the executor service', () => {
  let site: TestSite;
  let exec: TestExecutor;
  let db: RunplaneDatabase;
  let alice: LabUser;
  let bob: LabUser;

  beforeAll(async () => {
    site = await createTestSite('exec');
    exec = await startTestExecutor(site, LAB_MODEL_DIR, { RUNPLANE_MICROFLOW_MAX_LOOP_ITERATIONS: '5000' });
    db = await openSiteDatabase(site, exec.model);
    alice = await createUser(db, 'alice', ['Member']);
    bob = await createUser(db, 'bob', ['Member']);
  });

  afterAll(async () => {
    await exec.stop();
    await db.close();
    await site.cleanup();
  });

  it('answers its health check with SERVING', async () => {
    expect(await checkHealth(exec.health, 'runplane.executor.v1.ExecutorService', 1000)).toBe('SERVING');
  });

  it('round-trips every value type exactly: 20.8-digit Decimals, Longs beyond 2^53, dates, enumerations', async () => {
    const parameters = {
      Text: str('héllo ✓ "quoted"'),
      Count: int(2147483647n),
      Big: int(9223372036854775807n),
      Amount: dec('12345678901234567890.12345678'),
      Flag: { kind: { $case: 'boolean', value: true } },
      When: { kind: { $case: 'dateTime', value: 1700000000123n } },
      Color: { kind: { $case: 'enumeration', value: 'Blue' } },
    } satisfies Record<string, common.Value>;
    const response = await exec.call('execute', {
      microflow: 'Lab.Echo',
      parameters,
      user: alice.context,
      state: { objects: [] },
      fromClient: true,
    });
    const id = kindOf(response.result);
    expect(typeof id).toBe('string');
    const shown = response.update?.objects.find((o) => o.id === id);
    expect(shown).toMatchObject({ entity: 'Lab.Sample', state: S.OBJECT_STATE_NEW });
    for (const [name, value] of Object.entries(parameters)) expect(shown?.members[name]).toEqual(value);
    expect(response.update?.state?.objects.map((o) => o.id)).toEqual([id]);

    // Stored and read back from the database: still exact.
    const commit = await exec.call('commit', {
      user: alice.context,
      state: response.update?.state,
      objectIds: [id as string],
    });
    expect(commit.update?.committedIds).toEqual([id]);
    expect(commit.update?.state?.objects).toEqual([]);
    const read = await exec.call('retrieve', {
      user: alice.context,
      query: {
        $case: 'xpath',
        value: {
          entity: 'Lab.Sample',
          constraint: '[Big = 9223372036854775807]',
          sort: [],
          offset: 0n,
          amount: 0n,
          includeCount: true,
        },
      },
    });
    expect(read.count).toBe(1n);
    const stored = read.objects[0];
    expect(stored?.state).toBe(S.OBJECT_STATE_COMMITTED);
    for (const [name, value] of Object.entries(parameters)) expect(stored?.members[name]).toEqual(value);
    expect(stored?.readOnlyMembers).toContain('Serial');
    expect(kindOf(stored?.members.Serial)).toBeTypeOf('bigint');
  });

  it('answers a projected retrieve with text cells holding the very values of the objects', async () => {
    const query = (projection?: string[]) => ({
      $case: 'xpath' as const,
      value: {
        entity: 'Lab.Sample',
        constraint: '[Big = $big][Color = $color]',
        variables: { values: { big: int(9223372036854775807n), color: str('Blue') } },
        sort: [],
        offset: 0n,
        amount: 0n,
        includeCount: true,
        ...(projection === undefined ? {} : { projection: { members: projection } }),
      },
    });
    const members = ['Text', 'Count', 'Big', 'Amount', 'Flag', 'When', 'Color', 'Serial'];
    const objects = await exec.call('retrieve', { user: alice.context, query: query() });
    const table = await exec.call('retrieve', { user: alice.context, query: query(members) });
    expect(objects.count).toBe(1n);
    expect(table.count).toBe(1n);
    expect(table.objects).toEqual([]);
    const [object] = objects.objects;
    if (object === undefined || table.table === undefined) throw new TypeError('nothing was found');
    expect(table.table.members).toEqual(members);
    expect(table.table.entities).toEqual(['Lab.Sample']);
    expect(table.table.rows).toEqual([
      {
        id: object.id,
        entity: 0,
        values: members.map((m) => {
          const kind = object.members[m]?.kind;
          if (kind === undefined || kind.$case === 'empty') return '';
          if (kind.$case === 'binary' || kind.$case === 'objectIds') throw new TypeError('not in this test');
          return String(kind.value);
        }),
        empty: members.flatMap((m, i) => (object.members[m]?.kind?.$case === 'empty' ? [i] : [])),
        absent: members.flatMap((m, i) => (object.members[m] === undefined ? [i] : [])),
      },
    ]);
  });

  it('answers retrieves on a stream by call id, each as the unary Retrieve answers it, errors included', async () => {
    const stream = exec.client.retrieveStream();
    const answers = new Map<string, proto.RetrieveAnswer>();
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('data', (message: proto.RetrieveAnswers) => {
        for (const answer of message.answers) answers.set(answer.callId.toString(), answer);
      });
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    const requests: Record<string, proto.RetrieveRequest> = {
      '7': {
        user: alice.context,
        state: undefined,
        query: {
          $case: 'xpath',
          value: {
            entity: 'Lab.Sample',
            constraint: '[Big = $big]',
            variables: { values: { big: int(9223372036854775807n) } },
            sort: [],
            offset: 0n,
            amount: 0n,
            includeCount: true,
            projection: { members: ['Text', 'Amount', 'When'] },
          },
        },
      },
      '3': {
        user: alice.context,
        state: undefined,
        query: {
          $case: 'xpath',
          value: {
            entity: 'Lab.Sample',
            constraint: '[NoSuchMember = 1]',
            sort: [],
            offset: 0n,
            amount: 0n,
            includeCount: false,
          },
        },
      },
      '12': {
        user: alice.context,
        state: undefined,
        query: { $case: 'ids', value: { ids: [alice.id], entity: '' } },
      },
    };
    // Two calls in one message, one in another: each is answered by its id, whatever the batching.
    const calls = Object.entries(requests).map(([callId, request]) => ({
      callId: BigInt(callId),
      request,
      requestId: `r${callId}`,
      traceContext: {},
    }));
    stream.write({ calls: calls.slice(0, 2) });
    stream.write({ calls: calls.slice(2) });
    stream.end();
    await ended;
    expect([...answers.keys()].sort()).toEqual(['12', '3', '7']);
    for (const [callId, request] of Object.entries(requests)) {
      const unary = await exec.call('retrieve', request).then(
        (response) => ({ $case: 'response', value: response }),
        (error: unknown) => ({ $case: 'error', code: (error as { code?: string }).code }),
      );
      const outcome = answers.get(callId)?.outcome;
      if (outcome?.$case === 'error') {
        expect({ $case: 'error', code: (JSON.parse(outcome.value) as { code: string }).code }).toEqual(unary);
      } else {
        expect(outcome).toEqual(unary);
      }
    }
    expect(answers.get('3')?.outcome?.$case).toBe('error');
  });

  it('ends an open retrieve stream cleanly when it stops, rather than waiting for the client to end it', async () => {
    const second = await startTestExecutor(site, LAB_MODEL_DIR);
    const client = createClient(proto.ExecutorServiceClient, second.running.grpcAddress);
    try {
      const stream = client.retrieveStream();
      const answered: string[] = [];
      let firstAnswer: () => void = () => undefined;
      const first = new Promise<void>((resolve) => {
        firstAnswer = resolve;
      });
      const ended = new Promise<string>((resolve) => {
        stream.on('data', (message: proto.RetrieveAnswers) => {
          for (const answer of message.answers) answered.push(answer.outcome?.$case ?? 'none');
          firstAnswer();
        });
        stream.on('end', () => {
          resolve('ended');
        });
        stream.on('error', (error: Error) => {
          resolve(`failed: ${error.message}`);
        });
      });
      stream.write({
        calls: [
          {
            callId: 1n,
            request: {
              user: alice.context,
              state: undefined,
              query: { $case: 'ids', value: { ids: [alice.id], entity: '' } },
            },
            requestId: 'r1',
            traceContext: {},
          },
        ],
      });
      await first;
      await second.stop();
      expect(await ended).toBe('ended');
      expect(answered).toEqual(['response']);
    } finally {
      client.close();
    }
  });

  it('refuses an XPath variable that is not a primitive value', async () => {
    const refused = await exec
      .call('retrieve', {
        user: alice.context,
        query: {
          $case: 'xpath',
          value: {
            entity: 'Lab.Sample',
            constraint: '[Text = $v]',
            variables: { values: { v: ref(alice.id) } },
            sort: [],
            offset: 0n,
            amount: 0n,
            includeCount: false,
          },
        },
      })
      .then(
        () => 'answered',
        (error: unknown) => (error as { code?: string }).code,
      );
    expect(refused).toBe('INVALID_VALUE');
  });

  it('keeps uncommitted objects with the client only, across several calls', async () => {
    const made = await exec.call('instantiate', {
      user: alice.context,
      state: { objects: [] },
      entity: 'Lab.Sample',
    });
    const sample = made.object;
    expect(sample?.state).toBe(S.OBJECT_STATE_NEW);
    expect(kindOf(sample?.members.Count)).toBe(0n);
    // The client edits its copy and asks a microflow to work on it.
    const edited: common.MxObject = {
      ...sample!,
      members: { ...sample!.members, Count: int(21n), Text: str('draft') },
    };
    const doubled = await exec.call('execute', {
      microflow: 'Lab.Double',
      parameters: { Sample: ref(edited.id) },
      user: alice.context,
      state: { objects: [edited] },
      fromClient: true,
    });
    expect(kindOf(doubled.result)).toBe(42n);
    const afterDouble = doubled.update?.state?.objects[0];
    expect(kindOf(afterDouble?.members.Count)).toBe(42n);
    expect(kindOf(afterDouble?.members.Text)).toBe('draft');
    // Nothing of it is in the database yet.
    const none = await exec.call('retrieve', {
      user: alice.context,
      query: { $case: 'ids', value: { ids: [edited.id], entity: '' } },
    });
    expect(none.objects).toEqual([]);

    const committed = await exec.call('commit', {
      user: alice.context,
      state: doubled.update?.state,
      objectIds: [edited.id],
    });
    expect(committed.update?.committedIds).toEqual([edited.id]);
    expect(committed.update?.state?.objects).toEqual([]);
    expect(committed.update?.objects[0]).toMatchObject({ id: edited.id, state: S.OBJECT_STATE_COMMITTED });

    // A change of a stored object travels as a delta (CHANGED, only the changed member).
    const delta: common.MxObject = {
      id: edited.id,
      entity: 'Lab.Sample',
      state: S.OBJECT_STATE_CHANGED,
      members: { Count: int(5n) },
      readOnlyMembers: [],
    };
    const again = await exec.call('execute', {
      microflow: 'Lab.Double',
      parameters: { Sample: ref(edited.id) },
      user: alice.context,
      state: { objects: [delta] },
      fromClient: true,
    });
    expect(kindOf(again.result)).toBe(10n);
    expect(again.update?.state?.objects).toHaveLength(1);
    expect(again.update?.state?.objects[0]).toMatchObject({
      id: edited.id,
      entity: 'Lab.Sample',
      state: S.OBJECT_STATE_CHANGED,
    });
    expect(again.update?.state?.objects[0]?.members).toEqual({ Count: int(10n) });
    const byIds = await exec.call('retrieve', {
      user: alice.context,
      state: again.update?.state,
      query: { $case: 'ids', value: { ids: [edited.id], entity: 'Lab.Sample' } },
    });
    expect(byIds.objects[0]).toMatchObject({
      state: S.OBJECT_STATE_CHANGED,
      members: { Count: int(10n), Text: str('draft') },
    });
    const fromDb = await exec.call('retrieve', {
      user: alice.context,
      query: { $case: 'ids', value: { ids: [edited.id], entity: '' } },
    });
    expect(fromDb.objects[0]?.members.Count).toEqual(int(42n));

    const rolledBack = await exec.call('rollback', {
      user: alice.context,
      state: again.update?.state,
      objectIds: [edited.id],
    });
    expect(rolledBack.update?.state?.objects).toEqual([]);
    expect(rolledBack.update?.objects[0]?.members.Count).toEqual(int(42n));

    const deleted = await exec.call('delete', {
      user: alice.context,
      state: { objects: [] },
      objectIds: [edited.id],
    });
    expect(deleted.update?.deletedIds).toEqual([edited.id]);
    const gone = await exec.call('retrieve', {
      user: alice.context,
      query: { $case: 'ids', value: { ids: [edited.id], entity: '' } },
    });
    expect(gone.objects).toEqual([]);
  });

  it('rolls a new object back by forgetting it', async () => {
    const made = await exec.call('instantiate', {
      user: alice.context,
      state: { objects: [] },
      entity: 'Lab.Tag',
    });
    const id = made.object!.id;
    const rolledBack = await exec.call('rollback', {
      user: alice.context,
      state: made.update?.state,
      objectIds: [id],
    });
    expect(rolledBack.update?.deletedIds).toEqual([id]);
    expect(rolledBack.update?.state?.objects).toEqual([]);
  });

  it('carries Reference and ReferenceSet associations as object ids, and retrieves over them', async () => {
    const red = await exec.call('instantiate', {
      user: alice.context,
      state: { objects: [] },
      entity: 'Lab.Tag',
    });
    const blue = await exec.call('instantiate', {
      user: alice.context,
      state: red.update?.state,
      entity: 'Lab.Tag',
    });
    const sample = await exec.call('instantiate', {
      user: alice.context,
      state: blue.update?.state,
      entity: 'Lab.Sample',
    });
    const redId = red.object!.id;
    const blueId = blue.object!.id;
    const objects = sample.update!.state!.objects.map((o) => {
      if (o.id === redId) return { ...o, members: { ...o.members, Name: str('red') } };
      if (o.id === blueId) return { ...o, members: { ...o.members, Name: str('blue') } };
      return {
        ...o,
        members: { ...o.members, 'Lab.Sample_Tag': ref(redId), 'Lab.Sample_Tags': refs([redId, blueId]) },
      };
    });
    const sampleId = sample.object!.id;
    const committed = await exec.call('commit', {
      user: alice.context,
      state: { objects },
      objectIds: [redId, blueId, sampleId],
    });
    expect(new Set(committed.update?.committedIds)).toEqual(new Set([redId, blueId, sampleId]));
    const tags = await exec.call('retrieve', {
      user: alice.context,
      query: { $case: 'association', value: { objectId: sampleId, association: 'Lab.Sample_Tags' } },
    });
    expect(tags.objects.map((o) => kindOf(o.members.Name)).sort()).toEqual(['blue', 'red']);
    const stored = await exec.call('retrieve', {
      user: alice.context,
      query: { $case: 'ids', value: { ids: [sampleId], entity: '' } },
    });
    expect(stored.objects[0]?.members['Lab.Sample_Tag']).toEqual(ref(redId));
    expect(
      new Set((stored.objects[0]?.members['Lab.Sample_Tags']?.kind?.value as common.IdList).ids),
    ).toEqual(new Set([redId, blueId]));
  });

  it('shows each user only what entity access lets them see (alice vs bob)', async () => {
    const made = await exec.call('instantiate', {
      user: alice.context,
      state: { objects: [] },
      entity: 'Lab.Sample',
    });
    const object = { ...made.object!, members: { ...made.object!.members, Text: str('alice only') } };
    await exec.call('commit', { user: alice.context, state: { objects: [object] }, objectIds: [object.id] });
    const query = {
      $case: 'xpath' as const,
      value: {
        entity: 'Lab.Sample',
        constraint: "[Text = 'alice only']",
        sort: [],
        offset: 0n,
        amount: 0n,
        includeCount: true,
      },
    };
    const asAlice = await exec.call('retrieve', { user: alice.context, query });
    const asBob = await exec.call('retrieve', { user: bob.context, query });
    expect(asAlice.objects.map((o) => o.id)).toEqual([object.id]);
    expect(asAlice.count).toBe(1n);
    expect(asBob.objects).toEqual([]);
    expect(asBob.count).toBe(0n);
    const byId = await exec.call('retrieve', {
      user: bob.context,
      query: { $case: 'ids', value: { ids: [object.id], entity: '' } },
    });
    expect(byId.objects).toEqual([]);
    await expect(
      exec.call('delete', { user: bob.context, state: { objects: [] }, objectIds: [object.id] }),
    ).rejects.toMatchObject({
      code: 'OBJECT_NOT_FOUND',
      status: 'not_found',
    });
  });

  it('refuses to delete an object the user may see but has no delete right for, and keeps it', async () => {
    const made = await exec.call('execute', {
      microflow: 'Lab.CreateRow',
      parameters: { N: int(8n), Label: str('keep me') },
      user: SYSTEM,
      state: { objects: [] },
      fromClient: false,
    });
    const rowId = kindOf(made.result) as string;
    const seen = await exec.call('retrieve', {
      user: alice.context,
      query: { $case: 'ids', value: { ids: [rowId], entity: 'Lab.Row' } },
    });
    expect(seen.objects.map((o) => o.id)).toEqual([rowId]);
    await expect(
      exec.call('delete', { user: alice.context, state: { objects: [] }, objectIds: [rowId] }),
    ).rejects.toMatchObject({ code: 'ACCESS_DENIED', status: 'permission_denied' });
    const still = await exec.call('retrieve', {
      user: SYSTEM,
      query: { $case: 'ids', value: { ids: [rowId], entity: 'Lab.Row' } },
    });
    expect(still.objects.map((o) => o.id)).toEqual([rowId]);
  });

  it("refuses a client's change to a member the user may not write, even for a microflow with full rights", async () => {
    const made = await exec.call('execute', {
      microflow: 'Lab.CreateRow',
      parameters: { N: int(7n), Label: str('original') },
      user: SYSTEM,
      state: { objects: [] },
      fromClient: false,
    });
    const rowId = kindOf(made.result) as string;
    const tampered: common.MxObject = {
      id: rowId,
      entity: 'Lab.Row',
      state: S.OBJECT_STATE_CHANGED,
      members: { Label: str('hacked') },
      readOnlyMembers: [],
    };
    await expect(
      exec.call('execute', {
        microflow: 'Lab.NewDraft',
        parameters: {},
        user: alice.context,
        state: { objects: [tampered] },
        fromClient: true,
      }),
    ).rejects.toMatchObject({ code: 'MEMBER_NOT_WRITABLE' });
    const row = await exec.call('retrieve', {
      user: SYSTEM,
      query: { $case: 'ids', value: { ids: [rowId], entity: '' } },
    });
    expect(row.objects[0]?.members.Label).toEqual(str('original'));
  });

  it('maps errors with their codes: forbidden, unknown, validation, call stack, bad values, limits', async () => {
    const call = (microflow: string, user = alice.context, parameters: Record<string, common.Value> = {}) =>
      exec.call('execute', { microflow, parameters, user, state: { objects: [] }, fromClient: true });
    await expect(call('Lab.AdminOnly')).rejects.toMatchObject({
      code: 'MICROFLOW_FORBIDDEN',
      status: 'permission_denied',
    });
    await expect(call('Lab.Nope')).rejects.toMatchObject({
      code: 'MICROFLOW_NOT_FOUND',
      status: 'not_found',
    });
    await expect(call('Lab.Echo', alice.context, { Count: str('many') })).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    });
    await expect(call('Lab.Echo', alice.context, { Amount: dec('1e5') })).rejects.toMatchObject({
      code: 'INVALID_VALUE',
    });

    const failed = exec.call('execute', {
      microflow: 'Lab.NeverValid',
      parameters: { N: int(1n) },
      user: SYSTEM,
      state: { objects: [] },
      fromClient: false,
    });
    await expect(failed).rejects.toMatchObject({
      code: 'MICROFLOW_FAILED',
      status: 'validation_failed',
      details: {
        causeCode: 'VALIDATION_FAILED',
        callStack: [{ microflow: 'Lab.NeverValid', node: 'create' }],
      },
    });

    const made = await exec.call('instantiate', {
      user: alice.context,
      state: { objects: [] },
      entity: 'Lab.Sample',
    });
    const negative = { ...made.object!, members: { ...made.object!.members, Count: int(-1n) } };
    await expect(
      exec.call('commit', { user: alice.context, state: { objects: [negative] }, objectIds: [negative.id] }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      details: {
        problems: [{ objectId: negative.id, member: 'Count', message: 'Count cannot be negative.' }],
      },
    });

    await expect(call('Lab.Runaway')).rejects.toMatchObject({
      code: 'MICROFLOW_LIMIT_EXCEEDED',
      details: { microflow: 'Lab.Runaway', node: 'forever' },
    });
    // The service goes on serving.
    expect(await checkHealth(exec.health, '', 1000)).toBe('SERVING');
    await expect(call('Lab.NewDraft')).resolves.toBeDefined();
  });

  it('hands non-persistable objects to the client in full, as NEW state', async () => {
    const response = await exec.call('execute', {
      microflow: 'Lab.NewDraft',
      parameters: {},
      user: alice.context,
      state: { objects: [] },
      fromClient: true,
    });
    const draft = response.update?.state?.objects[0];
    expect(draft).toMatchObject({
      entity: 'Lab.Draft',
      state: S.OBJECT_STATE_NEW,
      members: { Note: str('hello') },
    });
    expect(kindOf(response.result)).toBe(draft?.id);
  });

  it('reports a bad request as INVALID_REQUEST', async () => {
    await expect(
      exec.call('execute', { microflow: '', parameters: {}, user: alice.context, fromClient: true }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
    await expect(exec.call('retrieve', { user: alice.context })).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
    });
    await expect(
      exec.call('execute', { microflow: 'Lab.NewDraft', parameters: {}, fromClient: true }),
    ).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  });
});
