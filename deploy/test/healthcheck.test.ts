import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { GrpcServer, HealthState } from '@runplane/service-host';
import { createLogger } from '@runplane/telemetry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/index.js';

const PROBE = join(REPO_ROOT, 'deploy', 'healthcheck.mjs');

/** Runs the probe as Docker does: a separate `node` process; its exit code and output. */
function probe(...args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROBE, ...args], { timeout: 10_000 }, (error, stdout) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, output: stdout.trim() });
    });
  });
}

/** A port nothing listens on: bound by the system, then released. */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  return port;
}

const logger = createLogger({ service: 'healthcheck-test', nodeId: 'test', level: 'silent' });

describe('the container health probe over gRPC', () => {
  let grpc: GrpcServer;
  let port: number;

  beforeAll(async () => {
    grpc = new GrpcServer('127.0.0.1:0', logger);
    const bound = await grpc.start();
    port = Number(bound.slice(bound.lastIndexOf(':') + 1));
  });

  afterAll(async () => {
    await grpc.stop(1000);
  });

  it('succeeds while the server answers SERVING', async () => {
    expect(await probe('grpc', `127.0.0.1:${port}`)).toEqual({
      code: 0,
      output: `127.0.0.1:${port}: SERVING`,
    });
  });

  it('probes a wildcard listen address on loopback, as the image passes RUNPLANE_GRPC_LISTEN_ADDRESS', async () => {
    expect(await probe('grpc', `0.0.0.0:${port}`)).toEqual({ code: 0, output: `0.0.0.0:${port}: SERVING` });
  });

  it('fails for a service the server does not know', async () => {
    const result = await probe('grpc', `127.0.0.1:${port}`, 'runplane.nothing.v1.Nothing');
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^unhealthy: gRPC status 5/);
  });

  it('fails when nothing listens', async () => {
    const result = await probe('grpc', `127.0.0.1:${await freePort()}`);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^unhealthy: .*ECONNREFUSED/);
  });

  it('fails without an address, naming the variable to set', async () => {
    expect(await probe('grpc', '')).toEqual({
      code: 1,
      output: 'unhealthy: no gRPC address (the image probes RUNPLANE_GRPC_LISTEN_ADDRESS; set it)',
    });
  });

  it('fails once the server reports NOT_SERVING (as it does from the moment it starts stopping)', async () => {
    grpc.health.setAll(HealthState.NotServing);
    try {
      expect(await probe('grpc', `127.0.0.1:${port}`)).toEqual({
        code: 1,
        output: `127.0.0.1:${port}: NOT_SERVING`,
      });
    } finally {
      grpc.health.setAll(HealthState.Serving);
    }
  });
});

describe('the container health probe over HTTP', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((request, response) => {
      response.statusCode = request.url === '/health' ? 200 : 503;
      response.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });

  it('succeeds on a 2xx answer', async () => {
    expect(await probe('http', `http://127.0.0.1:${port}/health`)).toEqual({
      code: 0,
      output: `http://127.0.0.1:${port}/health: HTTP 200`,
    });
  });

  it('fails on any other answer', async () => {
    expect(await probe('http', `http://127.0.0.1:${port}/ready`)).toEqual({
      code: 1,
      output: `http://127.0.0.1:${port}/ready: HTTP 503`,
    });
  });

  it('fails when nothing listens', async () => {
    const result = await probe('http', `http://127.0.0.1:${await freePort()}/health`);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/^unhealthy: .*ECONNREFUSED/);
  });
});
