import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM_CONTEXT } from '@runplane/persistence';
import type { MicroflowError } from './errors.js';
import {
  errorOf,
  resultOf,
  testDatabase,
  testEngine,
  testModel,
  type TestDatabase,
} from './testing/harness.js';

/** Every handler logs "<moment> <event> <name>" on the Trace log node; the order of the lines is the order of the calls. */
const DOMAIN = `module: App
moduleRoles: [Admin, Clerk]
entities:
  Doc:
    attributes:
      Name: String
      Allowed: { type: Boolean, default: true }
    events:
      - { moment: before, event: create, microflow: BCr, passEventObject: false }
      - { moment: after, event: create, microflow: ACr }
      - { moment: before, event: commit, microflow: BCo }
      - { moment: after, event: commit, microflow: ACo }
      - { moment: before, event: delete, microflow: BDe }
      - { moment: after, event: delete, microflow: ADe }
      - { moment: before, event: rollback, microflow: BRo }
      - { moment: after, event: rollback, microflow: ARo }
  Memo:
    generalization: Doc
    attributes:
      Body: String
    events:
      - { moment: before, event: commit, microflow: BCoMemo }
  Quiet:
    attributes:
      Allowed: Boolean
    events:
      - { moment: before, event: commit, microflow: BCoQuiet, raiseErrorOnFalse: false }
`;

const handler = (name: string, message: string, returns: boolean, param = true): string => `
  ${name}:
    ${param ? 'parameters: { D: Doc }' : ''}
    ${returns ? 'returnType: Boolean' : ''}
    start: log
    nodes:
      log: { kind: logMessage, logNode: Trace, template: '${message}', parameters: [${param ? "'$D/Name'" : `"''"`}], next: done }
      done: { kind: end${returns ? ", value: '" + (param ? '$D/Allowed' : 'true') + "'" : ''} }
`;

const FLOWS = `module: App
microflows:
${handler('BCr', 'before create{1}', true, false)}
${handler('ACr', 'after create {1}', false)}
${handler('BCo', 'before commit {1}', true)}
${handler('ACo', 'after commit {1}', false)}
${handler('BDe', 'before delete {1}', true)}
${handler('ADe', 'after delete {1}', false)}
${handler('BRo', 'before rollback {1}', true)}
${handler('ARo', 'after rollback {1}', false)}
  BCoMemo:
    parameters: { M: Memo }
    returnType: Boolean
    start: log
    nodes:
      log: { kind: logMessage, logNode: Trace, template: 'before commit memo {1}', parameters: [$M/Name], next: done }
      done: { kind: end, value: 'true' }
  BCoQuiet:
    parameters: { Q: Quiet }
    returnType: Boolean
    start: done
    nodes:
      done: { kind: end, value: $Q/Allowed }

  Lifecycle:
    start: one
    nodes:
      one: { kind: create, entity: Doc, members: { Name: "'one'" }, output: One, next: two }
      two: { kind: create, entity: Doc, members: { Name: "'two'" }, output: Two, next: list }
      list: { kind: createList, entity: Doc, output: Both, next: add1 }
      add1: { kind: changeList, list: $Both, operation: add, value: $One, next: add2 }
      add2: { kind: changeList, list: $Both, operation: add, value: $Two, next: save }
      save: { kind: commit, object: $Both, next: mark }
      mark: { kind: logMessage, logNode: Trace, template: 'committed', next: change }
      change: { kind: change, object: $One, members: { Name: "'one!'" }, next: undo }
      undo: { kind: rollback, object: $One, next: remove }
      remove: { kind: delete, object: $Two, next: done }
      done: { kind: end }

  SilentCommit:
    start: make
    nodes:
      make: { kind: create, entity: Doc, members: { Name: "'silent'" }, commit: yesWithoutEvents, output: D, next: done }
      done: { kind: end }

  Refused:
    start: make
    nodes:
      make: { kind: create, entity: Doc, members: { Name: "'refused'", Allowed: 'false' }, output: D, next: save }
      save: { kind: commit, object: $D, next: done }
      done: { kind: end }

  RefusedQuietly:
    returnType: Boolean
    start: make
    nodes:
      make: { kind: create, entity: Quiet, members: { Allowed: 'false' }, commit: yes, output: Q, next: done }
      done: { kind: end, value: 'true' }

  SaveMemo:
    start: make
    nodes:
      make: { kind: create, entity: Memo, members: { Name: "'memo'" }, commit: yes, output: M, next: done }
      done: { kind: end }
`;

const model = testModel({ 'App/domain.yaml': DOMAIN, 'App/flows.yaml': FLOWS });
const { engine, logs } = testEngine(model);
let database: TestDatabase;

beforeAll(async () => {
  database = await testDatabase(model, 'events');
});
afterAll(async () => {
  await database.drop();
});
beforeEach(() => {
  logs.lines.length = 0;
});

function trace(): string[] {
  return logs.lines.filter((l) => l['log_node'] === 'Trace').map((l) => String(l['msg']));
}

async function stored(entity: string): Promise<number> {
  return database.db.transaction(
    SYSTEM_CONTEXT,
    async (uow) => (await uow.retrieve({ entity })).objects.length,
  );
}

describe('entity event handlers', () => {
  it('fire in Mendix’s order: around create, every before-commit of a list before any after-commit, then rollback and delete', async () => {
    await resultOf(engine, database.db, { microflow: 'App.Lifecycle' });
    expect(trace()).toEqual([
      'before create',
      'after create ',
      'before create',
      'after create ',
      'before commit one',
      'before commit two',
      'after commit one',
      'after commit two',
      'committed',
      'before rollback one!',
      'after rollback one',
      'before delete two',
      'after delete two',
    ]);
  });

  it('do not fire for a commit without events', async () => {
    await resultOf(engine, database.db, { microflow: 'App.SilentCommit' });
    expect(trace()).toEqual(['before create', 'after create ']);
  });

  it('run the generalization’s handlers before the specialization’s own', async () => {
    await resultOf(engine, database.db, { microflow: 'App.SaveMemo' });
    expect(trace()).toEqual([
      'before create',
      'after create ',
      'before commit memo',
      'before commit memo memo',
      'after commit memo',
    ]);
  });

  it('stop a commit with an error when a before handler returns false and raises on false', async () => {
    const error = (await errorOf(engine, database.db, { microflow: 'App.Refused' })) as MicroflowError;
    expect(error.details.causeCode ?? error.code).toBe('EVENT_HANDLER_REFUSED');
    expect(error.details.callStack.at(-1)).toEqual({ microflow: 'App.Refused', node: 'save' });
    expect(trace()).toContain('before commit refused');
    expect(trace()).not.toContain('after commit refused');
  });

  it('skip the object silently when a before handler returns false and does not raise', async () => {
    const before = await stored('App.Quiet');
    const { result } = await resultOf(engine, database.db, { microflow: 'App.RefusedQuietly' });
    expect(result).toBe(true);
    expect(await stored('App.Quiet')).toBe(before);
  });

  it('run for a unit of work’s own commit outside any microflow, handing over their client instructions', async () => {
    const runner = engine.eventRunner();
    const uow = database.db.unitOfWork(SYSTEM_CONTEXT, runner);
    runner.bind(uow);
    try {
      const doc = await uow.instantiate('App.Doc');
      doc.set('Name', 'direct');
      await uow.commit([doc]);
      await uow.complete();
    } finally {
      await uow.close();
    }
    expect(trace()).toEqual([
      'before create',
      'after create ',
      'before commit direct',
      'after commit direct',
    ]);
    expect(runner.takeInstructions()).toEqual([]);
  });
});
