import { createHash } from 'node:crypto';
import { join } from 'node:path';
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
import { freePort } from '../support/ports.js';
import {
  ROOT,
  SERVICES,
  startService,
  waitForServing,
  type ServiceName,
  type ServiceProcess,
} from '../support/processes.js';

const ALL = Object.keys(SERVICES) as ServiceName[];

/** A browser of one against one gateway: keeps the session cookie between requests. */
class Browser {
  cookie: string | undefined;
  constructor(public baseUrl: string) {}

  async call(
    action: string,
    params: Record<string, unknown> = {},
    csrf?: string,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.cookie !== undefined) headers.cookie = `XASSESSIONID=${this.cookie}`;
    if (csrf !== undefined) headers['x-csrf-token'] = csrf;
    const res = await fetch(`${this.baseUrl}/xas/`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ action, params }),
    });
    const set = res.headers.getSetCookie()[0];
    if (set !== undefined) {
      const value = /^XASSESSIONID=([^;]*)/.exec(set)?.[1] ?? '';
      this.cookie = value === '' ? undefined : value;
    }
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  }

  /** Logs in and returns the CSRF token. */
  async login(username: string, password: string): Promise<string> {
    const res = await this.call('login', { username, password });
    if (res.status !== 200)
      throw new Error(`login of ${username} answered ${res.status}: ${JSON.stringify(res.body)}`);
    return String(res.body.csrfToken);
  }

  /** Another browser holding the same cookie, against another gateway. */
  on(baseUrl: string): Browser {
    const other = new Browser(baseUrl);
    other.cookie = this.cookie;
    return other;
  }
}

/** Waits until the gateway's HTTP edge answers (its gRPC face is up a moment earlier). */
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

function userName(body: Record<string, unknown>): string | undefined {
  return (body.user as { name?: string } | undefined)?.name;
}

describe('sessions across the six services as processes (orders)', () => {
  const ns = testNamespace('sess');
  let db: TestDatabase;
  let addresses: ClusterAddresses;
  let env: Record<string, string>;
  let processes = new Map<ServiceName, ServiceProcess>();
  let gatewayB: ServiceProcess | undefined;
  let urlB = '';
  let envB: Record<string, string>;

  async function startAll(): Promise<void> {
    processes = await startServices(ALL, addresses, env);
    gatewayB = startService('gateway', envB);
    await waitForServing(envB.RUNPLANE_GATEWAY_GRPC_ADDRESS ?? '');
    await Promise.all([waitForHttp(addresses.httpUrl), waitForHttp(urlB)]);
  }

  async function stopAll(signal: NodeJS.Signals): Promise<void> {
    await Promise.all([...processes.values(), ...(gatewayB ? [gatewayB] : [])].map((p) => p.stop(signal)));
  }

  beforeAll(async () => {
    db = await createTestDatabase('session_e2e');
    addresses = await clusterAddresses();
    env = clusterEnv(addresses, {
      RUNPLANE_NATS_NAMESPACE: ns.namespace,
      RUNPLANE_DATABASE_URL: db.url,
      RUNPLANE_MODEL_DIR: join(ROOT, 'examples', 'orders'),
      RUNPLANE_DEMO_USERS: 'true',
      RUNPLANE_ADMIN_PASSWORD: 'Admin-Pass1!',
      RUNPLANE_LOG_LEVEL: 'warn',
      // Long enough that only session events can make gateway B forget a session quickly.
      RUNPLANE_SESSION_CACHE_MS: '30000',
    });
    const portB = await freePort();
    urlB = `http://127.0.0.1:${portB}`;
    envB = {
      ...env,
      RUNPLANE_HTTP_PORT: String(portB),
      RUNPLANE_GATEWAY_GRPC_ADDRESS: `127.0.0.1:${await freePort()}`,
    };
    await startAll();
  });

  afterAll(async () => {
    await stopAll('SIGKILL');
    await ns.cleanup();
    await db.drop();
  });

  it('logs alice, a demo user of the orders model, in through POST /xas/', async () => {
    const alice = new Browser(addresses.httpUrl);
    const res = await alice.call('login', { username: 'alice', password: 'Password1!' });
    const log = [...processes.values()].flatMap((p) => p.output).filter((l) => l.includes('alice'));
    expect(res.status, `alice could not log in; the services said:\n${log.join('\n')}`).toBe(200);
    expect(res.body).toMatchObject({ user: { name: 'alice', roles: ['Customer'], anonymous: false } });
    expect(userName((await alice.call('get_session_data')).body)).toBe('alice');
  });

  it('stores session ids only as SHA-256 hashes', async () => {
    const sam = new Browser(addresses.httpUrl);
    await sam.login('sam', 'Password1!');
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ sessionid: string }>('SELECT sessionid FROM "system$session"');
      const stored = rows.map((r) => r.sessionid);
      expect(stored).toContain(
        createHash('sha256')
          .update(sam.cookie ?? '')
          .digest('hex'),
      );
      expect(stored).not.toContain(sam.cookie);
    } finally {
      await client.end();
    }
  });

  it('refuses a logout without the CSRF header with 403, and the session stays valid', async () => {
    const sam = new Browser(addresses.httpUrl);
    const csrf = await sam.login('sam', 'Password1!');
    const refused = await sam.call('logout');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ code: 'CSRF_TOKEN_INVALID' });
    expect(userName((await sam.on(urlB).call('get_session_data')).body)).toBe('sam');
    expect((await sam.call('logout', {}, csrf)).status).toBe(200);
  });

  it('refuses on gateway B, within a second, a session logged out on gateway A', async () => {
    const onA = new Browser(addresses.httpUrl);
    const csrf = await onA.login('sam', 'Password1!');
    const onB = onA.on(urlB);
    expect(userName((await onB.call('get_session_data')).body)).toBe('sam');
    expect(userName((await onB.call('get_session_data')).body)).toBe('sam'); // now from B's cache
    expect((await onA.call('logout', {}, csrf)).status).toBe(200);
    const started = Date.now();
    let status = 200;
    while (Date.now() - started < 1000) {
      status = (await onB.on(urlB).call('get_session_data')).status;
      if (status === 401) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(status).toBe(401);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses anonymous access: the orders model has no anonymous users', async () => {
    const res = await new Browser(addresses.httpUrl).call('get_session_data');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ANONYMOUS_DISABLED' });
  });

  it('keeps a session across a restart of every service process', async () => {
    const sam = new Browser(addresses.httpUrl);
    const csrf = await sam.login('sam', 'Password1!');
    await stopAll('SIGTERM');
    await startAll();
    for (const url of [addresses.httpUrl, urlB]) {
      const res = await sam.on(url).call('get_session_data');
      expect(res.status, url).toBe(200);
      expect(res.body).toMatchObject({ user: { name: 'sam' }, csrfToken: csrf });
    }
  });
});

