/**
 * The session benchmark: how fast a session is validated through the session service's gRPC
 * Validate (sequential and with calls in flight) and through a gateway's validation cache, in
 * one run, on the real PostgreSQL. A last scenario measures `POST /xas/` get_session_data over
 * HTTP (32 connections, 512 sessions in turn) through a gateway with the cache on (2 s, the
 * default) and one with it off. Each scenario prints one JSON line:
 * `{"scenario", ...rates, "ratio"}` with ratio = cache rate / gRPC rate.
 *
 *   npm run bench:session                      # 3 s per measurement
 *   npm run bench:session -- --duration-ms 1000
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import pg from 'pg';
import { createMemoryBroker } from '@runplane/bus';
import { gatewayConfig, sessionConfig } from '@runplane/config';
import { PasswordHasher } from '@runplane/identity';
import { startGateway, type RunningGateway } from '@runplane/gateway';
import { session } from '@runplane/proto';
import { callUnary, createClient } from '@runplane/service-host';
import { startSessionService } from '@runplane/session-service';
import { createLogger } from '@runplane/telemetry';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const flag = process.argv.indexOf('--duration-ms');
const DURATION_MS = flag >= 0 ? Number(process.argv[flag + 1]) : 3000;
const IN_FLIGHT = 64;
const HTTP_SESSIONS = 512;
const logger = createLogger({ service: 'bench', nodeId: 'bench', level: 'silent' });

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: ADMIN_URL });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Calls `op` with `concurrency` calls in flight for the duration; returns calls per second. */
async function rate(
  op: () => Promise<unknown>,
  concurrency: number,
  durationMs = DURATION_MS,
): Promise<number> {
  let done = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await op();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Measures two contenders alternately (warm-up first), twice each, and keeps each one's best rate. */
async function sideBySide(
  a: () => Promise<number>,
  b: () => Promise<number>,
): Promise<{ a: number; b: number }> {
  let bestA = 0;
  let bestB = 0;
  for (let round = 0; round < 3; round++) {
    const ra = await a();
    const rb = await b();
    // Round 0 warms both up (JIT, connections, prepared statements).
    if (round > 0) {
      bestA = Math.max(bestA, ra);
      bestB = Math.max(bestB, rb);
    }
  }
  return { a: bestA, b: bestB };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const dbName = `bench_session_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
const dbUrl = new URL(ADMIN_URL);
dbUrl.pathname = `/${dbName}`;
await admin(`CREATE DATABASE "${dbName}"`);
const broker = createMemoryBroker();
const env = {
  RUNPLANE_DATABASE_URL: dbUrl.toString(),
  RUNPLANE_MODEL_DIR: join(import.meta.dirname, '..', '..', 'examples', 'orders'),
  RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
  RUNPLANE_DEMO_USERS: 'true',
  RUNPLANE_LOG_LEVEL: 'silent',
  RUNPLANE_HTTP_HOST: '127.0.0.1',
  RUNPLANE_HTTP_PORT: '0',
};
const service = await startSessionService({
  config: sessionConfig.load(env),
  logger,
  nodeId: 'bench-session',
  bus: broker.connect('session'),
  // Logins are not measured here: a cheap scrypt cost lets the setup open many sessions quickly.
  passwordHasher: new PasswordHasher({ log2N: 10, r: 8, p: 1 }),
});
const gateways: RunningGateway[] = [];
for (const cacheMs of ['2000', '0']) {
  gateways.push(
    await startGateway({
      config: gatewayConfig.load({
        ...env,
        RUNPLANE_SESSION_GRPC_ADDRESS: service.grpcAddress,
        RUNPLANE_SESSION_CACHE_MS: cacheMs,
      }),
      logger,
      nodeId: `bench-gateway-${cacheMs}`,
      bus: broker.connect(`gateway-${cacheMs}`),
    }),
  );
}
const [cached, uncached] = gateways as [RunningGateway, RunningGateway];
const client = createClient(session.SessionServiceClient, service.grpcAddress);

try {
  const login = await callUnary(client, 'login', {
    userName: 'sam',
    password: 'Password1!',
    clientAddress: '',
  });
  const sessionId = login.sessionId;
  const grpcValidate = (): Promise<unknown> =>
    callUnary(client, 'validate', { sessionId, csrfToken: '', stateChanging: false });
  const cacheValidate = (): Promise<unknown> => cached.sessions.validate(sessionId);

  const sequential = await sideBySide(
    () => rate(grpcValidate, 1),
    () => rate(cacheValidate, 1),
  );
  console.log(
    JSON.stringify({
      scenario: 'validate-sequential',
      grpcPerSecond: round(sequential.a),
      cachePerSecond: round(sequential.b),
      ratio: round(sequential.b / sequential.a),
    }),
  );

  const concurrent = await sideBySide(
    () => rate(grpcValidate, IN_FLIGHT),
    () => rate(cacheValidate, IN_FLIGHT),
  );
  console.log(
    JSON.stringify({
      scenario: `validate-${IN_FLIGHT}-in-flight`,
      grpcPerSecond: round(concurrent.a),
      cachePerSecond: round(concurrent.b),
      ratio: round(concurrent.b / concurrent.a),
    }),
  );

  // Many sessions, one per request in turn: a gateway folds concurrent validations of one
  // session into one call, which would flatter the uncached gateway.
  const sessionIds: string[] = [];
  for (let i = 0; i < HTTP_SESSIONS; i++) {
    sessionIds.push(
      (await callUnary(client, 'login', { userName: 'sam', password: 'Password1!', clientAddress: '' }))
        .sessionId,
    );
  }
  let next = 0;
  const http = async (gateway: RunningGateway): Promise<number> => {
    const result = await autocannon({
      url: `${gateway.url}/xas/`,
      connections: 32,
      duration: DURATION_MS / 1000,
      requests: [
        {
          method: 'POST',
          path: '/xas/',
          body: JSON.stringify({ action: 'get_session_data', params: {} }),
          setupRequest: (request) => ({
            ...request,
            headers: {
              'content-type': 'application/json',
              cookie: `XASSESSIONID=${sessionIds[next++ % sessionIds.length] ?? ''}`,
            },
          }),
        },
      ],
    });
    if (result.non2xx > 0 || result.errors > 0) {
      throw new Error(`get_session_data failed: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    }
    return result.requests.average;
  };
  const overHttp = await sideBySide(
    () => http(uncached),
    () => http(cached),
  );
  console.log(
    JSON.stringify({
      scenario: 'xas-get_session_data-http',
      uncachedPerSecond: round(overHttp.a),
      cachedPerSecond: round(overHttp.b),
      ratio: round(overHttp.b / overHttp.a),
    }),
  );
} finally {
  client.close();
  for (const g of gateways) await g.stop();
  await service.stop();
  await broker.close();
  await admin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
}
