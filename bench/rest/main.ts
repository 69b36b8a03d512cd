/**
 * The published-REST benchmark: the order feed's list of 20 orders (GET
 * /rest/orderfeed/v1/orders as alice, with HTTP Basic as the service declares it) through the
 * full stack — gateway → gRPC → microflow executor → PostgreSQL, each service its own process —
 * side by side with a bare Fastify + pg handler (bench/rest/bare.ts, its own process) running
 * the same statement. Both are hit with autocannon in the same run, after a warm-up, in rounds of
 * one measurement each (alternating which goes first), with the same connections and duration;
 * prints one JSON line:
 * `{"scenario", "stack": {reqPerSec, p50Ms, p99Ms, cpuUsPerRequest}, "bare": {...}, "ratio"}` with
 * ratio = the median over the rounds of stack req/s ÷ bare req/s (goal ≥ 0.5; `ratios` lists each
 * round's), and each side's median round. `cpuUsPerRequest` (Linux) says where the CPU
 * went: µs per request of each service process, of PostgreSQL, of the load generator (autocannon,
 * in this process) and their `total` without the load generator; on a machine with few cores these
 * decide the rates. `executorOnly` is the same retrieve sent straight
 * to the executor over gRPC (as many in flight as connections), to show which hop limits the stack.
 * Telemetry is off in the services (OTEL_SDK_DISABLED), as the bare handler has none.
 *
 *   npm run bench:rest                                   # 4 rounds, 5 s per measurement, 32 connections
 *   npm run bench:rest -- --duration-ms 3000 --connections 16
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { executor } from '@runplane/proto';
import { callUnary, createClient } from '@runplane/service-host';
import { clusterAddresses, clusterEnv, startServices, testNamespace } from '../../tests/support/cluster.js';
import { createTestDatabase } from '../../tests/support/infra.js';
import { freePort } from '../../tests/support/ports.js';
import { ROOT, type ServiceName, type ServiceProcess } from '../../tests/support/processes.js';
import { cpuMeter, type ProcessGroups } from './cpu.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const DURATION_MS = flag('--duration-ms', 5000);
const CONNECTIONS = flag('--connections', 32);
const ROUNDS = Math.max(1, flag('--rounds', 4));
const ORDERS_PER_USER = 20;
const SERVICES: ServiceName[] = ['session', 'microflow-executor', 'gateway'];

interface Measurement {
  readonly reqPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** µs of CPU per request of each process group, PostgreSQL and the load generator (Linux only). */
  readonly cpuUsPerRequest?: Record<string, number>;
}

/** Fails the run with a message (the bench's only way out on a broken setup). */
function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function waitForHttp(url: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`${url} did not answer within 30 s`);
}

/** One client session over POST /xas/. */
class Client {
  private cookie = '';
  private csrf = '';
  private state: unknown = { objects: [] };

  constructor(private readonly base: string) {}

  async call(
    action: string,
    params: Record<string, unknown>,
    withState = false,
  ): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.base}/xas/`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: `XASSESSIONID=${this.cookie}`,
        'x-csrf-token': this.csrf,
      },
      body: JSON.stringify({ action, params, ...(withState ? { state: this.state } : {}) }),
    });
    const set = res.headers.getSetCookie()[0];
    if (set !== undefined) this.cookie = /^XASSESSIONID=([^;]*)/.exec(set)?.[1] ?? '';
    const body = (await res.json()) as Record<string, unknown>;
    if (res.status !== 200) fail(`${action} answered ${res.status}: ${JSON.stringify(body)}`);
    if (typeof body.state === 'object' && body.state !== null) this.state = body.state;
    return body;
  }

  /** Logs in; returns the user's id. */
  async login(username: string): Promise<string> {
    const body = await this.call('login', { username, password: 'Password1!' });
    this.csrf = String(body.csrfToken);
    return (body.user as { id: string }).id;
  }

  /** Stores a draft order of the signed-in customer. */
  async draftOrder(customerId: string, note: string): Promise<void> {
    const made = await this.call('instantiate', { entity: 'Sales.Order' }, true);
    const id = (made.object as { id: string }).id;
    await this.call(
      'change',
      { objects: [{ id, members: { 'Sales.Order_Customer': customerId, Note: note } }] },
      true,
    );
    await this.call('commit', { ids: [id] }, true);
  }
}

/** Starts the bare handler as its own process. */
async function startBare(
  port: number,
  databaseUrl: string,
  userId: string,
): Promise<{ readonly pid: number; stop(): void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'bench', 'rest', 'bare.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), DATABASE_URL: databaseUrl, USER_ID: userId },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => {
    if (child.stdout === null) fail('the bare handler has no stdout');
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'listening') resolve();
    });
    child.on('exit', (code) => fail(`the bare handler exited (${String(code)})`));
  });
  return {
    pid: child.pid ?? 0,
    stop() {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
    },
  };
}

async function measure(
  url: string,
  headers: Record<string, string>,
  durationMs: number,
  processes: ProcessGroups,
): Promise<Measurement> {
  const cpu = cpuMeter(processes);
  const result = await autocannon({ url, connections: CONNECTIONS, duration: durationMs / 1000, headers });
  const cpuUsPerRequest = cpu.stop(result.requests.total);
  if (result.non2xx > 0 || result.errors > 0) {
    fail(`${url}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  }
  return {
    reqPerSec: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    ...(cpuUsPerRequest === undefined ? {} : { cpuUsPerRequest }),
  };
}

