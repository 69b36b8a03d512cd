/**
 * Published REST lists and gets come from the executor's lean read path (a projected retrieve
 * whose objects arrive as text cells). This suite holds them to what the general path gives —
 * the executor's objects rendered member by member by `restObject` — for every attribute type,
 * users whose rules show different members on different rows, filters, sorting, paging and counts.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { common, executor as proto } from '@runplane/proto';
import { ExecutorClient } from '../executor/executor-client.js';
import { Browser, startDataStack, type DataStack } from '../testing/stack.js';
import { restObject } from './rest-routes.js';

const APP = `app: Lab
security:
  level: production
  userRoles:
    Admin: { moduleRoles: [Lab.Admin] }
    Reader: { moduleRoles: [Lab.Reader] }
  demoUsers:
    ada: { password: Password1!, roles: [Admin] }
    rex: { password: Password1!, roles: [Reader] }
settings:
  defaultTimeZone: America/New_York
`;

const LAB = `module: Lab
moduleRoles: [Admin, Reader]
enumerations:
  Colour: { values: { Red: Red, Green: Green, Blue: Blue } }
entities:
  Sample:
    attributes:
      Code: { type: String, length: 20 }
      Memo: { type: String, length: unlimited }
      Count: Integer
      Big: Long
      Amount: Decimal
      Flag: Boolean
      When: DateTime
      Colour: { type: Enumeration, enumeration: Colour }
      Seq: AutoNumber
      Secret: { type: String, length: 20 }
    validation:
      - { rule: unique, attribute: Code, message: Taken. }
    access:
      - roles: [Admin]
        create: true
        delete: true
        defaultMemberAccess: readWrite
      - roles: [Reader]
        xpath: '[Flag = true()]'
        members: { Code: read, Count: read, Amount: read, Flag: read }
      - roles: [Reader]
        xpath: '[Count > 10]'
        members: { Code: read, Memo: read, When: read, Colour: read, Big: read, Seq: read }
restServices:
  Lab:
    location: rest/lab/v1
    version: 1.0.0
    authentication: [basic]
    allowedRoles: [Admin, Reader]
    resources:
      samples:
        entity: Sample
        key: Code
        members: [Code, Memo, Count, Big, Amount, Flag, When, Colour, Seq, Secret]
        crud: [list, get, create]
        pageSize: 4
        maxPageSize: 50
        sortable: [Count, When, Code, Amount, Secret]
        filterable: [Colour, Flag, Count, Code, When, Amount, Big, Secret]
`;

const SAMPLES: Record<string, unknown>[] = [
  {
    Code: 'max',
    Memo: 'Ünïcödé "quoted" \\ and a\nnewline',
    Count: 2147483647,
    Big: '9223372036854775807',
    Amount: '99999999999999999999.99999999',
    Flag: true,
    When: '2024-03-31T01:30:00.123Z',
    Colour: 'Red',
    Secret: 'psst',
  },
  {
    Code: 'min',
    Memo: '',
    Count: -2147483648,
    Big: '-9007199254740993',
    Amount: '-0.00000001',
    Flag: false,
    When: '1969-12-31T23:59:59.999Z',
    Colour: 'Blue',
  },
  {
    Code: 'safe',
    Count: 11,
    Big: 9007199254740991,
    Amount: '10.50',
    Flag: true,
    When: '2024-10-27T00:59:59Z',
  },
  { Code: 'empty', Count: null, Big: null, Amount: null, Flag: false, When: null, Colour: null, Memo: null },
  { Code: 'zero', Count: 0, Big: 0, Amount: '0', Flag: true, When: '0001-01-01T00:00:00Z', Colour: 'Green' },
  {
    Code: 'late',
    Count: 12,
    Big: '-9223372036854775808',
    Amount: '1',
    Flag: false,
    When: '9999-12-31T23:59:59.999Z',
  },
];

const basic = (user: string): string => `Basic ${Buffer.from(`${user}:Password1!`).toString('base64')}`;

describe('published REST lists and gets through the lean read path', () => {
  let dir: string;
  let stack: DataStack;
  let client: ExecutorClient;
  const users = new Map<string, common.UserContext>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rp-rest-table-'));
    await writeFile(join(dir, 'app.yaml'), APP);
    await writeFile(join(dir, 'Lab.yaml'), LAB);
    stack = await startDataStack(dir);
    client = new ExecutorClient(stack.executorAddress);
    for (const sample of SAMPLES) {
      const res = await fetch(`${stack.url}/rest/lab/v1/samples`, {
        method: 'POST',
        headers: { authorization: basic('ada'), 'content-type': 'application/json' },
        body: JSON.stringify(sample),
      });
      expect(res.status, await res.text()).toBe(201);
    }
    for (const [name, roles] of [
      ['ada', ['Admin']],
      ['rex', ['Reader']],
    ] as const) {
      const browser = new Browser(stack.url);
      await browser.login(name);
      const id = ((await browser.call('get_session_data')).body.user as { id: string }).id;
      users.set(name, {
        userId: id,
        userName: name,
        userRoles: [...roles],
        sessionIdHash: '',
        anonymous: false,
        timeZone: 'America/New_York',
        language: '',
        system: false,
      });
    }
  });

  afterAll(async () => {
    client.close();
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** The list as the general path gives it: the executor's objects, rendered by `restObject`. */
  async function generalList(
    user: common.UserContext,
    query: Omit<proto.XPathQuery, 'entity' | 'projection'>,
  ): Promise<unknown> {
    const members = ['Code', 'Memo', 'Count', 'Big', 'Amount', 'Flag', 'When', 'Colour', 'Seq', 'Secret'];
    const res = await client.call(
      'retrieve',
      { user, state: undefined, query: { $case: 'xpath', value: { entity: 'Lab.Sample', ...query } } },
      { requestId: 'test', deadlineAtMs: Date.now() + 10_000 },
    );
    return {
      items: res.objects.map((o) => restObject(o, members)),
      offset: Number(query.offset),
      limit: Number(query.amount),
      ...(res.count === undefined ? {} : { total: Number(res.count) }),
    };
  }

  async function rest(user: string, path: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${stack.url}/rest/lab/v1/${path}`, { headers: { authorization: basic(user) } });
    return { status: res.status, text: await res.text() };
  }

  it('answers a list with the very JSON the general path renders, for every type and every user', async () => {
    const cases: [string, Omit<proto.XPathQuery, 'entity' | 'projection'>][] = [
      ['samples', { constraint: '', sort: [], offset: 0n, amount: 4n, includeCount: false }],
      [
        'samples?limit=50&count=true&sort=-Amount',
        {
          constraint: '',
          sort: [{ member: 'Amount', descending: true }],
          offset: 0n,
          amount: 50n,
          includeCount: true,
        },
      ],
      [
        'samples?offset=2&limit=3&sort=When',
        {
          constraint: '',
          sort: [{ member: 'When', descending: false }],
          offset: 2n,
          amount: 3n,
          includeCount: false,
        },
      ],
      [
        'samples?Flag=true&Colour=Red&limit=50',
        {
          constraint: "[Colour = 'Red'][Flag = true()]",
          sort: [],
          offset: 0n,
          amount: 50n,
          includeCount: false,
        },
      ],
      [
        'samples?Big=-9007199254740993&limit=50',
        {
          constraint: "[Big = '-9007199254740993']",
          sort: [],
          offset: 0n,
          amount: 50n,
          includeCount: false,
        },
      ],
      [
        `samples?When=${encodeURIComponent('2024-03-31T03:30:00.123+02:00')}&Amount=10.5&limit=50`,
        {
          constraint: "[When = '2024-03-31T01:30:00.123Z'][Amount = '10.5']",
          sort: [],
          offset: 0n,
          amount: 50n,
          includeCount: false,
        },
      ],
    ];
    for (const name of ['ada', 'rex']) {
      const user = users.get(name);
      if (user === undefined) throw new TypeError(`no user ${name}`);
      for (const [path, query] of cases) {
        const answer = await rest(name, path);
        expect(answer.status, `${name} ${path}: ${answer.text}`).toBe(200);
        expect(answer.text, `${name} ${path}`).toBe(JSON.stringify(await generalList(user, query)));
      }
    }
  });

  it('shows a user only the members the rules each object matches let the user read', async () => {
    const body = JSON.parse((await rest('rex', 'samples?limit=50&sort=Code')).text) as {
      items: Record<string, unknown>[];
    };
    // Flag = true() shows Code, Count, Amount, Flag; Count > 10 shows Code, Memo, When, Colour, Big, Seq.
    // Secret is read by neither rule.
    expect(body.items.map((i) => [i.Code, Object.keys(i).sort().join(',')])).toEqual([
      ['late', 'Big,Code,Colour,Memo,Seq,When,id'],
      ['max', 'Amount,Big,Code,Colour,Count,Flag,Memo,Seq,When,id'],
      ['safe', 'Amount,Big,Code,Colour,Count,Flag,Memo,Seq,When,id'],
      ['zero', 'Amount,Code,Count,Flag,id'],
    ]);
  });

  it('gets one object by its key with the same JSON as in the list, and 404 for one the user may not see', async () => {
    const list = JSON.parse((await rest('rex', 'samples?limit=50')).text) as { items: { Code: string }[] };
    for (const item of list.items) {
      const one = await rest('rex', `samples/${item.Code}`);
      expect(one.status).toBe(200);
      expect(JSON.parse(one.text)).toEqual(item);
    }
    expect((await rest('rex', 'samples/min')).status).toBe(404);
    expect((await rest('ada', 'samples/min')).status).toBe(200);
  });

  it('refuses a filter or sort on a member the user may not read on any object, as the general path does', async () => {
    for (const path of ['samples?Secret=psst', 'samples?sort=Secret']) {
      const res = await rest('rex', path);
      expect(res.status, path).toBe(403);
      expect(JSON.parse(res.text), path).toMatchObject({ code: 'MEMBER_NOT_READABLE' });
    }
    const rex = users.get('rex');
    if (rex === undefined) throw new TypeError('no user rex');
    const general = await generalList(rex, {
      constraint: "[Secret = 'psst']",
      sort: [],
      offset: 0n,
      amount: 1n,
      includeCount: false,
    }).then(
      () => 'answered',
      (error: unknown) => (error as { code?: string }).code,
    );
    expect(general).toBe('MEMBER_NOT_READABLE');
    expect(JSON.parse((await rest('ada', 'samples?Secret=psst')).text)).toMatchObject({
      items: [{ Code: 'max', Secret: 'psst' }],
    });
  });
});
