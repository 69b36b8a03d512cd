import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayConfig, sessionConfig } from '@runplane/config';
import { PasswordHasher } from '@runplane/identity';
import { startSessionService } from '@runplane/session-service';
import { createLogger } from '@runplane/telemetry';
import { startGateway, type RunningGateway } from '../gateway.service.js';
import { sessionDataSchema } from './session-actions.js';

const ADMIN_URL = process.env.RUNPLANE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.RUNPLANE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const EXAMPLES = join(import.meta.dirname, '..', '..', '..', '..', 'examples');
const logger = createLogger({ service: 'test', nodeId: 'test', level: 'silent' });

function unique(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

async function adminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A session service and gateways on a database and bus namespace of their own. */
async function startStack(model: 'helpdesk' | 'orders', gateways: number, cacheMs: number) {
  const dbName = unique(`xas_${model}`);
  const namespace = unique('xas').replaceAll('_', '-').slice(0, 32);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  await adminQuery(`CREATE DATABASE "${dbName}"`);
  const shared = {
    RUNPLANE_NATS_URL: NATS_URL,
    RUNPLANE_NATS_NAMESPACE: namespace,
    RUNPLANE_MODEL_DIR: join(EXAMPLES, model),
    RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
    RUNPLANE_LOG_LEVEL: 'silent',
  };
  const session = await startSessionService({
    config: sessionConfig.load({
      ...shared,
      RUNPLANE_DATABASE_URL: dbUrl.toString(),
      RUNPLANE_DEMO_USERS: 'true',
    }),
    logger,
    nodeId: 'session',
    passwordHasher: new PasswordHasher({ log2N: 11, r: 8, p: 1 }),
  });
  const started: RunningGateway[] = [];
  for (let i = 0; i < gateways; i++) {
    started.push(
      await startGateway({
        config: gatewayConfig.load({
          ...shared,
          RUNPLANE_SESSION_GRPC_ADDRESS: session.grpcAddress,
          RUNPLANE_HTTP_HOST: '127.0.0.1',
          RUNPLANE_HTTP_PORT: '0',
          RUNPLANE_SESSION_CACHE_MS: String(cacheMs),
        }),
        logger,
        nodeId: `gateway-${i}`,
      }),
    );
  }
  return {
    session,
    gateways: started,
    async stop() {
      for (const g of started) await g.stop();
      await session.stop();
      await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    },
  };
}

/** A browser of one: keeps the session cookie between requests. */
class Client {
  cookie: string | undefined;
  lastSetCookie: string | undefined;
  constructor(private baseUrl: string) {}

  at(baseUrl: string): this {
    this.baseUrl = baseUrl;
    return this;
  }

  async call(
    action: string,
    params: Record<string, unknown> = {},
    options: { csrf?: string; body?: string; contentType?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/json' };
    if (this.cookie !== undefined) headers.cookie = `XASSESSIONID=${this.cookie}`;
    if (options.csrf !== undefined) headers['x-csrf-token'] = options.csrf;
    const res = await fetch(`${this.baseUrl}/xas/`, {
      method: 'POST',
      headers,
      body: options.body ?? JSON.stringify({ action, params }),
    });
    const setCookie = res.headers.getSetCookie()[0];
    this.lastSetCookie = setCookie;
    if (setCookie !== undefined) {
      const value = /^XASSESSIONID=([^;]*)/.exec(setCookie)?.[1] ?? '';
      this.cookie = value === '' ? undefined : value;
    }
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
  }
}

/** Polls until `check` passes, failing after `withinMs`; returns how long it took. */
async function within(withinMs: number, check: () => Promise<boolean>): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > withinMs) throw new Error(`not within ${withinMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - started;
}

describe('POST /xas/ with sessions (helpdesk: anonymous users allowed)', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let a: string;
  let b: string;

  beforeAll(async () => {
    // A long cache TTL: only session events can make a gateway forget a session quickly.
    stack = await startStack('helpdesk', 2, 60_000);
    [a, b] = stack.gateways.map((g) => g.url) as [string, string];
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('logs in: sets an HttpOnly, SameSite=Strict session cookie and answers the session with its CSRF token', async () => {
    const client = new Client(a);
    const res = await client.call('login', { username: 'ann', password: 'agent-password-1' });
    expect(res.status).toBe(200);
    const data = sessionDataSchema.parse(res.body);
    expect(data.user).toMatchObject({ name: 'ann', roles: ['Agent'], anonymous: false });
    expect(client.lastSetCookie).toMatch(
      /^XASSESSIONID=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict$/,
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    const again = await client.call('get_session_data');
    expect(sessionDataSchema.parse(again.body)).toEqual(data);
  });

  it('answers every failed login alike, with 401 and no cookie', async () => {
    const bodies: unknown[] = [];
    for (const [username, password] of [
      ['ann', 'wrong-password-1'],
      ['nobody', 'agent-password-1'],
    ] as const) {
      const client = new Client(a);
      const res = await client.call('login', { username, password });
      expect(res.status).toBe(401);
      expect(client.lastSetCookie).toBeUndefined();
      bodies.push(res.body);
    }
    expect(bodies[0]).toEqual({
      code: 'LOGIN_FAILED',
      message: 'The user name or password is incorrect.',
      details: {},
    });
    expect(bodies[1]).toEqual(bodies[0]);
  });

  it('refuses a logout without the CSRF header with 403, and the session stays valid', async () => {
    const client = new Client(a);
    const login = sessionDataSchema.parse(
      (await client.call('login', { username: 'max', password: 'manager-password-1' })).body,
    );
    for (const csrf of [undefined, 'not-the-token', `${login.csrfToken}x`]) {
      const res = await client.call('logout', {}, csrf === undefined ? {} : { csrf });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
    }
    expect((await client.call('keepalive')).status).toBe(200);
    const out = await client.call('logout', {}, { csrf: login.csrfToken });
    expect(out.status).toBe(200);
    expect(out.body).toEqual({ loggedOut: true });
    expect(client.lastSetCookie).toMatch(/^XASSESSIONID=; Max-Age=0;/);
  });

  it('refuses a session logged out on another gateway within a second, though that gateway cached it', async () => {
    const onA = new Client(a);
    const login = sessionDataSchema.parse(
      (await onA.call('login', { username: 'ann', password: 'agent-password-1' })).body,
    );
    const onB = new Client(b);
    onB.cookie = onA.cookie;
    expect((await onB.call('keepalive')).status).toBe(200);
    expect((await onB.call('get_session_data')).status).toBe(200);
    expect(stack.gateways[1]?.sessions.cache.size).toBeGreaterThan(0);
    const annCookie = onA.cookie;
    expect((await onA.call('logout', {}, { csrf: login.csrfToken })).status).toBe(200);
    // get_session_data is answered from B's cache alone; once B forgets the session, the
    // request is treated as having none (helpdesk then opens an anonymous session).
    const tookMs = await within(1000, async () => {
      const probe = new Client(b);
      probe.cookie = annCookie;
      const res = await probe.call('get_session_data');
      return (res.body.user as { id?: string } | undefined)?.id !== login.user.id;
    });
    expect(tookMs).toBeLessThan(1000);
  });

  it('ends the sessions of a user blocked or given other roles on any replica, on every gateway', async () => {
    const onB = new Client(b);
    await onB.call('login', { username: 'max', password: 'manager-password-1' });
    expect((await onB.call('get_session_data')).body).toMatchObject({ user: { roles: ['Manager'] } });
    await stack.session.identity.users.setRoles('max', ['Agent']);
    await within(1000, async () => {
      const res = await onB.call('get_session_data');
      return JSON.stringify(res.body).includes('"roles":["Agent"]');
    });
    await stack.session.identity.users.block('max');
    const maxCookie = onB.cookie;
    await within(1000, async () => {
      const probe = new Client(b);
      probe.cookie = maxCookie;
      const res = await probe.call('get_session_data');
      return (res.body.user as { name?: string } | undefined)?.name !== 'max';
    });
    await stack.session.identity.users.unblock('max');
    await stack.session.identity.users.setRoles('max', ['Manager']);
  });

  it('opens an anonymous session when there is none, with the model’s anonymous role', async () => {
    const client = new Client(b);
    const res = await client.call('get_session_data');
    expect(res.status).toBe(200);
    const data = sessionDataSchema.parse(res.body);
    expect(data.user).toMatchObject({ anonymous: true, roles: ['Anonymous'] });
    expect(data.user.name).toMatch(/^Anonymous_/);
    expect(client.cookie).toBeDefined();
    const again = sessionDataSchema.parse((await client.call('get_session_data')).body);
    expect(again.user.id).toBe(data.user.id);
  });

  it('starts a fresh session at login and ends the one the browser had', async () => {
    const client = new Client(a);
    await client.call('get_session_data');
    const anonymousCookie = client.cookie;
    await client.call('login', { username: 'ann', password: 'agent-password-1' });
    expect(client.cookie).not.toBe(anonymousCookie);
    const old = new Client(a);
    old.cookie = anonymousCookie;
    expect((await old.call('keepalive')).status).toBe(401);
  });

  it('refuses a cookie that is not a session with 401 and removes it', async () => {
    const client = new Client(a);
    client.cookie = 'A'.repeat(43);
    const res = await client.call('keepalive');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'SESSION_INVALID' });
    expect(client.lastSetCookie).toMatch(/^XASSESSIONID=; Max-Age=0;/);
  });
});

describe('POST /xas/ as a framework', () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let client: Client;

  beforeAll(async () => {
    stack = await startStack('orders', 1, 2000);
    client = new Client(stack.gateways[0]?.url ?? '');
  });

  afterAll(async () => {
    await stack.stop();
  });

  it.each([
    ['malformed JSON', { body: '{"action": "login",' }, 'MALFORMED_JSON'],
    ['a body that is no object', { body: '[1, 2]' }, 'INVALID_REQUEST'],
    ['no action', { body: '{"params": {}}' }, 'INVALID_REQUEST'],
    ['extra members', { body: '{"action": "keepalive", "params": {}, "x": 1}' }, 'INVALID_REQUEST'],
    ['an unknown action', { body: '{"action": "drop_tables"}' }, 'UNKNOWN_ACTION'],
    ['params that are no object', { body: '{"action": "login", "params": "x"}' }, 'INVALID_PARAMS'],
    [
      'a form post',
      { body: 'action=login', contentType: 'application/x-www-form-urlencoded' },
      'UNSUPPORTED_MEDIA_TYPE',
    ],
    ['plain text', { body: '{"action":"login"}', contentType: 'text/plain' }, 'UNSUPPORTED_MEDIA_TYPE'],
  ])('answers %s with 400 and { code, message, details }', async (_what, options, code) => {
    const res = await client.call('', {}, options);
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(['code', 'details', 'message']);
    expect(res.body.code).toBe(code);
    expect(typeof res.body.message).toBe('string');
  });

  it('checks params against the action’s schema and names every problem', async () => {
    const res = await client.call('login', { username: '', password: 12, extra: true });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'INVALID_PARAMS' });
    const issues = (res.body.details as { issues: { path: string }[] }).issues.map((i) => i.path);
    expect(issues).toEqual(expect.arrayContaining(['username', 'password', '']));
  });

  it('refuses anonymous access when the model does not allow it', async () => {
    const fresh = new Client(stack.gateways[0]?.url ?? '');
    const res = await fresh.call('get_session_data');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ANONYMOUS_DISABLED' });
    expect(fresh.cookie).toBeUndefined();
    expect((await fresh.call('keepalive')).status).toBe(401);
  });

  it('serves the protocol as a JSON Schema document, one entry per action', async () => {
    const res = await fetch(`${stack.gateways[0]?.url ?? ''}/xas/schema`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { actions: Record<string, Record<string, unknown>> };
    expect(Object.keys(doc.actions).sort()).toEqual([
      'change',
      'commit',
      'delete',
      'executeaction',
      'get_session_data',
      'instantiate',
      'keepalive',
      'login',
      'logout',
      'retrieve_by_ids',
      'retrieve_by_xpath',
      'rollback',
    ]);
    expect(doc.actions.logout).toMatchObject({
      session: 'required',
      changesState: true,
      csrfTokenRequired: true,
    });
    expect(doc.actions.login).toMatchObject({
      session: 'none',
      csrfTokenRequired: false,
      request: { properties: { params: { required: ['username', 'password'] } } },
    });
  });
});