/** Retrieves per second straight from the executor over gRPC, `CONNECTIONS` calls in flight. */
async function executorOnly(address: string, userId: string, durationMs: number): Promise<number> {
  const client = createClient(executor.ExecutorServiceClient, address);
  const request: executor.RetrieveRequest = {
    user: {
      userId,
      userName: 'alice',
      userRoles: ['Customer'],
      sessionIdHash: '',
      anonymous: false,
      timeZone: 'Europe/Amsterdam',
      language: '',
      system: false,
    },
    state: undefined,
    query: {
      $case: 'xpath',
      value: {
        entity: 'Sales.Order',
        constraint: '',
        sort: [],
        offset: 0n,
        amount: 20n,
        includeCount: false,
      },
    },
  };
  try {
    let done = 0;
    const started = Date.now();
    const deadline = started + durationMs;
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (Date.now() < deadline) {
          await callUnary(client, 'retrieve', request);
          done++;
        }
      }),
    );
    return done / ((Date.now() - started) / 1000);
  } finally {
    client.close();
  }
}

async function main(): Promise<void> {
  const db = await createTestDatabase('bench_rest');
  const ns = testNamespace('bench-rest');
  const addresses = await clusterAddresses();
  let processes = new Map<ServiceName, ServiceProcess>();
  let bare: { readonly pid: number; stop(): void } | undefined;
  try {
    processes = await startServices(
      SERVICES,
      addresses,
      clusterEnv(addresses, {
        RUNPLANE_NATS_NAMESPACE: ns.namespace,
        RUNPLANE_DATABASE_URL: db.url,
        RUNPLANE_MODEL_DIR: 'examples/orders',
        RUNPLANE_DEMO_USERS: 'true',
        RUNPLANE_LOG_LEVEL: 'warn',
        OTEL_SDK_DISABLED: 'true',
      }),
    );
    const base = addresses.httpUrl;
    await waitForHttp(`${base}/health`);

    // alice's orders are the caller's; bob's are there so that entity access has something to hide.
    const ids: Record<string, string> = {};
    for (const name of ['alice', 'bob']) {
      const client = new Client(base);
      ids[name] = await client.login(name);
      for (let i = 0; i < ORDERS_PER_USER; i++) await client.draftOrder(ids[name], `${name} #${i + 1}`);
    }

    const port = await freePort();
    bare = await startBare(port, db.url, ids.alice ?? '');
    const stackUrl = `${base}/rest/orderfeed/v1/orders`;
    const bareUrl = `http://127.0.0.1:${port}/orders`;
    const auth = { authorization: `Basic ${Buffer.from('alice:Password1!').toString('base64')}` };

    // Same answer from both, or the comparison means nothing.
    const fromStack = (await (await fetch(stackUrl, { headers: auth })).json()) as { items: unknown[] };
    const fromBare = (await (await fetch(bareUrl)).json()) as { items: unknown[] };
    if (fromStack.items.length !== ORDERS_PER_USER)
      fail(`the stack answered ${fromStack.items.length} orders`);
    if (JSON.stringify(fromStack) !== JSON.stringify(fromBare)) {
      fail(`the two answers differ:\n${JSON.stringify(fromStack)}\n${JSON.stringify(fromBare)}`);
    }

    const stackProcesses: ProcessGroups = Object.fromEntries(
      [...processes].map(([name, p]) => [name, [p.child.pid ?? 0]]),
    );
    const bareProcesses: ProcessGroups = { bare: [bare.pid] };
    // Warm-up (JIT, connections, prepared statements, the Basic cache), then rounds of one
    // measurement each, side by side and in alternating order, so that a drift in the machine's
    // speed weighs on both; the ratio is the median of the rounds' own ratios.
    await measure(stackUrl, auth, Math.min(2000, DURATION_MS), stackProcesses);
    await measure(bareUrl, {}, Math.min(2000, DURATION_MS), bareProcesses);
    const rounds: { stack: Measurement; bare: Measurement }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        const s = await measure(stackUrl, auth, DURATION_MS, stackProcesses);
        rounds.push({ stack: s, bare: await measure(bareUrl, {}, DURATION_MS, bareProcesses) });
      } else {
        const b = await measure(bareUrl, {}, DURATION_MS, bareProcesses);
        rounds.push({ stack: await measure(stackUrl, auth, DURATION_MS, stackProcesses), bare: b });
      }
    }
    const median = (values: readonly number[]): number => {
      const sorted = [...values].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
    };
    const ratios = rounds.map((r) => Math.round((r.stack.reqPerSec / r.bare.reqPerSec) * 100) / 100);
    /** The side's round with the median rate (the lower middle one of an even count). */
    const middle = (side: 'stack' | 'bare'): Measurement | undefined =>
      [...rounds].sort((a, b) => a[side].reqPerSec - b[side].reqPerSec)[
        Math.floor((rounds.length - 1) / 2)
      ]?.[side];
    const stack = middle('stack');
    const bareBest = middle('bare');
    if (stack === undefined || bareBest === undefined) fail('nothing was measured');
    const direct = await executorOnly(addresses.grpc['microflow-executor'], ids.alice ?? '', DURATION_MS);
    const round = (m: Measurement): Measurement => ({ ...m, reqPerSec: Math.round(m.reqPerSec) });
    console.log(
      JSON.stringify({
        scenario: 'rest-list-20-orders',
        connections: CONNECTIONS,
        durationMs: DURATION_MS,
        stack: round(stack),
        bare: round(bareBest),
        executorOnly: { reqPerSec: Math.round(direct) },
        ratios,
        ratio: Math.round(median(ratios) * 100) / 100,
      }),
    );
  } finally {
    bare?.stop();
    await Promise.all([...processes.values()].map((p) => p.stop('SIGTERM')));
    await ns.cleanup();
    await db.drop();
  }
}

await main();
