import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, startDataStack, type DataStack } from '../testing/stack.js';

const ORDERS_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'examples', 'orders');

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', '..', 'examples');
const basic = (user: string, password = 'Password1!'): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Every error body the suite saw, checked at the end for the server's insides. */
const errorBodies: { url: string; status: number; text: string }[] = [];

interface Answer {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
}

async function call(
  base: string,
  path: string,
  init: {
    method?: string;
    auth?: string;
    body?: unknown;
    raw?: string;
    contentType?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.auth !== undefined) headers.authorization = init.auth;
  const hasBody = init.body !== undefined || init.raw !== undefined;
  if (hasBody) headers['content-type'] = init.contentType ?? 'application/json';
  const res = await fetch(`${base}${path}`, {
    method: init.method ?? 'GET',
    headers,
    ...(hasBody ? { body: init.raw ?? JSON.stringify(init.body) } : {}),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // Not JSON (an HTML page).
  }
  if (res.status >= 400) errorBodies.push({ url: path, status: res.status, text });
  return { status: res.status, headers: res.headers, body, text };
}

/** Polls until `check` passes, failing after `withinMs`. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('published REST of the orders example (in process, on PostgreSQL)', () => {
  let stack: DataStack;
  let url: string;
  const sam = basic('sam');

  async function productCount(): Promise<number> {
    const { rows } = await stack.sql.query<{ n: string }>('SELECT count(*) AS n FROM "sales$product"');
    return Number(rows[0]?.n);
  }

  beforeAll(async () => {
    stack = await startDataStack(ORDERS_DIR, {
      RUNPLANE_HTTP_BODY_LIMIT_BYTES: '4096',
      RUNPLANE_CORS_ORIGINS: 'https://shop.example.com',
      RUNPLANE_HSTS_MAX_AGE_MS: '86400000',
    });
    url = stack.url;
    for (const [code, name, price, active] of [
      ['A-1', 'Anvil', '99.95', true],
      ['B-2', 'Bolt', '0.10', true],
      ['C-3', 'Crate', '12.00', false],
    ] as const) {
      const res = await call(url, '/rest/orders/v1/products', {
        method: 'POST',
        auth: sam,
        body: { Code: code, Name: name, Price: price, Stock: 50, Active: active },
      });
      expect(res.status, res.text).toBe(201);
      expect(res.headers.get('location')).toBe(`/rest/orders/v1/products/${code}`);
    }
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('lists an entity resource with paging, sorting, filters and a count', async () => {
    const page = await call(url, '/rest/orders/v1/products?sort=-Price&limit=2&count=true', { auth: sam });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({
      offset: 0,
      limit: 2,
      total: 3,
      items: [
        { Code: 'A-1', Name: 'Anvil', Price: '99.95', Stock: 50, Active: true },
        { Code: 'C-3', Price: '12' },
      ],
    });
    const next = await call(url, '/rest/orders/v1/products?sort=-Price&limit=2&offset=2', { auth: sam });
    expect((next.body as { items: { Code: string }[] }).items.map((p) => p.Code)).toEqual(['B-2']);
    const inactive = await call(url, '/rest/orders/v1/products?Active=false', { auth: sam });
    expect((inactive.body as { items: { Code: string }[]; limit: number }).items.map((p) => p.Code)).toEqual([
      'C-3',
    ]);
    expect((inactive.body as { limit: number }).limit).toBe(50);
    const quoted = await call(url, `/rest/orders/v1/products?Name=${encodeURIComponent("x' or Name != '")}`, {
      auth: sam,
    });
    expect(quoted.body).toMatchObject({ items: [] });
  });

  it('gets, creates and updates objects by their key, with only the exposed members', async () => {
    const got = await call(url, '/rest/orders/v1/products/B-2', { auth: sam });
    expect(got.status).toBe(200);
    expect(Object.keys(got.body as object).sort()).toEqual([
      'Active',
      'Code',
      'Description',
      'Name',
      'Price',
      'Stock',
      'id',
    ]);
    const patched = await call(url, '/rest/orders/v1/products/B-2', {
      method: 'PATCH',
      auth: sam,
      body: { Price: '0.12' },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ Code: 'B-2', Price: '0.12', Name: 'Bolt' });
    const { rows } = await stack.sql.query<{ price: string }>(
      'SELECT price FROM "sales$product" WHERE code = $1',
      ['B-2'],
    );
    expect(rows[0]?.price).toBe('0.12000000');
    expect((await call(url, '/rest/orders/v1/products/Z-9', { auth: sam })).status).toBe(404);
  });

  it('answers bad parameters and bodies with 400 naming what is wrong, and writes nothing', async () => {
    const before = await productCount();
    for (const [path, parameter] of [
      ['/rest/orders/v1/products?limit=0', 'limit'],
      ['/rest/orders/v1/products?limit=201', 'limit'],
      ['/rest/orders/v1/products?offset=-1', 'offset'],
      ['/rest/orders/v1/products?sort=Stock', 'sort'],
      ['/rest/orders/v1/products?Stock=5', 'Stock'],
      ['/rest/orders/v1/products?Active=maybe', 'Active'],
      ['/rest/orders/v1/products?count=yes', 'count'],
      ['/rest/orders/v1/orders/twelve', 'number'],
    ] as const) {
      const res = await call(url, path, { auth: sam });
      expect(res.status, path).toBe(400);
      const body = res.body as { code: string; details: { parameter?: string; where?: string } };
      expect(body.code, path).toBe('INVALID_PARAMETER');
      expect(body.details.parameter ?? body.details.where, path).toBe(parameter);
    }
    const post = (init: Parameters<typeof call>[2]) =>
      call(url, '/rest/orders/v1/products', { method: 'POST', auth: sam, ...init });
    expect((await post({ raw: '{"Code": "X-1",' })).body).toMatchObject({ code: 'MALFORMED_JSON' });
    expect(
      (await post({ raw: 'Code=X-1', contentType: 'application/x-www-form-urlencoded' })).body,
    ).toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
    });
    expect((await post({ body: { Code: 'X-1', Name: 'X', Secret: 1 } })).body).toMatchObject({
      code: 'INVALID_BODY',
    });
    expect((await post({ body: { Code: 'X-1', Name: 'X', Price: 'cheap' } })).body).toMatchObject({
      code: 'INVALID_BODY',
      details: { where: 'body.Price' },
    });
    const invalid = await post({ body: { Code: 'X-1', Price: '-1' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    const taken = await post({ body: { Code: 'A-1', Name: 'Again', Price: '1' } });
    expect(taken.status).toBe(422);
    const large = await post({ body: { Code: 'X-2', Name: 'X', Description: 'x'.repeat(5000) } });
    expect(large.status).toBe(413);
    expect(large.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { limitBytes: 4096 } });
    expect(await productCount()).toBe(before);
  });

  it('asks for credentials with 401 and WWW-Authenticate, refuses wrong ones and roles the service does not allow', async () => {
    const none = await call(url, '/rest/orders/v1/products');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="OrdersApi", charset="UTF-8"');
    expect(none.body).toMatchObject({ code: 'AUTHENTICATION_REQUIRED' });
    const wrong = await call(url, '/rest/orders/v1/products', { auth: basic('sam', 'nope') });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ code: 'LOGIN_FAILED' });
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    const customer = await call(url, '/rest/orders/v1/products', { auth: basic('alice') });
    expect(customer.status).toBe(403);
    expect(customer.body).toMatchObject({ code: 'SERVICE_FORBIDDEN' });
  });

  it('takes a signed-in session, with the CSRF token for state-changing methods', async () => {
    const browser = new Browser(url);
    await browser.login('sam');
    const cookie = `XASSESSIONID=${browser.cookie ?? ''}`;
    expect((await call(url, '/rest/orders/v1/products/A-1', { headers: { cookie } })).status).toBe(200);
    const before = await productCount();
    const body = { Code: 'S-1', Name: 'Spanner', Price: '5' };
    const refused = await call(url, '/rest/orders/v1/products', {
      method: 'POST',
      body,
      headers: { cookie },
    });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
    expect(await productCount()).toBe(before);
    const made = await call(url, '/rest/orders/v1/products', {
      method: 'POST',
      body,
      headers: { cookie, 'x-csrf-token': browser.csrf ?? '' },
    });
    expect(made.status).toBe(201);
  });

  it('applies entity access: a customer lists and gets only her own orders', async () => {
    const alice = new Browser(url);
    await alice.login('alice');
    const me = ((await alice.call('get_session_data')).body.user as { id: string }).id;
    const product = (await call(url, '/rest/orders/v1/products/A-1', { auth: sam })).body as { id: string };
    const order = await alice.call('instantiate', { entity: 'Sales.Order' }, { withState: true });
    const orderId = (order.body.object as { id: string }).id;
    const line = await alice.call('instantiate', { entity: 'Sales.OrderLine' }, { withState: true });
    const lineId = (line.body.object as { id: string }).id;
    await alice.call(
      'change',
      {
        objects: [
          { id: orderId, members: { 'Sales.Order_Customer': me } },
          {
            id: lineId,
            members: { 'Sales.OrderLine_Order': orderId, 'Sales.OrderLine_Product': product.id },
          },
        ],
      },
      { withState: true },
    );
    const placed = await alice.call(
      'executeaction',
      { microflow: 'Sales.PlaceOrder', parameters: { Order: orderId } },
      { withState: true },
    );
    expect(placed.body.result).toBe(true);
    const mine = await call(url, '/rest/orderfeed/v1/orders?count=true', { auth: basic('alice') });
    expect(mine.body).toMatchObject({
      total: 1,
      items: [{ id: orderId, Status: 'Placed', Total: '120.94' }],
    });
    const number = (mine.body as { items: { Number: number }[] }).items[0]?.Number ?? 0;
    expect((await call(url, `/rest/orderfeed/v1/orders/${number}`, { auth: basic('alice') })).status).toBe(
      200,
    );
    expect((await call(url, '/rest/orderfeed/v1/orders?count=true', { auth: basic('bob') })).body).toEqual({
      items: [],
      offset: 0,
      limit: 20,
      total: 0,
    });
    expect((await call(url, `/rest/orderfeed/v1/orders/${number}`, { auth: basic('bob') })).status).toBe(404);

    const got = await call(url, `/rest/orders/v1/orders/${number}`, { auth: sam });
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: orderId, Status: 'Placed', 'Sales.Order_Customer': me });
    expect((await call(url, '/rest/orders/v1/orders/999999', { auth: sam })).status).toBe(404);
    const approved = await call(url, `/rest/orders/v1/orders/${number}/approve`, {
      method: 'POST',
      auth: sam,
    });
    expect(approved.status).toBe(200);
    expect(approved.body).toBe(true);
    const { rows } = await stack.sql.query<{ status: string }>(
      'SELECT status FROM "sales$order" WHERE id = $1',
      [orderId],
    );
    expect(rows[0]?.status).toBe('Approved');

    // Deleting needs a rule with the delete right: customers have none, administrators do.
    const orderUrl = `/rest/orderfeed/v1/orders/${number}`;
    const refused = await call(url, orderUrl, { method: 'DELETE', auth: basic('alice') });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'ACCESS_DENIED' });
    const exists = async () =>
      (await stack.sql.query('SELECT 1 FROM "sales$order" WHERE id = $1', [orderId])).rows.length;
    expect(await exists()).toBe(1);
    expect((await call(url, orderUrl, { method: 'DELETE', auth: basic('admin') })).status).toBe(204);
    expect(await exists()).toBe(0);
    expect((await call(url, orderUrl, { method: 'DELETE', auth: basic('admin') })).status).toBe(404);
  });

  it('forgets a cached Basic verification at once when the user is blocked', async () => {
    const browser = new Browser(url);
    await browser.login('admin');
    expect((await call(url, '/rest/orders/v1/products/A-1', { auth: basic('admin') })).status).toBe(200);
    await stack.session.identity.users.block('admin');
    try {
      await within(
        1000,
        async () =>
          (await call(url, '/rest/orders/v1/products/A-1', { auth: basic('admin') })).status === 401,
      );
    } finally {
      await stack.session.identity.users.unblock('admin');
    }
    expect((await call(url, '/rest/orders/v1/products/A-1', { auth: basic('admin') })).status).toBe(200);
  });

  it('limits password checks per address with 429 and Retry-After; cached credentials go on', async () => {
    const limited = await stack.startGateway({ RUNPLANE_LOGIN_RATE_LIMIT_PER_MINUTE: '2' });
    expect((await call(limited.url, '/rest/orders/v1/products/A-1', { auth: sam })).status).toBe(200);
    expect(
      (await call(limited.url, '/rest/orders/v1/products/A-1', { auth: basic('sam', 'wrong-1') })).status,
    ).toBe(401);
    const refused = await call(limited.url, '/rest/orders/v1/products/A-1', {
      auth: basic('sam', 'wrong-2'),
    });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'RATE_LIMITED' });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const login = await new Browser(limited.url).call('login', { username: 'sam', password: 'Password1!' });
    expect(login.status).toBe(429);
    expect((await call(limited.url, '/rest/orders/v1/products/A-1', { auth: sam })).status).toBe(200);
  });

  it('counts requests that wait for a password check in flight as no check of their own', async () => {
    // A busy client whose cached credentials just expired sends many requests at once: one
    // verification serves them all, and the limit (here 2 a minute) is not spent by the rest.
    const limited = await stack.startGateway({ RUNPLANE_LOGIN_RATE_LIMIT_PER_MINUTE: '2' });
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => call(limited.url, '/rest/orders/v1/products/A-1', { auth: sam })),
    );
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 10 }, () => 200));
    expect(
      (await call(limited.url, '/rest/orders/v1/products/A-1', { auth: basic('sam', 'wrong-1') })).status,
    ).toBe(401);
  });

  it('keys the limit on the client address the configured proxies report', async () => {
    const behindProxy = await stack.startGateway({
      RUNPLANE_LOGIN_RATE_LIMIT_PER_MINUTE: '1',
      RUNPLANE_TRUST_PROXY: '127.0.0.1',
    });
    const login = (forwardedFor: string) =>
      fetch(`${behindProxy.url}/xas/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
        body: JSON.stringify({ action: 'login', params: { username: 'bob', password: 'Password1!' } }),
      });
    expect((await login('203.0.113.7')).status).toBe(200);
    expect((await login('203.0.113.8')).status).toBe(200);
    expect((await login('203.0.113.7')).status).toBe(429);
  });

  it('answers 503 when the executor cannot be reached, without saying where it is', async () => {
    const cut = await stack.startGateway({ RUNPLANE_EXECUTOR_GRPC_ADDRESS: '127.0.0.1:1' });
    const res = await call(cut.url, '/rest/orders/v1/products', { auth: sam });
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      code: 'DEPENDENCY_UNAVAILABLE',
      message: 'A service the request needs is unavailable. Try again shortly.',
      details: {},
    });
  });

  it('serves /api-doc: an index, a valid OpenAPI 3.1 document and a readable page per service', async () => {
    const index = await call(url, '/api-doc/index.json');
    const services = (index.body as { services: { name: string; openapi: string; html: string }[] }).services;
    expect(services.map((s) => s.name)).toEqual(['Sales.OrderFeed', 'Sales.OrdersApi']);
    for (const service of services) {
      const doc = await call(url, service.openapi);
      expect(doc.status).toBe(200);
      const result = await new Validator().validate(doc.body as Record<string, unknown>);
      expect(result.valid, JSON.stringify(result.errors)).toBe(true);
      const page = await call(url, service.html);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toMatch(
        /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+';/,
      );
      expect(page.text).toContain('<h2>Operations</h2>');
    }
    const home = await call(url, '/api-doc/');
    expect(home.text).toContain('href="/api-doc/Sales.OrdersApi/"');
    const alias = await call(url, '/rest-doc/rest/orders/v1/openapi.json');
    expect(alias.body).toMatchObject({ openapi: '3.1.0', info: { title: 'OrdersApi' } });
  });

  it('puts a request id, security headers and CORS for configured origins on every answer', async () => {
    for (const res of [
      await call(url, '/rest/orders/v1/products', { auth: sam, headers: { 'x-request-id': 'trace-me-1' } }),
      await call(url, '/nowhere', { headers: { 'x-request-id': 'trace-me-1' } }),
    ]) {
      expect(res.headers.get('x-request-id')).toBe('trace-me-1');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('strict-transport-security')).toBe('max-age=86400; includeSubDomains');
    }
    const preflight = await fetch(`${url}/rest/orders/v1/products`, {
      method: 'OPTIONS',
      headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(preflight.headers.get('access-control-allow-credentials')).toBe('true');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('X-Csrf-Token');
    const foreign = await call(url, '/rest/orders/v1/products', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
    });
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
    const simple = await call(url, '/rest/orders/v1/products', {
      auth: sam,
      headers: { origin: 'https://shop.example.com' },
    });
    expect(simple.headers.get('access-control-allow-origin')).toBe('https://shop.example.com');
    expect(simple.headers.get('vary')).toContain('Origin');
  });

  it('never shows stack traces, SQL, file paths or table names in an error', () => {
    expect(errorBodies.length).toBeGreaterThan(10);
    for (const { url: path, status, text } of errorBodies) {
      const body = JSON.parse(text) as Record<string, unknown>;
      expect(Object.keys(body).sort(), path).toEqual(['code', 'details', 'message']);
      expect(text, `${status} ${path}`).not.toMatch(
        /[a-z]+\$[a-z]+|\bSELECT\b|\bINSERT\b|\/work\/|node_modules|\.ts:\d+|\bat [A-Za-z.<>]+ \(|127\.0\.0\.1:\d+|callStack|FST_/,
      );
    }
  });
});

describe('a published REST service without authentication (helpdesk)', () => {
  let stack: DataStack;

  beforeAll(async () => {
    stack = await startDataStack(join(EXAMPLES, 'helpdesk'));
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('runs a microflow for an anonymous caller with an object from the JSON body', async () => {
    const res = await call(stack.url, '/rest/publicapi/v1/tickets', {
      method: 'POST',
      body: {
        Kind: 'Question',
        Name: 'Pat',
        Email: 'pat@example.com',
        Subject: 'Hello',
        Description: 'How do I …?',
      },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toBe(true);
    const { rows } = await stack.sql.query<{ subject: string }>('SELECT subject FROM "helpdesk$ticket"');
    expect(rows.map((r) => r.subject)).toEqual(['Hello']);
    const bad = await call(stack.url, '/rest/publicapi/v1/tickets', {
      method: 'POST',
      body: { Kind: 'Rant' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'INVALID_BODY', details: { where: 'body.Kind' } });
  });

  it('lists an entity resource with the anonymous role’s access', async () => {
    const res = await call(stack.url, '/rest/publicapi/v1/tags');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ offset: 0, limit: 20, items: [] });
  });
});
