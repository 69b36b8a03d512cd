import { describe, expect, it } from 'vitest';
import type { Decimal } from '@runplane/expressions';
import { loadErrors, loadValid, where } from '../testing/helpers.js';
import { parseCron } from './cron.js';

const DOMAIN = `module: Api
moduleRoles: [Client]
entities:
  Item:
    attributes: { Code: String, Name: String, Secret: HashedString, Price: Decimal }
    validation: [{ rule: unique, attribute: Code, message: Taken. }]
microflows:
  Job:
    start: done
    nodes: { done: { kind: end } }
  JobWithParam:
    parameters: { X: Integer }
    start: done
    nodes: { done: { kind: end } }
  GetItem:
    parameters: { code: String, verbose: Boolean }
    returnType: Item
    start: get
    nodes:
      get: { kind: retrieve, entity: Item, xpath: '[Code = $code]', range: first, output: Found, next: done }
      done: { kind: end, value: $Found }
  SaveItem:
    parameters: { Item: Item }
    start: done
    nodes: { done: { kind: end } }
`;

describe('constants', () => {
  it('compile with typed values', () => {
    const model = loadValid({
      'M.yaml': `module: M
constants:
  Rate: { type: Decimal, value: '0.21' }
  Max: { type: Long, value: 10 }
  On: { type: Boolean, value: true }
  Url: { type: String, value: https://example.com }
`,
    });
    expect((model.constants.get('M.Rate')?.value as Decimal).toString()).toBe('0.21');
    expect(model.constants.get('M.Max')?.value).toBe(10n);
    expect(model.constants.get('M.On')?.value).toBe(true);
    expect(model.schema.constant('M.Rate')).toEqual({ kind: 'Decimal' });
  });

  it('report a value that does not fit the type', () => {
    const text = `module: M
constants:
  Max: { type: Integer, value: lots }
`;
    expect(loadErrors({ 'M.yaml': text })[0]).toMatchObject({
      code: 'MODEL_INVALID_VALUE',
      ...where(text, 'lots'),
      path: 'M/constants/Max/value',
    });
  });

  it('report an unknown constant used in an expression', () => {
    const text = `module: M
microflows:
  F:
    returnType: Integer
    start: done
    nodes: { done: { kind: end, value: '@M.Nope' } }
`;
    expect(loadErrors({ 'M.yaml': text })[0]).toMatchObject({
      code: 'EXPR_UNKNOWN_CONSTANT',
      ...where(text, '@M.Nope'),
      path: 'M/microflows/F/nodes/done/value',
    });
  });
});

describe('scheduled events', () => {
  it('compile an interval and a cron schedule', () => {
    const model = loadValid({
      'Api.yaml': `${DOMAIN}scheduledEvents:
  Nightly: { microflow: Job, interval: { type: Daily, time: '02:30' } }
  Monthly: { microflow: Job, interval: { type: Monthly, every: 3, weekday: { week: last, day: Friday }, time: '18:00' }, overlap: delay }
  Weekdays: { microflow: Job, cron: '*/15 8-17 * * MON-FRI', timeZone: server }
`,
    });
    expect(model.scheduledEvents.get('Api.Nightly')).toMatchObject({
      microflow: 'Api.Job',
      enabled: true,
      timeZone: 'UTC',
      overlap: 'skip',
      schedule: { kind: 'interval', interval: { type: 'Daily', time: { hour: 2, minute: 30 } } },
    });
    expect(model.scheduledEvents.get('Api.Monthly')?.schedule).toEqual({
      kind: 'interval',
      interval: {
        type: 'Monthly',
        every: 3,
        on: { weekday: { week: 'last', day: 'Friday' } },
        time: { hour: 18, minute: 0 },
      },
    });
    const weekdays = model.scheduledEvents.get('Api.Weekdays')?.schedule;
    expect(weekdays?.kind === 'cron' && weekdays.cron.minutes).toEqual([0, 15, 30, 45]);
    expect(weekdays?.kind === 'cron' && weekdays.cron.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
  });

  it('report a microflow with parameters, an interval that does not divide the hour, and a bad cron field', () => {
    const text = `${DOMAIN}scheduledEvents:
  A: { microflow: JobWithParam, interval: { type: Daily, time: '01:00' } }
  B: { microflow: Job, interval: { type: Minutes, every: 7 } }
  C: { microflow: Job, cron: '0 25 * * *' }
  D: { microflow: Job }
`;
    const errors = loadErrors({ 'Api.yaml': text });
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_INVALID_ARGUMENTS', 'Api/scheduledEvents/A/microflow'],
      ['MODEL_INVALID_SCHEDULE', 'Api/scheduledEvents/B/interval/every'],
      ['MODEL_INVALID_SCHEDULE', 'Api/scheduledEvents/C/cron'],
      ['MODEL_INVALID_SCHEDULE', 'Api/scheduledEvents/D'],
    ]);
    expect(errors[2]).toMatchObject(where(text, "25 * * *'"));
  });

  it('parse cron names, steps, ranges and macros', () => {
    const daily = parseCron('@daily');
    expect(daily.ok && [daily.schedule.minutes, daily.schedule.hours]).toEqual([[0], [0]]);
    const sundays = parseCron('0 12 1-7 jan,jul 7');
    expect(
      sundays.ok && [
        sundays.schedule.months,
        sundays.schedule.daysOfWeek,
        sundays.schedule.dayOfMonthRestricted,
      ],
    ).toEqual([[1, 7], [0], true]);
    const bad = parseCron('0 0 * *');
    expect(bad.ok).toBe(false);
  });
});

