/**
 * The first app end to end: the six services as processes on PostgreSQL and NATS, serving the
 * `orders` example (plus the order feed of tests/fixtures/gateway, a published REST list of
 * orders) to clients over HTTP only.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  clusterAddresses,
  clusterEnv,
  startServices,
  testNamespace,
  type ClusterAddresses,
} from '../support/cluster.js';
import { createTestDatabase, type TestDatabase } from '../support/infra.js';
import { SERVICES, type ServiceName, type ServiceProcess } from '../support/processes.js';

const ALL = Object.keys(SERVICES) as ServiceName[];
const BODY_LIMIT_BYTES = 65_536;

interface WireObject {
  id: string;
  entity: string;
  state: string;
  members: Record<string, unknown>;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

const basic = (user: string): string => `Basic ${Buffer.from(`${user}:Password1!`).toString('base64')}`;

/** A browser of one: the session cookie, the CSRF token and the client's state, kept between calls. */
class Browser {
  cookie: string | undefined;
  csrf: string | undefined;
  state: { objects: unknown[] } = { objects: [] };

  constructor(private readonly baseUrl: string) {}

  async call(
    action: string,
    params: Record<string, unknown> = {},
    options: { state?: boolean; csrf?: string | null; raw?: string } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.cookie !== undefined) headers.cookie = `XASSESSIONID=${this.cookie}`;
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== undefined && csrf !== null) headers['x-csrf-token'] = csrf;
    const res = await fetch(`${this.baseUrl}/xas/`, {
      method: 'POST',
      headers,
      body:
        options.raw ??
        JSON.stringify({ action, params, ...(options.state === true ? { state: this.state } : {}) }),
    });
    const set = res.headers.getSetCookie()[0];
    if (set !== undefined) this.cookie = /^XASSESSIONID=([^;]*)/.exec(set)?.[1] || undefined;
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status === 200 && typeof body.state === 'object' && body.state !== null) {
      this.state = body.state as { objects: unknown[] };
    }
    return { status: res.status, body };
  }

  async login(username: string): Promise<void> {
    const res = await this.call('login', { username, password: 'Password1!' });
    if (res.status !== 200)
      throw new Error(`login of ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    this.csrf = String(res.body.csrfToken);
  }
}

async function rest(
  url: string,
  init: { method?: string; auth?: string; body?: unknown; raw?: string } = {},
): Promise<Answer & { headers: Headers }> {
  const headers: Record<string, string> = {};
  if (init.auth !== undefined) headers.authorization = init.auth;
  const payload = init.raw ?? (init.body === undefined ? undefined : JSON.stringify(init.body));
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    ...(payload === undefined ? {} : { body: payload }),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
  };
}

async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/health`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

describe('the orders app end to end over HTTP (six services as processes)', () => {
  const ns = testNamespace('gw');
  let db: TestDatabase;
  let addresses: ClusterAddresses;
  let processes = new Map<ServiceName, ServiceProcess>();
  let sql: pg.Client;
  let base: string;
  const products: { id: string; Code: string }[] = [];

  /** Row counts of every table a refused request could have written to. */
  async function counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const table of [
      'sales$order',
      'sales$orderline',
      'sales$product',
      'sales$invoice',
      'system$session',
    ]) {
      const { rows } = await sql.query<{ n: string }>(`SELECT count(*) AS n FROM "${table}"`);
      out[table] = Number(rows[0]?.n);
    }
    return out;
  }

  /** alice's draft order with a line per product, all in her state; returns the order's id. */
  async function draftOrder(alice: Browser, aliceId: string): Promise<string> {
    const order = await alice.call('instantiate', { entity: 'Sales.Order' }, { state: true });
    expect(order.status, JSON.stringify(order.body)).toBe(200);
    const orderId = (order.body.object as WireObject).id;
    const changes: Record<string, unknown>[] = [
      { id: orderId, members: { 'Sales.Order_Customer': aliceId } },
    ];
    for (const [i, product] of products.entries()) {
      const line = await alice.call('instantiate', { entity: 'Sales.OrderLine' }, { state: true });
      const lineId = (line.body.object as WireObject).id;
      changes.push({
        id: lineId,
        members: { Quantity: i + 1, 'Sales.OrderLine_Product': product.id, 'Sales.OrderLine_Order': orderId },
      });
    }
    const changed = await alice.call('change', { objects: changes }, { state: true });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    return orderId;
  }

  beforeAll(async () => {
    db = await createTestDatabase('gateway_e2e');
    addresses = await clusterAddresses();
    base = addresses.httpUrl;
    const env = clusterEnv(addresses, {
      RUNPLANE_NATS_NAMESPACE: ns.namespace,
      RUNPLANE_DATABASE_URL: db.url,
      RUNPLANE_MODEL_DIR: 'examples/orders',
      RUNPLANE_DEMO_USERS: 'true',
      RUNPLANE_LOG_LEVEL: 'warn',
      RUNPLANE_HTTP_BODY_LIMIT_BYTES: String(BODY_LIMIT_BYTES),
    });
    processes = await startServices(ALL, addresses, env);
    await waitForHttp(base);
    sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    for (const [code, name, price] of [
      ['W-1', 'Widget', '12.50'],
      ['G-2', 'Gadget', '3.99'],
    ] as const) {
      const res = await rest(`${base}/rest/orders/v1/products`, {
        method: 'POST',
        auth: basic('sam'),
        body: { Code: code, Name: name, Price: price, Stock: 100 },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      products.push(res.body as { id: string; Code: string });
    }
  });

  afterAll(async () => {
    await sql?.end();
    await Promise.all([...processes.values()].map((p) => p.stop('SIGKILL')));
    await ns.cleanup();
    await db?.drop();
  });

  it('alice orders with uncommitted objects, bob cannot see it, sam approves it, and the feed pages through orders', async () => {
    const alice = new Browser(base);
    await alice.login('alice');
    const aliceId = ((await alice.call('get_session_data')).body.user as { id: string }).id;
    const orderId = await draftOrder(alice, aliceId);
    const { rows: none } = await sql.query('SELECT id FROM "sales$order" WHERE id = $1', [orderId]);
    expect(none).toEqual([]);
    const placed = await alice.call(
      'executeaction',
      { microflow: 'Sales.PlaceOrder', parameters: { Order: orderId } },
      { state: true },
    );
    expect(placed.status, JSON.stringify(placed.body)).toBe(200);
    expect(placed.body).toMatchObject({ result: true, state: { objects: [] } });
    expect(placed.body.committed).toEqual(expect.arrayContaining([orderId]));
    const { rows: stored } = await sql.query<{ status: string; total: string; owner: string; lines: string }>(
      `SELECT o.status, o.total, o."system$owner" AS owner,
              (SELECT count(*) FROM "sales$orderline" l WHERE l."sales$orderline_order" = o.id) AS lines
         FROM "sales$order" o WHERE o.id = $1`,
      [orderId],
    );
    // 1 × 12.50 + 2 × 3.99 = 20.48, plus 21 % VAT (4.30) = 24.78
    expect(stored).toEqual([{ status: 'Placed', total: '24.78000000', owner: aliceId, lines: '2' }]);

    const bob = new Browser(base);
    await bob.login('bob');
    expect((await bob.call('retrieve_by_xpath', { xpath: '//Sales.Order', count: true })).body).toEqual({
      objects: [],
      count: 0,
    });
    expect((await bob.call('retrieve_by_ids', { ids: [orderId] })).body).toEqual({ objects: [] });
    const feed = await rest(`${base}/rest/orderfeed/v1/orders?count=true`, { auth: basic('bob') });
    expect(feed.body).toMatchObject({ items: [], total: 0 });
    const number = (placed.body.objects as WireObject[]).find((o) => o.id === orderId)?.members.Number;
    expect(
      (await rest(`${base}/rest/orderfeed/v1/orders/${String(number)}`, { auth: basic('bob') })).status,
    ).toBe(404);
    expect(
      (await rest(`${base}/rest/orders/v1/orders/${String(number)}`, { auth: basic('bob') })).status,
    ).toBe(403);

    const sam = new Browser(base);
    await sam.login('sam');
    const forSam = await sam.call('retrieve_by_xpath', {
      xpath: `//Sales.Order[Number = ${String(number)}]`,
    });
    expect((forSam.body.objects as WireObject[]).map((o) => o.id)).toEqual([orderId]);
    const approved = await sam.call(
      'executeaction',
      { microflow: 'Sales.ApproveOrder', parameters: { Order: orderId } },
      { state: true },
    );
    expect(approved.status, JSON.stringify(approved.body)).toBe(200);
    const { rows: after } = await sql.query<{ status: string }>(
      'SELECT status FROM "sales$order" WHERE id = $1',
      [orderId],
    );
    expect(after[0]?.status).toBe('Approved');
    const { rows: invoices } = await sql.query(
      'SELECT 1 FROM "sales$invoice" WHERE "sales$invoice_order" = $1',
      [orderId],
    );
    expect(invoices).toHaveLength(1);

    for (let i = 0; i < 2; i++) {
      const next = await draftOrder(alice, aliceId);
      const res = await alice.call(
        'executeaction',
        { microflow: 'Sales.PlaceOrder', parameters: { Order: next } },
        { state: true },
      );
      expect(res.body.result).toBe(true);
    }
    const page1 = await rest(`${base}/rest/orderfeed/v1/orders?sort=Number&limit=2&count=true`, {
      auth: basic('alice'),
    });
    expect(page1.status).toBe(200);
    expect(page1.body).toMatchObject({ offset: 0, limit: 2, total: 3 });
    const page2 = await rest(`${base}/rest/orderfeed/v1/orders?sort=Number&limit=2&offset=2`, {
      auth: basic('alice'),
    });
    const numbers = [
      ...(page1.body.items as { Number: number }[]),
      ...(page2.body.items as { Number: number }[]),
    ].map((o) => o.Number);
    expect(numbers).toHaveLength(3);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect((page1.body.items as { id: string; Status: string }[])[0]).toMatchObject({
      id: orderId,
      Status: 'Approved',
    });
    const samFeed = await rest(`${base}/rest/orderfeed/v1/orders?Status=Placed&count=true`, {
      auth: basic('sam'),
    });
    expect(samFeed.body).toMatchObject({ total: 2 });
  });

  it('/api-doc serves a valid OpenAPI 3.1 document for each published service', async () => {
    const index = await rest(`${base}/api-doc/index.json`);
    const services = index.body.services as { name: string; openapi: string }[];
    expect(services.map((s) => s.name)).toEqual(['Sales.OrderFeed', 'Sales.OrdersApi']);
    for (const service of services) {
      const doc = await rest(`${base}${service.openapi}`);
      expect(doc.status).toBe(200);
      expect(doc.body.openapi).toBe('3.1.0');
      const validator = new Validator();
      const result = await validator.validate(doc.body);
      expect(result.valid, `${service.name}: ${JSON.stringify(result.errors)}`).toBe(true);
      expect(validator.version).toBe('3.1');
    }
    const page = await fetch(`${base}/api-doc/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('refuses bad requests each with its clean 4xx, and writes nothing', async () => {
    const alice = new Browser(base);
    await alice.login('alice');
    const aliceId = ((await alice.call('get_session_data')).body.user as { id: string }).id;
    const orderId = await draftOrder(alice, aliceId);
    const bob = new Browser(base);
    await bob.login('bob');
    const before = await counts();

    const refusals: [string, Answer, number, string][] = [
      [
        'malformed JSON',
        await alice.call('', {}, { raw: '{"action": "commit", "params": {' }),
        400,
        'MALFORMED_JSON',
      ],
      [
        'an oversized body',
        await alice.call(
          'commit',
          { ids: [orderId], padding: 'x'.repeat(BODY_LIMIT_BYTES) },
          { state: true },
        ),
        413,
        'PAYLOAD_TOO_LARGE',
      ],
      ['an unknown action', await alice.call('drop_database', {}), 400, 'UNKNOWN_ACTION'],
      [
        'a missing CSRF token',
        await alice.call('commit', { ids: [orderId] }, { state: true, csrf: null }),
        403,
        'CSRF_TOKEN_INVALID',
      ],
      [
        'a wrong CSRF token',
        await alice.call(
          'executeaction',
          { microflow: 'Sales.PlaceOrder', parameters: { Order: orderId } },
          { state: true, csrf: 'A'.repeat(43) },
        ),
        403,
        'CSRF_TOKEN_INVALID',
      ],
      [
        'an XPath the user may not use',
        await bob.call('retrieve_by_xpath', { xpath: '//Sales.Product[Stock < 1000]' }),
        403,
        'MEMBER_NOT_READABLE',
      ],
      [
        'a REST call without credentials',
        await rest(`${base}/rest/orders/v1/products`, {
          method: 'POST',
          body: { Code: 'X-9', Name: 'Nope', Price: '1' },
        }),
        401,
        'AUTHENTICATION_REQUIRED',
      ],
      [
        'malformed JSON to REST',
        await rest(`${base}/rest/orders/v1/products`, {
          method: 'POST',
          auth: basic('sam'),
          raw: '{"Code":',
        }),
        400,
        'MALFORMED_JSON',
      ],
    ];
    for (const [what, answer, status, code] of refusals) {
      expect(answer.status, what).toBe(status);
      expect(Object.keys(answer.body).sort(), what).toEqual(['code', 'details', 'message']);
      expect(answer.body.code, what).toBe(code);
      expect(JSON.stringify(answer.body), what).not.toMatch(
        /[a-z]+\$[a-z]+|SELECT|\/work\/|\.ts:\d+|127\.0\.0\.1:\d+/,
      );
    }
    expect(await counts()).toEqual(before);
    // The draft is still the client's to place: nothing of it was written, nothing was lost.
    const placed = await alice.call(
      'executeaction',
      { microflow: 'Sales.PlaceOrder', parameters: { Order: orderId } },
      { state: true },
    );
    expect(placed.body.result).toBe(true);
  });
});
