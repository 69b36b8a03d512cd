import { describe, expect, it } from 'vitest';
import { loadErrors, loadValid, where } from '../testing/helpers.js';

const DOMAIN = `module: Shop
moduleRoles: [User]
enumerations:
  Status: { values: { Open: Open, Done: Done } }
entities:
  Order:
    attributes:
      Number: AutoNumber
      Total: Decimal
      Status: { type: Enumeration, enumeration: Status }
      Note: String
  Line:
    attributes: { Quantity: Integer, Price: Decimal }
  Special: { generalization: Order }
associations:
  Line_Order: { owner: Line, target: Order }
taskQueues:
  Background: { threads: 1 }
`;

/** A model with the Shop domain and the given microflows file. */
function withFlows(flows: string): Record<string, string> {
  return { 'Shop/domain.yaml': DOMAIN, 'Shop/flows.yaml': `module: Shop\nmicroflows:\n${flows}` };
}

describe('microflows', () => {
  it('compile with nodes, variable scopes and compiled expressions', () => {
    const model = loadValid(
      withFlows(`  Sum:
    parameters: { Order: Order }
    returnType: Decimal
    allowedRoles: [User]
    start: lines
    nodes:
      lines: { kind: retrieve, association: Line_Order, object: $Order, output: Lines, next: each }
      each:
        kind: loop
        over: $Lines
        iterator: Line
        body:
          start: bump
          nodes:
            bump: { kind: change, object: $Line, members: { Price: '$Line/Price * 2' } }
        next: total
      total: { kind: aggregate, list: $Lines, function: sum, attribute: Price, output: Total, next: done }
      done: { kind: end, value: $Total }
`),
    );
    const sum = model.microflows.get('Shop.Sum');
    expect(sum?.parameters).toEqual([{ name: 'Order', type: { kind: 'Object', entity: 'Shop.Order' } }]);
    expect(sum?.returnType).toEqual({ kind: 'Decimal' });
    expect(sum?.allowedRoles).toEqual(['Shop.User']);
    expect(sum?.applyEntityAccess).toBe(false);
    expect(sum?.flow).toEqual({ start: 'lines', nodes: ['lines', 'each', 'total', 'done'] });
    const lines = sum?.nodes.get('lines');
    expect(lines).toMatchObject({
      kind: 'retrieve',
      source: 'association',
      entity: 'Shop.Line',
      outputType: { kind: 'List', entity: 'Shop.Line' },
    });
    const bump = sum?.nodes.get('bump');
    expect(bump?.loop).toBe('each');
    expect(bump?.next).toBeUndefined();
    expect([...(bump?.scope.keys() ?? [])].sort()).toEqual([
      'Line',
      'Lines',
      'Order',
      'currentIndex',
      'currentSession',
      'currentUser',
    ]);
    expect(sum?.nodes.get('done')?.scope.has('Line')).toBe(false);
    const total = sum?.nodes.get('total');
    expect(total).toMatchObject({ kind: 'aggregate', outputType: { kind: 'Decimal' } });
    const done = sum?.nodes.get('done');
    expect(done?.kind === 'end' && done.value?.compiled.type).toEqual({ kind: 'Decimal' });
    expect(sum?.variables.get('Lines')).toEqual({ kind: 'List', entity: 'Shop.Line' });
  });

  it('report an expression of the wrong type at its position', () => {
    const files = withFlows(`  F:
    returnType: Integer
    start: done
    nodes:
      done: { kind: end, value: "'not a number'" }
`);
    const [error] = loadErrors(files);
    expect(error).toMatchObject({
      code: 'EXPR_TYPE_MISMATCH',
      file: 'Shop/flows.yaml',
      ...where(files['Shop/flows.yaml'] ?? '', "'not a number'"),
      path: 'Shop/microflows/F/nodes/done/value',
    });
  });

  it('report an unknown function inside a folded block scalar on the right line and column', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    returnType: Boolean
    start: check
    nodes:
      check:
        kind: decision
        expression: >-
          $Order/Total > 0 and
          lenght($Order/Note) > 3
        cases: { 'true': yes, 'false': no }
      yes: { kind: end, value: 'true' }
      no: { kind: end, value: 'false' }
`);
    const [error] = loadErrors(files);
    expect(error).toMatchObject({
      code: 'EXPR_UNKNOWN_FUNCTION',
      ...where(files['Shop/flows.yaml'] ?? '', 'lenght'),
      path: 'Shop/microflows/F/nodes/check/expression',
    });
  });

  it('report a bad XPath path in a retrieve, at its position', () => {
    const files = withFlows(`  F:
    start: get
    nodes:
      get: { kind: retrieve, entity: Order, xpath: '[Shop.Line_Order/Shop.Order/Total > 1]', output: Orders, next: done }
      done: { kind: end }
`);
    const errors = loadErrors(files);
    expect(errors[0]?.code).toMatch(/^XPATH_/);
    expect(errors[0]?.path).toBe('Shop/microflows/F/nodes/get/xpath');
    expect(errors[0]?.line).toBe(where(files['Shop/flows.yaml'] ?? '', 'xpath').line);
  });

  it('report a dangling next, an unreachable node and a node without next, all in one run', () => {
    const files = withFlows(`  Dangling:
    start: a
    nodes:
      a: { kind: createVariable, type: Integer, value: '1', output: X, next: c }
      b: { kind: end }
  Lost:
    start: a
    nodes:
      a: { kind: end }
      lost: { kind: end }
  Open:
    start: a
    nodes:
      a: { kind: logMessage, template: hello }
`);
    const text = files['Shop/flows.yaml'] ?? '';
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path, e.line, e.column])).toEqual([
      [
        'MODEL_UNKNOWN_NODE',
        'Shop/microflows/Dangling/nodes/a/next',
        where(text, 'c }').line,
        where(text, 'c }').column,
      ],
      [
        'MODEL_INVALID_FLOW',
        'Shop/microflows/Lost/nodes/lost',
        where(text, 'lost:').line,
        where(text, 'lost:').column,
      ],
      [
        'MODEL_INVALID_FLOW',
        'Shop/microflows/Open/nodes/a',
        where(text, 'a: { kind: log').line,
        where(text, 'a: { kind: log').column,
      ],
    ]);
    expect(errors[0]?.hint).toMatch(/'a'|'b'/);
    expect(errors[1]?.message).toContain('never be reached');
    expect(errors[2]?.message).toContain('no next node');
  });

  it('report a flow without an end and a cycle without a way out', () => {
    const files = withFlows(`  F:
    start: a
    nodes:
      a: { kind: merge, next: b }
      b: { kind: merge, next: a }
`);
    const messages = loadErrors(files).map((e) => e.message);
    expect(messages.some((m) => m.includes('loops forever'))).toBe(true);
    expect(messages.some((m) => m.includes('no end node'))).toBe(true);
  });

  it('report break outside a loop and an end inside one', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    start: lines
    nodes:
      lines: { kind: retrieve, association: Line_Order, object: $Order, output: Lines, next: each }
      each:
        kind: loop
        over: $Lines
        iterator: Line
        body:
          start: stop
          nodes:
            stop: { kind: end }
        next: out
      out: { kind: break }
`);
    const text = files['Shop/flows.yaml'] ?? '';
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path])).toContainEqual([
      'MODEL_INVALID_FLOW',
      'Shop/microflows/F/nodes/each/body/nodes/stop/kind',
    ]);
    expect(errors.map((e) => [e.code, e.path])).toContainEqual([
      'MODEL_INVALID_FLOW',
      'Shop/microflows/F/nodes/out/kind',
    ]);
    expect(errors.find((e) => e.path.endsWith('out/kind'))).toMatchObject(where(text, 'break'));
  });

  it('refuse a jump into a loop body', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    start: lines
    nodes:
      lines: { kind: retrieve, association: Line_Order, object: $Order, output: Lines, next: inside }
      each:
        kind: loop
        over: $Lines
        iterator: Line
        body:
          start: inside
          nodes:
            inside: { kind: continue }
        next: done
      done: { kind: end }
`);
    const errors = loadErrors(files);
    expect(errors[0]).toMatchObject({
      code: 'MODEL_INVALID_FLOW',
      path: 'Shop/microflows/F/nodes/lines/next',
    });
  });

  it('report a decision that misses a Boolean case, and enumeration cases that are incomplete or unknown', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    start: a
    nodes:
      a: { kind: decision, expression: '$Order/Total > 0', cases: { 'true': b } }
      b: { kind: decision, expression: $Order/Status, cases: { Open: c, Closed: c } }
      c: { kind: end }
`);
    const text = files['Shop/flows.yaml'] ?? '';
    const errors = loadErrors(files);
    // Errors come in file order: the cases key comes before the Closed case on its line.
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_MISSING_CASE', 'Shop/microflows/F/nodes/a/cases'],
      ['MODEL_MISSING_CASE', 'Shop/microflows/F/nodes/b/cases'],
      ['MODEL_UNKNOWN_ENUMERATION_VALUE', 'Shop/microflows/F/nodes/b/cases/Closed'],
    ]);
    expect(errors[0]?.message).toContain("'false'");
    expect(errors[2]).toMatchObject(where(text, 'Closed'));
    expect(errors[1]?.message).toContain("'Done', 'empty'");
  });

  it('accept an enumeration decision with a default instead of every case', () => {
    const model = loadValid(
      withFlows(`  F:
    parameters: { Order: Order }
    start: a
    nodes:
      a: { kind: decision, expression: $Order/Status, cases: { Open: c }, default: c }
      c: { kind: end }
`),
    );
    const a = model.microflows.get('Shop.F')?.nodes.get('a');
    expect(a?.kind === 'decision' && a.default).toBe('c');
  });

  it('type an inheritance split and its casts, and require every case or a default', () => {
    const ok = loadValid(
      withFlows(`  F:
    parameters: { Order: Order }
    start: split
    nodes:
      split: { kind: inheritanceSplit, object: $Order, cases: { Special: cast }, default: done }
      cast: { kind: cast, output: S, next: done }
      done: { kind: end }
`),
    );
    expect(ok.microflows.get('Shop.F')?.nodes.get('cast')).toMatchObject({
      kind: 'cast',
      variable: 'Order',
      entity: 'Shop.Special',
    });
    const files = withFlows(`  F:
    parameters: { Order: Order }
    start: split
    nodes:
      split: { kind: inheritanceSplit, object: $Order, cases: { Special: done } }
      done: { kind: end }
`);
    const [error] = loadErrors(files);
    expect(error).toMatchObject({ code: 'MODEL_MISSING_CASE', path: 'Shop/microflows/F/nodes/split/cases' });
    expect(error?.message).toContain('Shop.Order');
  });

  it('refuse a cast that does not follow an inheritance split', () => {
    const files = withFlows(`  F:
    start: cast
    nodes:
      cast: { kind: cast, output: S, next: done }
      done: { kind: end }
`);
    expect(loadErrors(files)[0]).toMatchObject({
      code: 'MODEL_INVALID_FLOW',
      path: 'Shop/microflows/F/nodes/cast/kind',
    });
  });

  it('report a variable that is not defined on every path to a node', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    returnType: Integer
    start: a
    nodes:
      a: { kind: decision, expression: '$Order/Total > 0', cases: { 'true': make, 'false': join } }
      make: { kind: createVariable, type: Integer, value: '1', output: N, next: join }
      join: { kind: merge, next: done }
      done: { kind: end, value: $N }
`);
    const [error] = loadErrors(files);
    expect(error).toMatchObject({
      code: 'EXPR_UNKNOWN_VARIABLE',
      path: 'Shop/microflows/F/nodes/done/value',
    });
  });

  it('report duplicate node names and variable names', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    start: a
    nodes:
      a: { kind: createVariable, type: Integer, output: Order, next: done }
      done: { kind: end }
`);
    const [error] = loadErrors(files);
    expect(error).toMatchObject({ code: 'MODEL_DUPLICATE_NAME', path: 'Shop/microflows/F/nodes/a/output' });
  });

  it('make $latestError available in error flows only, and require an error flow for an error event', () => {
    const model = loadValid(
      withFlows(`  F:
    parameters: { Order: Order }
    start: save
    nodes:
      save: { kind: commit, object: $Order, next: done, onError: { handling: customWithRollback, next: log } }
      log: { kind: logMessage, template: 'Failed: {1}', parameters: [$latestError/Message], next: fail }
      fail: { kind: error }
      done: { kind: end }
`),
    );
    const log = model.microflows.get('Shop.F')?.nodes.get('log');
    expect(log?.scope.get('latestError')).toEqual({ kind: 'Object', entity: 'System.Error' });
    expect(model.microflows.get('Shop.F')?.nodes.get('save')?.errorHandling).toEqual({
      handling: 'customWithRollback',
      next: 'log',
    });
    const files = withFlows(`  F:
    start: check
    nodes:
      check: { kind: decision, expression: 'true', cases: { 'true': done, 'false': fail } }
      fail: { kind: error }
      done: { kind: end }
`);
    const errors = loadErrors(files);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({
      code: 'MODEL_INVALID_FLOW',
      path: 'Shop/microflows/F/nodes/fail/kind',
    });
  });

  it('require the error flow of custom error handling', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    start: save
    nodes:
      save: { kind: commit, object: $Order, next: done, onError: { handling: customWithoutRollback } }
      done: { kind: end }
`);
    expect(loadErrors(files)[0]).toMatchObject({
      code: 'MODEL_INVALID_FLOW',
      path: 'Shop/microflows/F/nodes/save/onError',
    });
  });

  it('check calls: unknown microflow, missing and unknown arguments, and output of a void microflow', () => {
    const files = withFlows(`  Callee:
    parameters: { Order: Order, Amount: Decimal }
    start: done
    nodes: { done: { kind: end } }
  F:
    parameters: { Order: Order }
    start: a
    nodes:
      a: { kind: callMicroflow, microflow: Calee, next: b }
      b: { kind: callMicroflow, microflow: Callee, parameters: { Order: $Order, Amout: '1' }, output: R, next: done }
      done: { kind: end }
`);
    const text = files['Shop/flows.yaml'] ?? '';
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_UNKNOWN_MICROFLOW', 'Shop/microflows/F/nodes/a/microflow'],
      ['MODEL_INVALID_ARGUMENTS', 'Shop/microflows/F/nodes/b/parameters'],
      ['MODEL_UNKNOWN_PARAMETER', 'Shop/microflows/F/nodes/b/parameters/Amout'],
      ['MODEL_TYPE_MISMATCH', 'Shop/microflows/F/nodes/b/output'],
    ]);
    expect(errors[0]).toMatchObject(where(text, 'Calee'));
    expect(errors[0]?.hint).toContain('Shop.Callee');
  });

  it('check calls on a task queue: the queue exists and there is no output', () => {
    const files = withFlows(`  Job:
    parameters: { Order: Order }
    start: done
    nodes: { done: { kind: end } }
  F:
    parameters: { Order: Order }
    start: a
    nodes:
      a: { kind: callMicroflow, microflow: Job, parameters: { Order: $Order }, taskQueue: Backgrnd, next: done }
      done: { kind: end }
`);
    expect(loadErrors(files)[0]).toMatchObject({
      code: 'MODEL_UNKNOWN_TASK_QUEUE',
      path: 'Shop/microflows/F/nodes/a/taskQueue',
    });
  });

  it('check members of create and change: attributes, associations and read-only ones', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    start: a
    nodes:
      a:
        kind: create
        entity: Line
        members: { Quantity: "'three'", Line_Order: $Order, Colour: "'red'" }
        output: L
        next: b
      b: { kind: change, object: $Order, members: { Number: '5' }, next: done }
      done: { kind: end }
`);
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['EXPR_TYPE_MISMATCH', 'Shop/microflows/F/nodes/a/members/Quantity'],
      ['MODEL_UNKNOWN_ATTRIBUTE', 'Shop/microflows/F/nodes/a/members/Colour'],
      ['MODEL_INVALID_ARGUMENTS', 'Shop/microflows/F/nodes/b/members/Number'],
    ]);
  });

  it('compile database retrieves with sort and range, and type the output by the range', () => {
    const model = loadValid(
      withFlows(`  F:
    parameters: { Min: Decimal }
    start: first
    nodes:
      first: { kind: retrieve, entity: Order, xpath: '[Total > $Min]', sort: { Total: desc, Number: asc }, range: first, output: Top, next: page }
      page: { kind: retrieve, entity: Order, range: { offset: '10', amount: '5' }, output: Page, next: done }
      done: { kind: end }
`),
    );
    const first = model.microflows.get('Shop.F')?.nodes.get('first');
    expect(first).toMatchObject({
      kind: 'retrieve',
      source: 'database',
      sort: [
        { attribute: 'Total', descending: true },
        { attribute: 'Number', descending: false },
      ],
      range: { kind: 'first' },
      outputType: { kind: 'Object', entity: 'Shop.Order' },
    });
    expect(model.microflows.get('Shop.F')?.nodes.get('page')).toMatchObject({
      range: { kind: 'custom' },
      outputType: { kind: 'List' },
    });
  });

  it('check list operations and their operands', () => {
    const files = withFlows(`  F:
    parameters: { Order: Order }
    start: lines
    nodes:
      lines: { kind: retrieve, association: Line_Order, object: $Order, output: Lines, next: big }
      big: { kind: listOperation, operation: filterByExpression, list: $Lines, expression: '$currentObject/Quantity > 2', output: Big, next: head }
      head: { kind: listOperation, operation: head, list: $Big, output: First, next: wrong }
      wrong: { kind: listOperation, operation: contains, list: $Lines, other: $Order, output: Has, next: done }
      done: { kind: end }
`);
    const [error] = loadErrors(files);
    expect(error).toMatchObject({ code: 'MODEL_TYPE_MISMATCH', path: 'Shop/microflows/F/nodes/wrong/other' });
  });

  it('check templates: every placeholder needs a parameter', () => {
    const files = withFlows(`  F:
    start: log
    nodes:
      log: { kind: logMessage, template: 'Got {1} and {2}', parameters: ["'one'"], next: done }
      done: { kind: end }
`);
    const text = files['Shop/flows.yaml'] ?? '';
    const [error] = loadErrors(files);
    expect(error).toMatchObject({
      code: 'MODEL_INVALID_ARGUMENTS',
      path: 'Shop/microflows/F/nodes/log/template',
      ...where(text, '{2}'),
    });
  });

  it('check the return value against the return type, and an end without value in a void microflow', () => {
    const files = withFlows(`  F:
    returnType: Boolean
    start: done
    nodes:
      done: { kind: end }
  G:
    start: done
    nodes:
      done: { kind: end, value: 'true' }
`);
    const errors = loadErrors(files);
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_TYPE_MISMATCH', 'Shop/microflows/F/nodes/done'],
      ['MODEL_TYPE_MISMATCH', 'Shop/microflows/G/nodes/done/value'],
    ]);
  });

  it('report an unknown parameter type and do not echo errors for its uses', () => {
    const files = withFlows(`  F:
    parameters: { X: Ordr }
    returnType: Boolean
    start: done
    nodes:
      done: { kind: end, value: '$X/Total > 1' }
`);
    const errors = loadErrors(files);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'MODEL_UNKNOWN_TYPE', path: 'Shop/microflows/F/parameters/X' });
    expect(errors[0]?.hint).toContain('Shop.Order');
  });

  it('compile a while loop with $currentIndex and call REST with a mapped response', () => {
    const model = loadValid(
      withFlows(`  F:
    start: more
    nodes:
      more: { kind: createVariable, type: Boolean, value: 'true', output: More, next: loop }
      loop:
        kind: while
        condition: $More and $currentIndex < 3
        body:
          start: call
          nodes:
            call:
              kind: callRest
              method: GET
              url: 'https://example.com/orders?page={1}'
              urlParameters: ['toString($currentIndex)']
              headers: { Accept: "'application/json'" }
              response: { as: list, entity: Order, members: { Note: note } }
              output: Fetched
              next: stop
            stop: { kind: changeVariable, variable: $More, value: 'false' }
        next: done
      done: { kind: end }
`),
    );
    const call = model.microflows.get('Shop.F')?.nodes.get('call');
    expect(call).toMatchObject({
      kind: 'callRest',
      method: 'GET',
      timeoutMs: 300000,
      outputType: { kind: 'List', entity: 'Shop.Order' },
    });
    expect(call?.kind === 'callRest' && call.url.text).toBe('https://example.com/orders?page={1}');
    expect(
      call?.kind === 'callRest' && call.response.as === 'list' && Object.fromEntries(call.response.members),
    ).toEqual({ Note: 'note' });
  });
});
