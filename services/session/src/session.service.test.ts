import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { busNames, connectNats, type Bus, type BusMessage } from '@runplane/bus';
import { sessionConfig } from '@runplane/config';
import { PasswordHasher } from '@runplane/identity';
import { session } from '@runplane/proto';
import { callUnary, createClient } from '@runplane/service-host';
import { createLogger } from '@runplane/telemetry';
import { startSessionService, type RunningSessionService } from './session.service.js';

const ADMIN_URL = process.env.RUNPLANE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const NATS_URL = process.env.RUNPLANE_TEST_NATS_URL ?? 'nats://127.0.0.1:4222';
const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');
const logger = createLogger({ service: 'session', nodeId: 'test', level: 'silent' });
const hasher = new PasswordHasher({ log2N: 11, r: 8, p: 1 });

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

describe('the session service', () => {
  const dbName = unique('session_service');
  const namespace = unique('sess').replaceAll('_', '-').slice(0, 32);
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  let service: RunningSessionService;
  let client: session.SessionServiceClient;
  let bus: Bus;
  const events: { subject: string; event: session.SessionEvent }[] = [];
  const generated: [string, string][] = [];

  function env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      RUNPLANE_DATABASE_URL: dbUrl.toString(),
      RUNPLANE_NATS_URL: NATS_URL,
      RUNPLANE_NATS_NAMESPACE: namespace,
      RUNPLANE_MODEL_DIR: join(EXAMPLES, 'helpdesk'),
      RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
      RUNPLANE_DEMO_USERS: 'true',
      RUNPLANE_LOG_LEVEL: 'silent',
      ...extra,
    };
  }

  async function start(extra: Record<string, string> = {}, generateAdminPassword = false): Promise<void> {
    service = await startSessionService({
      config: sessionConfig.load(env(extra)),
      logger,
      nodeId: 'session-test',
      passwordHasher: hasher,
      generateAdminPassword,
      onGeneratedAdminPassword: (name, password) => generated.push([name, password]),
    });
    client?.close();
    client = createClient(session.SessionServiceClient, service.grpcAddress);
  }

  /** Waits for the next session event of a kind (it is published after the commit). */
  function nextEvent(kind: string): Promise<session.SessionEvent> {
    const seen = events.length;
    return new Promise((resolve) => {
      const timer = setInterval(() => {
        const found = events.slice(seen).find((e) => e.event.kind === kind);
        if (found !== undefined) {
          clearInterval(timer);
          resolve(found.event);
        }
      }, 5);
    });
  }

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE "${dbName}"`);
    bus = await connectNats({ servers: [NATS_URL], name: 'session-test-listener' });
    await bus.subscribe(busNames(namespace).subjects.sessionEvents, (m: BusMessage) => {
      events.push({ subject: m.subject, event: session.SessionEvent.decode(m.data) });
    });
    await start({}, true);
  });

  afterAll(async () => {
    client.close();
    await service.stop();
    await bus.close();
    await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  });

  it('creates the first administrator at start with a generated password it hands over once', async () => {
    expect(generated.map(([name]) => name)).toEqual(['MxAdmin']);
    const [, password] = generated[0]!;
    const res = await callUnary(client, 'login', { userName: 'MxAdmin', password, clientAddress: '' });
    expect(res.user?.userRoles).toEqual(['Manager']);
  });

  it('logs a demo user in over gRPC and validates the session with its user context', async () => {
    const login = await callUnary(client, 'login', {
      userName: 'ann',
      password: 'agent-password-1',
      clientAddress: '127.0.0.1',
    });
    expect(login.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.user).toMatchObject({
      userName: 'ann',
      userRoles: ['Agent'],
      anonymous: false,
      system: false,
    });
    const validated = await callUnary(client, 'validate', {
      sessionId: login.sessionId,
      csrfToken: '',
      stateChanging: false,
    });
    expect(validated.user).toEqual(login.user);
    expect(validated.csrfToken).toBe(login.csrfToken);
    expect(Number(validated.expiresAtMs)).toBeGreaterThan(Date.now());
  });

  it('answers a wrong password with LOGIN_FAILED and the unauthenticated status', async () => {
    await expect(
      callUnary(client, 'login', { userName: 'ann', password: 'nope', clientAddress: '' }),
    ).rejects.toMatchObject({ code: 'LOGIN_FAILED', status: 'unauthenticated', kind: 'user' });
  });

  it('authenticates a user name and password for HTTP Basic without a session', async () => {
    const res = await callUnary(client, 'authenticate', {
      userName: 'ann',
      password: 'agent-password-1',
      clientAddress: '127.0.0.1',
    });
    expect(res.user).toMatchObject({
      userName: 'ann',
      userRoles: ['Agent'],
      sessionIdHash: '',
      anonymous: false,
      system: false,
    });
    await expect(
      callUnary(client, 'authenticate', { userName: 'ann', password: 'nope', clientAddress: '' }),
    ).rejects.toMatchObject({ code: 'LOGIN_FAILED', status: 'unauthenticated' });
  });

  it('refuses a state-changing validation without the CSRF token', async () => {
    const login = await callUnary(client, 'login', {
      userName: 'max',
      password: 'manager-password-1',
      clientAddress: '',
    });
    await expect(
      callUnary(client, 'validate', { sessionId: login.sessionId, csrfToken: 'wrong', stateChanging: true }),
    ).rejects.toMatchObject({ code: 'CSRF_TOKEN_INVALID', status: 'permission_denied' });
    await callUnary(client, 'validate', {
      sessionId: login.sessionId,
      csrfToken: login.csrfToken,
      stateChanging: true,
    });
  });

  it('publishes a logout on NATS with the session-id hash, after which the session is refused', async () => {
    const login = await callUnary(client, 'login', {
      userName: 'ann',
      password: 'agent-password-1',
      clientAddress: '',
    });
    const published = nextEvent('logout');
    await callUnary(client, 'logout', { sessionId: login.sessionId });
    const event = await published;
    expect(event.sessionIdHashes).toEqual([login.user?.sessionIdHash]);
    expect(events.at(-1)?.subject).toBe(`${namespace}.session.logout`);
    await expect(
      callUnary(client, 'validate', { sessionId: login.sessionId, csrfToken: '', stateChanging: false }),
    ).rejects.toMatchObject({ code: 'SESSION_INVALID', status: 'unauthenticated' });
  });

  it('opens anonymous sessions for a model that allows them', async () => {
    const anon = await callUnary(client, 'createAnonymousSession', { clientAddress: '' });
    expect(anon.user).toMatchObject({ anonymous: true, userRoles: ['Anonymous'] });
    const kept = await callUnary(client, 'keepAlive', { sessionId: anon.sessionId });
    expect(Number(kept.expiresAtMs)).toBeGreaterThan(Date.now());
  });

  it('runs the leader duties over gRPC and tells every gateway when all sessions are cleared', async () => {
    const cleaned = await callUnary(client, 'cleanupExpired', {});
    expect(cleaned.deleted).toBe(0n);
    expect((await callUnary(client, 'unblockExpired', {})).unblocked).toBe(0n);
    const published = nextEvent('all-cleared');
    const cleared = await callUnary(client, 'clearAll', { modelVersion: 'test-version' });
    expect(cleared.deleted).toBeGreaterThan(0n);
    expect((await published).all).toBe(true);
    expect((await callUnary(client, 'clearAll', { modelVersion: 'test-version' })).deleted).toBe(0n);
  });

  it('keeps sessions across a restart of the service', async () => {
    const login = await callUnary(client, 'login', {
      userName: 'ann',
      password: 'agent-password-1',
      clientAddress: '',
    });
    await service.stop();
    await start();
    const validated = await callUnary(client, 'validate', {
      sessionId: login.sessionId,
      csrfToken: '',
      stateChanging: false,
    });
    expect(validated.user?.userName).toBe('ann');
    expect(generated).toHaveLength(1);
  });
});

describe('the session service on a model without anonymous users', () => {
  const dbName = unique('session_orders');
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  let service: RunningSessionService;
  let client: session.SessionServiceClient;

  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE "${dbName}"`);
    service = await startSessionService({
      config: sessionConfig.load({
        RUNPLANE_DATABASE_URL: dbUrl.toString(),
        RUNPLANE_NATS_URL: NATS_URL,
        RUNPLANE_NATS_NAMESPACE: unique('sess').replaceAll('_', '-').slice(0, 32),
        RUNPLANE_MODEL_DIR: join(EXAMPLES, 'orders'),
        RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
        RUNPLANE_LOG_LEVEL: 'silent',
      }),
      logger,
      nodeId: 'session-test',
      passwordHasher: hasher,
    });
    client = createClient(session.SessionServiceClient, service.grpcAddress);
  });

  afterAll(async () => {
    client.close();
    await service.stop();
    await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  });

  it('refuses anonymous sessions, and creates no administrator without a password', async () => {
    await expect(callUnary(client, 'createAnonymousSession', { clientAddress: '' })).rejects.toMatchObject({
      code: 'ANONYMOUS_DISABLED',
      status: 'unauthenticated',
    });
    await expect(
      callUnary(client, 'login', { userName: 'MxAdmin', password: 'anything', clientAddress: '' }),
    ).rejects.toMatchObject({ code: 'LOGIN_FAILED' });
  });
});
