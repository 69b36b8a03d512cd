/**
 * Test support: an executor on the machine's PostgreSQL and NATS, each suite with its own
 * database and bus namespace, and a gRPC client for it. Not part of the package's API.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { busNames } from '@runplane/bus';
import { executorConfig } from '@runplane/config';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { openDatabase, type RunplaneDatabase } from '@runplane/persistence';
import { executor, health } from '@runplane/proto';
import {
  callUnary,
  createClient,
  type RequestOf,
  type ResponseOf,
  type UnaryMethodName,
} from '@runplane/service-host';
import { createLogger, type Logger } from '@runplane/telemetry';
import pg from 'pg';
import { startExecutor, type RunningExecutor } from '../executor.service.js';

/** The machine's PostgreSQL, as tests reach it. */
export const POSTGRES_ADMIN_URL =
  process.env['RUNPLANE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The machine's NATS server. */
export const NATS_URL = process.env['RUNPLANE_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
/** The package's own fixture app. */
export const LAB_MODEL_DIR = join(import.meta.dirname, '..', '..', 'test', 'fixtures', 'app');
/** The repository's example apps. */
export const EXAMPLES_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'examples');

/** A unique lowercase name. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
}

/** A database and a bus namespace of a suite's own. */
export interface TestSite {
  readonly databaseUrl: string;
  readonly namespace: string;
  /** Drops the database and deletes the namespace's streams. */
  cleanup(): Promise<void>;
}

/** Creates an empty database and picks a namespace. */
export async function createTestSite(prefix = 'exec'): Promise<TestSite> {
  const name = uniqueName(`runplane_${prefix}`);
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  const namespace = uniqueName(prefix).replaceAll('_', '-').toLowerCase().slice(0, 32);
  return {
    databaseUrl: url.toString(),
    namespace,
    async cleanup() {
      const nc = await connect({ servers: NATS_URL });
      try {
        const jsm = await jetstreamManager(nc);
        const prefix = busNames(namespace).streams.tasks.replace(/TASKS$/, '');
        const doomed: string[] = [];
        for await (const stream of jsm.streams.names()) {
          if (stream.startsWith(prefix) || stream.startsWith(`KV_${prefix}`)) doomed.push(stream);
        }
        await Promise.all(doomed.map((stream) => jsm.streams.delete(stream)));
      } finally {
        await nc.close();
      }
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A quiet logger (set RUNPLANE_TEST_LOG_LEVEL to see the executor's logs). */
export function testLogger(): Logger {
  const level = (process.env['RUNPLANE_TEST_LOG_LEVEL'] ?? 'silent') as 'silent';
  return createLogger({ service: 'microflow-executor', nodeId: 'test', level });
}

/** An executor started in this process, with a client of its gRPC service. */
export interface TestExecutor {
  readonly running: RunningExecutor;
  readonly model: CompiledModel;
  readonly client: executor.ExecutorServiceClient;
  readonly health: health.HealthClient;
  /** Calls a method of the executor service. */
  call<K extends UnaryMethodName<executor.ExecutorServiceClient>>(
    method: K,
    request: RequestOf<executor.ExecutorServiceClient, K>,
  ): Promise<ResponseOf<executor.ExecutorServiceClient, K>>;
  stop(): Promise<void>;
}

/** Starts an executor on a site with a model folder and extra settings. */
export async function startTestExecutor(
  site: TestSite,
  modelDir: string,
  env: Record<string, string> = {},
  fetchImpl?: typeof fetch,
): Promise<TestExecutor> {
  const config = executorConfig.load({
    RUNPLANE_DATABASE_URL: site.databaseUrl,
    RUNPLANE_NATS_URL: NATS_URL,
    RUNPLANE_NATS_NAMESPACE: site.namespace,
    RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
    RUNPLANE_MODEL_DIR: modelDir,
    RUNPLANE_LOG_LEVEL: 'silent',
    RUNPLANE_TASK_ACK_WAIT_MS: '5000',
    RUNPLANE_SHUTDOWN_TIMEOUT_MS: '2000',
    OTEL_SDK_DISABLED: 'true',
    ...env,
  });
  const model = await loadModelOrThrow(modelDir);
  const running = await startExecutor({
    config,
    logger: testLogger(),
    nodeId: uniqueName('executor'),
    model,
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
  });
  const client = createClient(executor.ExecutorServiceClient, running.grpcAddress);
  const healthClient = createClient(health.HealthClient, running.grpcAddress);
  return {
    running,
    model,
    client,
    health: healthClient,
    call: (method, request) =>
      callUnary(client, method, request, { service: 'microflow-executor', deadlineMs: 30_000 }),
    async stop() {
      client.close();
      healthClient.close();
      await running.stop();
    },
  };
}

/** A second handle on a site's database, to look at and seed data behind the executor's back. */
export function openSiteDatabase(site: TestSite, model: CompiledModel): Promise<RunplaneDatabase> {
  return openDatabase(model, { kind: 'postgres', url: site.databaseUrl, poolSize: 2 }, { migrate: 'none' });
}

/** Waits until `check` returns a value, checking every 25 ms; fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'the condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