describe('published REST services', () => {
  it('compile microflow operations with inferred parameter sources and entity CRUD', () => {
    const model = loadValid({
      'Api.yaml': `${DOMAIN}restServices:
  Items:
    authentication: [basic]
    allowedRoles: [Client]
    resources:
      items:
        operations:
          get: { method: GET, path: '{code}', microflow: GetItem }
          save: { method: POST, microflow: SaveItem }
      catalog:
        entity: Item
        key: Code
        members: [Code, Name, Price]
        crud: [list, get, update]
        sortable: [Name]
`,
    });
    const service = model.restServices.get('Api.Items');
    expect(service?.location).toBe('rest/items/v1');
    expect(service?.version).toBe('1.0.0');
    expect(service?.authentication).toEqual(['basic']);
    expect(service?.operations.map((o) => `${o.method} ${o.path}`)).toEqual([
      'GET items/{code}',
      'POST items',
      'GET catalog',
      'GET catalog/{Code}',
      'PATCH catalog/{Code}',
    ]);
    const get = service?.operations[0];
    expect(
      get?.target.kind === 'microflow' &&
        get.target.parameters.map((p) => [p.parameter, p.source, p.required]),
    ).toEqual([
      ['code', 'path', true],
      ['verbose', 'query', false],
    ]);
    const save = service?.operations[1];
    expect(save?.target.kind === 'microflow' && save.target.parameters[0]?.source).toBe('body');
    expect(service?.operations[2]?.target).toMatchObject({
      kind: 'entity',
      action: 'list',
      key: 'Code',
      pageSize: 20,
      maxPageSize: 100,
      sortable: ['Name'],
    });
  });

  it('report a path parameter with no microflow parameter, a body on GET, a key that is not unique and an exposed hashed string', () => {
    const text = `${DOMAIN}restServices:
  Items:
    resources:
      items:
        operations:
          get: { method: GET, path: '{id}', microflow: Job }
          bad: { method: GET, path: x, microflow: SaveItem }
      catalog: { entity: Item, key: Name, crud: [list] }
      secrets: { entity: Item, members: [Secret], crud: [list] }
`;
    const errors = loadErrors({ 'Api.yaml': text });
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_INVALID_REST', 'Api/restServices/Items/resources/items/operations/get/path'],
      ['MODEL_INVALID_REST', 'Api/restServices/Items/resources/items/operations/bad/microflow'],
      ['MODEL_INVALID_REST', 'Api/restServices/Items/resources/catalog/key'],
      ['MODEL_INVALID_REST', 'Api/restServices/Items/resources/secrets/members/0'],
    ]);
  });

  it('require roles with authentication, and refuse a location the runtime serves itself', () => {
    const text = `${DOMAIN}restServices:
  A: { authentication: [session], resources: { x: { operations: { j: { method: POST, microflow: Job } } } } }
  B: { location: xas/things, resources: { x: { operations: { j: { method: POST, microflow: Job } } } } }
`;
    const errors = loadErrors({ 'Api.yaml': text });
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_INVALID_REST', 'Api/restServices/A/authentication'],
      ['MODEL_INVALID_REST', 'Api/restServices/B/location'],
    ]);
  });
});

describe('task queues and custom actions', () => {
  it('compile with defaults', () => {
    const model = loadValid({
      'M.yaml': `module: M
taskQueues:
  Mail: { threads: 3, maxRetries: 2, retry: { backoff: exponential, intervalMs: 500 } }
customActions:
  Notify:
    parameters: { To: String, Count: Integer }
    returnType: Boolean
`,
    });
    expect(model.taskQueues.get('M.Mail')).toMatchObject({
      threads: 3,
      scope: 'node',
      maxRetries: 2,
      retry: { backoff: 'exponential', intervalMs: 500, maxIntervalMs: 500 },
    });
    expect(model.customActions.get('M.Notify')).toMatchObject({
      parameters: [
        { name: 'To', type: { kind: 'String' } },
        { name: 'Count', type: { kind: 'Integer' } },
      ],
      returnType: { kind: 'Boolean' },
    });
  });

  it('report an unknown custom action and arguments of the wrong type', () => {
    const text = `module: M
customActions:
  Notify: { parameters: { To: String } }
microflows:
  F:
    start: a
    nodes:
      a: { kind: callAction, action: Notfy, next: b }
      b: { kind: callAction, action: Notify, parameters: { To: '42' }, next: done }
      done: { kind: end }
`;
    const errors = loadErrors({ 'M.yaml': text });
    expect(errors.map((e) => [e.code, e.path])).toEqual([
      ['MODEL_UNKNOWN_ACTION', 'M/microflows/F/nodes/a/action'],
      ['EXPR_TYPE_MISMATCH', 'M/microflows/F/nodes/b/parameters/To'],
    ]);
  });
});
