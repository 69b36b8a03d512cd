/**
 * Scenario (b): a create-and-commit microflow (create one object with two attributes, commit
 * it, return it) run through the executor's gRPC service — request conversion, unit of work,
 * the engine, the INSERT in its own transaction, the response with the object's snapshot —
 * against raw `pg` inserts of the same row into the same table over a pool of the same size.
 * Both run on the same PostgreSQL, in alternating slices after a warm-up, sequentially and
 * with `BENCH_CONCURRENCY` calls in flight.
 *
 * Figures: calls per second of each, and `ratio` = how many times slower the microflow call is.
 * The executor runs in this process (gRPC over loopback), without task-queue consumers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { createMemoryBroker } from '@runplane/bus';
import { executorConfig } from '@runplane/config';
import { startExecutor } from '@runplane/microflow-executor';
import { loadModelFromFiles } from '@runplane/model';
import { executor, type common } from '@runplane/proto';
import { callUnary, createClient } from '@runplane/service-host';
import { createLogger } from '@runplane/telemetry';

const CALLS_PER_SLICE = Number(process.env['BENCH_CALLS_PER_SLICE'] ?? 400);
const SLICES = 6;
const WARMUP_CALLS = 500;
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const ADMIN_URL = process.env['RUNPLANE_TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const MODEL = {
  'app.yaml': 'app: Bench\nversion: 1.0.0\n',
  'Bench/domain.yaml': `module: Bench
entities:
  Row:
    attributes:
      N: Long
      Label: { type: String, length: 100 }
`,
  'Bench/flows.yaml': `module: Bench
microflows:
  CreateRow:
    parameters: { N: Long, Label: String }
    returnType: Row
    start: create
    nodes:
      create: { kind: create, entity: Row, members: { N: $N, Label: $Label }, commit: yes, output: Made, next: done }
      done: { kind: end, value: $Made }
`,
};

const SYSTEM: common.UserContext = {
  userId: '',
  userName: '',
  userRoles: [],
  sessionIdHash: '',
  anonymous: false,
  timeZone: '',
  language: '',
  system: true,
};

/** Runs `calls` calls of `one` with `concurrency` in flight; returns the elapsed nanoseconds. */
async function timed(
  calls: number,
  concurrency: number,
  one: (i: number) => Promise<unknown>,
): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) await one(next++);
    }),
  );
  return Number(process.hrtime.bigint() - start);
}

/** Calls per second of both, measured in alternating slices. */
async function compare(
  concurrency: number,
  viaExecutor: (i: number) => Promise<unknown>,
  viaPg: (i: number) => Promise<unknown>,
): Promise<{ executorPerSec: number; pgPerSec: number; ratio: number }> {
  let executorNs = 0;
  let pgNs = 0;
  for (let slice = 0; slice < SLICES; slice++) {
    executorNs += await timed(CALLS_PER_SLICE, concurrency, viaExecutor);
    pgNs += await timed(CALLS_PER_SLICE, concurrency, viaPg);
  }
  const calls = CALLS_PER_SLICE * SLICES;
  const executorPerSec = calls / (executorNs / 1e9);
  const pgPerSec = calls / (pgNs / 1e9);
  return {
    executorPerSec: Math.round(executorPerSec),
    pgPerSec: Math.round(pgPerSec),
    ratio: Math.round((pgPerSec / executorPerSec) * 100) / 100,
  };
}

async function run(): Promise<Record<string, unknown>> {
  const loaded = loadModelFromFiles(Object.entries(MODEL).map(([path, text]) => ({ path, text })));
  if (!loaded.ok) throw new Error(`bench model: ${loaded.errors.map((e) => e.message).join('; ')}`);
  const name = `runplane_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const broker = createMemoryBroker();
  const pool = new pg.Pool({ connectionString: url.toString(), max: CONCURRENCY });
  // Dropping the database at the end cuts connections that are still closing.
  pool.on('error', () => undefined);
  const poolSize = String(CONCURRENCY);
  const running = await startExecutor({
    config: executorConfig.load({
      RUNPLANE_DATABASE_URL: url.toString(),
      RUNPLANE_DATABASE_POOL_SIZE: poolSize,
      RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
      RUNPLANE_MODEL_DIR: '.',
      RUNPLANE_TASK_QUEUES_ENABLED: 'false',
      OTEL_SDK_DISABLED: 'true',
    }),
    logger: createLogger({ service: 'bench', nodeId: 'bench', level: 'silent' }),
    nodeId: 'bench',
    bus: broker.connect('bench'),
    model: loaded.model,
  });
  const client = createClient(executor.ExecutorServiceClient, running.grpcAddress);
  try {
    const viaExecutor = (i: number) =>
      callUnary(client, 'execute', {
        microflow: 'Bench.CreateRow',
        parameters: {
          N: { kind: { $case: 'integer', value: BigInt(i) } },
          Label: { kind: { $case: 'string', value: `row ${i}` } },
        },
        user: SYSTEM,
        state: { objects: [] },
        fromClient: false,
      });
    const viaPg = (i: number) =>
      pool.query('INSERT INTO "bench$row" (id, n, label) VALUES ($1, $2, $3)', [randomUUID(), i, `row ${i}`]);
    await timed(WARMUP_CALLS, CONCURRENCY, viaExecutor);
    await timed(WARMUP_CALLS, CONCURRENCY, viaPg);
    const sequential = await compare(1, viaExecutor, viaPg);
    const concurrent = await compare(CONCURRENCY, viaExecutor, viaPg);
    return {
      ...sequential,
      concurrency: CONCURRENCY,
      concurrentExecutorPerSec: concurrent.executorPerSec,
      concurrentPgPerSec: concurrent.pgPerSec,
      concurrentRatio: concurrent.ratio,
      callsPerMeasure: CALLS_PER_SLICE * SLICES,
    };
  } finally {
    client.close();
    await running.stop();
    await broker.close();
    await pool.end();
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await admin.end();
  }
}

export default { name: 'grpc-create-commit', run };