describe('anonymous users and timeouts (helpdesk: session service and gateway as processes)', () => {
  const ns = testNamespace('anon');
  let db: TestDatabase;
  let addresses: ClusterAddresses;
  let processes = new Map<ServiceName, ServiceProcess>();

  beforeAll(async () => {
    db = await createTestDatabase('session_anon');
    addresses = await clusterAddresses();
    processes = await startServices(
      ['session', 'gateway'],
      addresses,
      clusterEnv(addresses, {
        RUNPLANE_NATS_NAMESPACE: ns.namespace,
        RUNPLANE_DATABASE_URL: db.url,
        RUNPLANE_MODEL_DIR: join(ROOT, 'examples', 'helpdesk'),
        RUNPLANE_DEMO_USERS: 'true',
        RUNPLANE_LOG_LEVEL: 'warn',
        RUNPLANE_SESSION_TIMEOUT_MS: '2000',
        RUNPLANE_SESSION_CACHE_MS: '200',
      }),
    );
    await waitForHttp(addresses.httpUrl);
  });

  afterAll(async () => {
    await Promise.all([...processes.values()].map((p) => p.stop('SIGKILL')));
    await ns.cleanup();
    await db.drop();
  });

  it('opens an anonymous session with the model’s anonymous role', async () => {
    const visitor = new Browser(addresses.httpUrl);
    const res = await visitor.call('get_session_data');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ user: { anonymous: true, roles: ['Anonymous'] } });
    expect(visitor.cookie).toBeDefined();
  });

  it('ends a session after the timeout without activity, and keeps one that sends keep-alives', async () => {
    const idle = new Browser(addresses.httpUrl);
    await idle.login('ann', 'agent-password-1');
    const busy = new Browser(addresses.httpUrl);
    await busy.login('ann', 'agent-password-1');
    const until = Date.now() + 3500;
    while (Date.now() < until) {
      expect((await busy.call('keepalive')).status).toBe(200);
      await new Promise((r) => setTimeout(r, 500));
    }
    const expired = await idle.call('keepalive');
    expect(expired.status).toBe(401);
    expect(expired.body).toMatchObject({ code: 'SESSION_EXPIRED' });
    expect(userName((await busy.call('get_session_data')).body)).toBe('ann');
  });
});
