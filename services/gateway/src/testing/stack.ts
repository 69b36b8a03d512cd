/**
 * Test support: a session service, a microflow executor and a gateway in this process, on a
 * PostgreSQL database of the suite's own and an in-process bus (the end-to-end tests run the
 * same over NATS, as processes). Not part of the package's API.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createMemoryBroker } from '@runplane/bus';
import { executorConfig, gatewayConfig, sessionConfig } from '@runplane/config';
import { PasswordHasher } from '@runplane/identity';
import { startExecutor } from '@runplane/microflow-executor';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { startSessionService, type RunningSessionService } from '@runplane/session-service';
import { createLogger } from '@runplane/telemetry';
import { startGateway, type RunningGateway } from '../gateway.service.js';

const ADMIN_URL = process.env.RUNPLANE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const logger = createLogger({ service: 'test', nodeId: 'test', level: 'silent' });

/** The services of one suite, and the database they share. */
export interface DataStack {
  readonly gateway: RunningGateway;
  readonly url: string;
  readonly model: CompiledModel;
  readonly session: RunningSessionService;
  /** The executor's gRPC address (to compare what the gateway answers with what the executor holds). */
  readonly executorAddress: string;
  /** Another gateway on the same services, with more settings (stopped with the stack). */
  startGateway(env: Record<string, string>): Promise<RunningGateway>;
  /** A client of the suite's database, for checking what was (not) written. */
  readonly sql: pg.Client;
  stop(): Promise<void>;
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Starts the stack on a new database; `gatewayEnv` adds gateway settings. */
export async function startDataStack(
  modelDir: string,
  gatewayEnv: Record<string, string> = {},
): Promise<DataStack> {
  const dbName = `gw_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const dbUrl = new URL(ADMIN_URL);
  dbUrl.pathname = `/${dbName}`;
  await admin(`CREATE DATABASE "${dbName}"`);
  const model = await loadModelOrThrow(modelDir);
  const broker = createMemoryBroker();
  const env = {
    RUNPLANE_DATABASE_URL: dbUrl.toString(),
    RUNPLANE_MODEL_DIR: modelDir,
    RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
    RUNPLANE_LOG_LEVEL: 'silent',
  };
  const session = await startSessionService({
    config: sessionConfig.load({ ...env, RUNPLANE_DEMO_USERS: 'true' }),
    logger,
    nodeId: 'session',
    bus: broker.connect('session'),
    model,
    passwordHasher: new PasswordHasher({ log2N: 11, r: 8, p: 1 }),
  });
  const executor = await startExecutor({
    config: executorConfig.load(env),
    logger,
    nodeId: 'executor',
    bus: broker.connect('executor'),
    model,
  });
  const gateways: RunningGateway[] = [];
  const addGateway = async (extra: Record<string, string>): Promise<RunningGateway> => {
    const started = await startGateway({
      config: gatewayConfig.load({
        ...env,
        RUNPLANE_SESSION_GRPC_ADDRESS: session.grpcAddress,
        RUNPLANE_EXECUTOR_GRPC_ADDRESS: executor.grpcAddress,
        RUNPLANE_HTTP_HOST: '127.0.0.1',
        RUNPLANE_HTTP_PORT: '0',
        ...extra,
      }),
      logger,
      nodeId: `gateway-${gateways.length}`,
      bus: broker.connect(`gateway-${gateways.length}`),
      model,
    });
    gateways.push(started);
    return started;
  };
  const gateway = await addGateway(gatewayEnv);
  const sql = new pg.Client({ connectionString: dbUrl.toString() });
  await sql.connect();
  return {
    gateway,
    url: gateway.url,
    model,
    session,
    executorAddress: executor.grpcAddress,
    sql,
    startGateway: addGateway,
    async stop() {
      await sql.end();
      for (const g of gateways) await g.stop();
      await executor.stop();
      await session.stop();
      await broker.close();
      await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    },
  };
}

/** A browser of one: keeps the session cookie and CSRF token, and the client's state. */
export class Browser {
  cookie: string | undefined;
  csrf: string | undefined;
  state: { objects: unknown[] } = { objects: [] };

  constructor(readonly baseUrl: string) {}

  /** Calls an action; state-changing ones send the CSRF token, actions that take it send the state. */
  async call(
    action: string,
    params: Record<string, unknown> = {},
    options: { withState?: boolean; csrf?: string | null; keepState?: boolean } = {},
  ): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.cookie !== undefined) headers.cookie = `XASSESSIONID=${this.cookie}`;
    const csrf = options.csrf === undefined ? this.csrf : options.csrf;
    if (csrf !== undefined && csrf !== null) headers['x-csrf-token'] = csrf;
    const res = await fetch(`${this.baseUrl}/xas/`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ action, params, ...(options.withState === true ? { state: this.state } : {}) }),
    });
    const set = res.headers.getSetCookie()[0];
    if (set !== undefined) {
      const value = /^XASSESSIONID=([^;]*)/.exec(set)?.[1] ?? '';
      this.cookie = value === '' ? undefined : value;
    }
    const body = (await res.json()) as Record<string, unknown>;
    if (
      res.status === 200 &&
      options.keepState !== false &&
      typeof body.state === 'object' &&
      body.state !== null
    ) {
      this.state = body.state as { objects: unknown[] };
    }
    return { status: res.status, body, headers: res.headers };
  }

  /** Logs in and keeps the CSRF token. */
  async login(username: string, password = 'Password1!'): Promise<void> {
    const res = await this.call('login', { username, password });
    if (res.status !== 200)
      throw new Error(`login of ${username}: ${res.status} ${JSON.stringify(res.body)}`);
    this.csrf = String(res.body.csrfToken);
  }
}
