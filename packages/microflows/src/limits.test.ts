import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MicroflowErrorCode, type MicroflowError } from './errors.js';
import {
  errorOf,
  resultOf,
  testDatabase,
  testEngine,
  testModel,
  type TestDatabase,
} from './testing/harness.js';

const FLOWS = `module: App
moduleRoles: [Admin, Clerk]
microflows:
  Forever:
    start: spin
    nodes:
      spin:
        kind: while
        condition: 'true'
        body:
          start: tick
          nodes:
            tick: { kind: createVariable, type: Integer, value: $currentIndex, output: I }
        next: done
      done: { kind: end }

  CatchForever:
    returnType: String
    start: call
    nodes:
      call:
        kind: callMicroflow
        microflow: Forever
        next: done
        onError: { handling: customWithoutRollback, next: caught }
      caught: { kind: end, value: "'caught'" }
      done: { kind: end, value: "'returned'" }

  Count:
    parameters: { n: Integer }
    returnType: Integer
    start: total
    nodes:
      total: { kind: createVariable, type: Integer, value: '0', output: T, next: loop }
      loop:
        kind: while
        condition: $currentIndex < $n
        body:
          start: add
          nodes:
            add: { kind: changeVariable, variable: $T, value: $T + 1 }
        next: done
      done: { kind: end, value: $T }

  Recurse:
    parameters: { n: Integer }
    returnType: Integer
    start: deeper
    nodes:
      deeper: { kind: callMicroflow, microflow: Recurse, parameters: { n: $n + 1 }, output: R, next: done }
      done: { kind: end, value: $R }
`;

const model = testModel({ 'App/flows.yaml': FLOWS });
let database: TestDatabase;

beforeAll(async () => {
  database = await testDatabase(model, 'limits');
});
afterAll(async () => {
  await database.drop();
});

describe('limits', () => {
  it('stops a runaway loop at its iteration limit with an error naming the microflow and the loop', async () => {
    const { engine } = testEngine(model, { limits: { maxLoopIterations: 5_000 } });
    const error = (await errorOf(engine, database.db, { microflow: 'App.Forever' })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.LimitExceeded);
    expect(error.status).toBe('limit_exceeded');
    expect(error.message).toContain("Loop 'spin'");
    expect(error.message).toContain('App.Forever');
    expect(error.details.callStack).toEqual([{ microflow: 'App.Forever', node: 'spin' }]);
  });

  it('lets no error handler catch a limit error', async () => {
    const { engine } = testEngine(model, { limits: { maxLoopIterations: 5_000 } });
    const error = (await errorOf(engine, database.db, { microflow: 'App.CatchForever' })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.LimitExceeded);
    expect(error.details.callStack).toEqual([
      { microflow: 'App.CatchForever', node: 'call' },
      { microflow: 'App.Forever', node: 'spin' },
    ]);
  });

  it('stops a run that exceeds its run time, naming where it was', async () => {
    const { engine } = testEngine(model, {
      limits: { maxRunTimeMs: 50, maxLoopIterations: Number.MAX_SAFE_INTEGER },
    });
    const error = (await errorOf(engine, database.db, { microflow: 'App.Forever' })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.LimitExceeded);
    expect(error.details['limit']).toBe('maxRunTimeMs');
    expect(error.message).toContain('App.Forever');
    expect(error.message).toContain("'spin'");
  });

  it('stops recursion at the call depth limit', async () => {
    const { engine } = testEngine(model, { limits: { maxCallDepth: 20 } });
    const error = (await errorOf(engine, database.db, {
      microflow: 'App.Recurse',
      arguments: { n: 0n },
    })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.LimitExceeded);
    expect(error.details['limit']).toBe('maxCallDepth');
    expect(error.details.callStack).toHaveLength(21);
  });

  it('yields to the event loop during a long run, so timers and health checks are answered', async () => {
    const { engine } = testEngine(model, { limits: { yieldEveryIterations: 1_000 } });
    let finished = false;
    let answeredDuringRun = false;
    setImmediate(() => {
      answeredDuringRun = !finished;
    });
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Count',
      arguments: { n: 20_000n },
    });
    finished = true;
    expect(result).toBe(20_000n);
    expect(answeredDuringRun).toBe(true);
  });

  it('runs a short CPU-only microflow without giving up the event loop', async () => {
    const { engine } = testEngine(model, { limits: { yieldEveryIterations: 1_000 } });
    const uow = engine.unitOfWork(database.db, {
      system: true,
      userId: undefined,
      userRoles: [],
      timeZone: '',
    });
    let finished = false;
    let answeredDuringRun = false;
    setImmediate(() => {
      answeredDuringRun = !finished;
    });
    const outcome = await engine.run({
      microflow: 'App.Count',
      arguments: new Map([['n', 10n]]),
      uow,
      fromClient: false,
    });
    finished = true;
    await uow.close();
    expect(outcome.result).toBe(10n);
    expect(answeredDuringRun).toBe(false);
  });
});
