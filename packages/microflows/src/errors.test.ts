import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SYSTEM_CONTEXT } from '@runplane/persistence';
import { MicroflowError, MicroflowErrorCode } from './errors.js';
import {
  errorOf,
  resultOf,
  testDatabase,
  testEngine,
  testModel,
  type TestDatabase,
} from './testing/harness.js';

const DOMAIN = `module: App
moduleRoles: [Admin, Clerk]
entities:
  Note:
    attributes:
      Text: String
    validation:
      - { rule: required, attribute: Text, message: A note needs text. }
`;

/** `Save` commits a note; `Fail` saves a note and then divides by zero. */
const FLOWS = `module: App
microflows:
  Save:
    parameters: { Text: String }
    start: make
    nodes:
      make: { kind: create, entity: Note, members: { Text: $Text }, commit: yes, output: N, next: done }
      done: { kind: end }

  Fail:
    parameters: { Text: String }
    start: save
    nodes:
      save: { kind: callMicroflow, microflow: Save, parameters: { Text: $Text }, next: zero }
      zero: { kind: createVariable, type: Integer, value: '0', output: Zero, next: divide }
      divide: { kind: createVariable, type: Decimal, value: '1 div $Zero', output: Broken, next: done }
      done: { kind: end }

  Deep:
    start: save
    nodes:
      save: { kind: callMicroflow, microflow: Save, parameters: { Text: "'deep'" }, next: call }
      call: { kind: callMicroflow, microflow: Fail, parameters: { Text: "'fail'" }, next: done }
      done: { kind: end }

  Mid:
    start: save
    nodes:
      save: { kind: callMicroflow, microflow: Save, parameters: { Text: "'mid'" }, next: call }
      call: { kind: callMicroflow, microflow: Deep, next: done }
      done: { kind: end }

  Top:
    start: save
    nodes:
      save: { kind: callMicroflow, microflow: Save, parameters: { Text: "'top'" }, next: call }
      call: { kind: callMicroflow, microflow: Mid, next: done }
      done: { kind: end }

  KeepEarlierWork:
    returnType: String
    start: before
    nodes:
      before: { kind: callMicroflow, microflow: Save, parameters: { Text: "'before'" }, next: call }
      call:
        kind: callMicroflow
        microflow: Fail
        parameters: { Text: "'inside'" }
        next: ok
        onError: { handling: customWithoutRollback, next: handled }
      ok: { kind: end, value: "'no error'" }
      handled: { kind: callMicroflow, microflow: Save, parameters: { Text: "'handled'" }, next: done }
      done: { kind: end, value: "$latestError/ErrorType + ': ' + $latestError/Message" }

  RollBackEverything:
    returnType: String
    start: before
    nodes:
      before: { kind: callMicroflow, microflow: Save, parameters: { Text: "'before'" }, next: call }
      call:
        kind: callMicroflow
        microflow: Fail
        parameters: { Text: "'inside'" }
        next: ok
        onError: { handling: customWithRollback, next: handled }
      ok: { kind: end, value: "'no error'" }
      handled: { kind: callMicroflow, microflow: Save, parameters: { Text: "'after rollback'" }, next: done }
      done: { kind: end, value: $latestError/Message }

  GoOn:
    start: before
    nodes:
      before: { kind: callMicroflow, microflow: Save, parameters: { Text: "'before'" }, next: call }
      call:
        kind: callMicroflow
        microflow: Fail
        parameters: { Text: "'inside'" }
        next: after
        onError: { handling: continue }
      after: { kind: callMicroflow, microflow: Save, parameters: { Text: "'after'" }, next: done }
      done: { kind: end }

  FailWithValue:
    returnType: String
    start: fail
    nodes:
      fail: { kind: callMicroflow, microflow: Fail, parameters: { Text: "'value'" }, next: done }
      done: { kind: end, value: "'never'" }

  GoOnWithoutValue:
    returnType: Boolean
    start: call
    nodes:
      call:
        kind: callMicroflow
        microflow: FailWithValue
        output: Value
        next: done
        onError: { handling: continue }
      done: { kind: end, value: $Value = empty }

  Rethrow:
    start: call
    nodes:
      call:
        kind: callMicroflow
        microflow: Fail
        parameters: { Text: "'rethrown'" }
        next: done
        onError: { handling: customWithoutRollback, next: note }
      note: { kind: callMicroflow, microflow: Save, parameters: { Text: "'noted in Rethrow'" }, next: raise }
      raise: { kind: error }
      done: { kind: end }

  CatchRethrow:
    returnType: String
    start: call
    nodes:
      call:
        kind: callMicroflow
        microflow: Rethrow
        next: ok
        onError: { handling: customWithoutRollback, next: caught }
      ok: { kind: end, value: "'no error'" }
      caught: { kind: end, value: $latestError/Message }

  FailInErrorFlow:
    start: call
    nodes:
      call:
        kind: callMicroflow
        microflow: Fail
        parameters: { Text: "'first'" }
        next: done
        onError: { handling: customWithoutRollback, next: again }
      again: { kind: callMicroflow, microflow: Fail, parameters: { Text: "'second'" }, next: done }
      done: { kind: end }

  EachOrSkip:
    parameters: { Count: Integer, Bad: Integer }
    start: count
    nodes:
      count:
        kind: while
        condition: $currentIndex < $Count
        body:
          start: which
          nodes:
            which:
              kind: decision
              expression: $currentIndex = $Bad
              cases: { 'true': bad, 'false': good }
            bad: { kind: callMicroflow, microflow: Fail, parameters: { Text: "'bad ' + toString($currentIndex)" } }
            good: { kind: callMicroflow, microflow: Save, parameters: { Text: "'good ' + toString($currentIndex)" } }
        next: done
        onError: { handling: continue }
      done: { kind: end }

  Invalid:
    start: make
    nodes:
      make: { kind: create, entity: Note, members: { Text: "' '" }, commit: yes, output: N, next: done }
      done: { kind: end }
`;

