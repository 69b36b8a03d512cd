import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { SYSTEM_CONTEXT } from '@runplane/persistence';
import { parseXPathQuery } from './actions/context.js';
import { actionRegistry, defineAction } from './actions/define.js';
import { loadActions } from './actions/load.js';
import { MicroflowErrorCode, type MicroflowError } from './errors.js';
import { errorOf, resultOf, testDatabase, testEngine, type TestDatabase } from './testing/harness.js';

const TOOLS = fileURLToPath(new URL('./testing/fixtures/tools', import.meta.url));
const BROKEN = fileURLToPath(new URL('./testing/fixtures/broken-tools', import.meta.url));

let model: CompiledModel;
let database: TestDatabase;

beforeAll(async () => {
  model = await loadModelOrThrow(TOOLS);
  database = await testDatabase(model, 'actions');
});
afterAll(async () => {
  await database.drop();
});

describe('loading actions', () => {
  it('imports every action file under actions/, sub-folders included, checked against the model', async () => {
    const actions = await loadActions(TOOLS, model);
    expect([...actions.keys()].sort()).toEqual([
      'Tools.CountNotes',
      'Tools.Explode',
      'Tools.SaveNotes',
      'Tools.Shout',
      'Tools.Twice',
    ]);
    const { engine } = testEngine(model, { actions });
    expect(engine.missingActions()).toEqual(['Tools.NotWritten']);
  });

  it('refuses files that do not match the model, naming each file and what is wrong', async () => {
    const broken = await loadModelOrThrow(BROKEN);
    const error = (await loadActions(BROKEN, broken).catch((e: unknown) => e)) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.ActionsInvalid);
    const problems = error.details['problems'] as { file: string; message: string }[];
    expect(problems).toEqual([
      {
        file: 'actions/Tools.Shout.ts',
        message: 'Tools.Shout: Parameter Text is Integer, but the model declares String.',
      },
      {
        file: 'actions/Tools.Shout.ts',
        message: 'Tools.Shout: It returns Boolean, but the model declares String.',
      },
      {
        file: 'actions/Tools.Unknown.ts',
        message:
          'Tools.Unknown: The model declares no custom action Tools.Unknown (it declares Tools.Shout).',
      },
      {
        file: 'actions/not-an-action.ts',
        message: 'Its default export is not an action: export default defineAction({...}).',
      },
    ]);
    expect(error.message).toContain('actions/Tools.Shout.ts');
  });

  it('gives an empty registry for an app without an actions folder', async () => {
    const actions = await loadActions(fileURLToPath(new URL('./testing', import.meta.url)), model);
    expect(actions.size).toBe(0);
  });

  it('reads a full XPath query as entity and constraint', () => {
    expect(parseXPathQuery("//Sales.Order[Total > 100][Status = 'Open']")).toEqual({
      entity: 'Sales.Order',
      xpath: "[Total > 100][Status = 'Open']",
    });
    expect(parseXPathQuery('//Sales.Order')).toEqual({ entity: 'Sales.Order' });
    expect(() => parseXPathQuery('Sales.Order')).toThrow(/not an XPath query/);
  });
});

describe('running actions', () => {
  it('passes typed arguments and uses the results; the context retrieves, instantiates, commits and calls microflows', async () => {
    const { engine, logs } = testEngine(model, { actions: await loadActions(TOOLS, model) });
    const { result } = await resultOf(engine, database.db, { microflow: 'Tools.UseActions' });
    expect(result).toBe('HELLO! 3 3 42');
    expect(logs.find('saved notes')[0]).toMatchObject({ action: 'Tools.SaveNotes', count: 3 });
    const stored = await database.db.transaction(SYSTEM_CONTEXT, async (uow) =>
      (await uow.retrieve({ entity: 'Tools.Note' })).objects.map((o) => o.get('Text') as string).sort(),
    );
    expect(stored).toEqual(['from action 0', 'from action 1', 'from action 2']);
  });

  it('lets the microflow handle an error the action throws', async () => {
    const { engine } = testEngine(model, { actions: await loadActions(TOOLS, model) });
    const { result } = await resultOf(engine, database.db, { microflow: 'Tools.Explosive' });
    expect(result).toBe('The action exploded on purpose.');
  });

  it('fails with ACTION_NOT_REGISTERED when the model’s action has no code', async () => {
    const { engine } = testEngine(model, { actions: await loadActions(TOOLS, model) });
    const error = (await errorOf(engine, database.db, { microflow: 'Tools.CallMissing' })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.ActionNotRegistered);
    expect(error.details.callStack).toEqual([{ microflow: 'Tools.CallMissing', node: 'call' }]);
  });

  it('refuses a result that does not fit the declared return type', async () => {
    const liar = defineAction({
      name: 'Tools.NotWritten',
      parameters: {},
      returns: 'Boolean',
      // A JavaScript action can return anything; the engine checks it.
      run: () => 'yes' as unknown as boolean,
    });
    const { engine } = testEngine(model, { actions: actionRegistry([liar]) });
    const error = (await errorOf(engine, database.db, { microflow: 'Tools.CallMissing' })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.ActionResultInvalid);
  });
});