const model = testModel({ 'App/domain.yaml': DOMAIN, 'App/flows.yaml': FLOWS });
const { engine, logs } = testEngine(model);
let database: TestDatabase;

beforeAll(async () => {
  database = await testDatabase(model, 'errors');
});
afterAll(async () => {
  await database.drop();
});
beforeEach(async () => {
  await database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
    const { objects } = await uow.retrieve({ entity: 'App.Note' });
    await uow.delete(objects);
  });
});

async function notes(): Promise<string[]> {
  return database.db.transaction(SYSTEM_CONTEXT, async (uow) => {
    const { objects } = await uow.retrieve({
      entity: 'App.Note',
      sort: [{ attribute: 'Text', descending: false }],
    });
    return objects.map((o) => o.get('Text') as string);
  });
}

describe('default error handling (rollback)', () => {
  it('rolls back every write of the run when an error three sub-microflows deep is not handled', async () => {
    const error = await errorOf(engine, database.db, { microflow: 'App.Top' });
    expect(error).toBeInstanceOf(MicroflowError);
    const failure = error as MicroflowError;
    expect(failure.code).toBe(MicroflowErrorCode.Failed);
    expect(failure.details.causeCode).toBe('EXPR_DIVISION_BY_ZERO');
    expect(failure.details.callStack).toEqual([
      { microflow: 'App.Top', node: 'call' },
      { microflow: 'App.Mid', node: 'call' },
      { microflow: 'App.Deep', node: 'call' },
      { microflow: 'App.Fail', node: 'divide' },
    ]);
    expect(failure.message).toContain('App.Fail');
    expect(failure.message).toContain("'divide'");
    expect(await notes()).toEqual([]);
  });

  it('carries the cause’s status and details, e.g. the problems of a failed validation', async () => {
    const failure = (await errorOf(engine, database.db, { microflow: 'App.Invalid' })) as MicroflowError;
    expect(failure.details.causeCode).toBe('VALIDATION_FAILED');
    expect(failure.status).toBe('validation_failed');
    expect(JSON.stringify(failure.details.causeDetails)).toContain('A note needs text.');
    expect(await notes()).toEqual([]);
  });
});

describe('custom error handling', () => {
  it('custom without rollback undoes only the failing activity, keeps earlier work and sets $latestError', async () => {
    const { result } = await resultOf(engine, database.db, { microflow: 'App.KeepEarlierWork' });
    expect(result).toMatch(/^EXPR_DIVISION_BY_ZERO: /);
    expect(result).toContain('Division by zero');
    expect(await notes()).toEqual(['before', 'handled']);
  });

  it('custom with rollback undoes everything before the error flow, which then goes on in a new transaction', async () => {
    const { result } = await resultOf(engine, database.db, { microflow: 'App.RollBackEverything' });
    expect(result).toContain('Division by zero');
    expect(await notes()).toEqual(['after rollback']);
  });

  it('continue undoes the failing activity and goes on with the next node', async () => {
    await resultOf(engine, database.db, { microflow: 'App.GoOn' });
    expect(await notes()).toEqual(['after', 'before']);
  });

  it('continue leaves the output of the failed activity empty', async () => {
    const { result } = await resultOf(engine, database.db, { microflow: 'App.GoOnWithoutValue' });
    expect(result).toBe(true);
    expect(await notes()).toEqual([]);
  });

  it('an error event raises the handled error again for the caller, with the original message', async () => {
    const { result } = await resultOf(engine, database.db, { microflow: 'App.CatchRethrow' });
    expect(result).toContain('Division by zero');
    // The caller's savepoint undid everything Rethrow did, its error flow included.
    expect(await notes()).toEqual([]);
  });

  it('an error inside an error flow is not caught by the same handler', async () => {
    const failure = (await errorOf(engine, database.db, {
      microflow: 'App.FailInErrorFlow',
    })) as MicroflowError;
    expect(failure.details.callStack).toEqual([
      { microflow: 'App.FailInErrorFlow', node: 'again' },
      { microflow: 'App.Fail', node: 'divide' },
    ]);
    expect(await notes()).toEqual([]);
  });

  it('a loop with continue skips a failing iteration, undoing only that iteration', async () => {
    await resultOf(engine, database.db, { microflow: 'App.EachOrSkip', arguments: { Count: 4n, Bad: 2n } });
    expect(await notes()).toEqual(['good 0', 'good 1', 'good 3']);
    expect(logs.find("Iteration 2 of loop 'count'")).toHaveLength(1);
  });
});
