import { afterEach, describe, expect, it } from 'vitest';
import { ErrorStatus, UserError } from '@runplane/errors';
import { gateway, health } from '@runplane/proto';
import { createLogger } from '@runplane/telemetry';
import { GrpcServer, callUnary, checkHealth, createClient, unaryHandler } from './index.js';

const logger = createLogger({ service: 'test', nodeId: 'test', level: 'silent' });
const servers: GrpcServer[] = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop(100)));
});

async function startServer(
  getInfo: (req: gateway.GetInfoRequest) => Promise<gateway.GetInfoResponse>,
): Promise<string> {
  const server = new GrpcServer('127.0.0.1:0', logger);
  server.add(gateway.GatewayServiceService, {
    getInfo: unaryHandler(logger, 'GetInfo', getInfo),
  });
  servers.push(server);
  return server.start();
}

describe('GrpcServer', () => {
  it('answers the standard health check for the server and for each service', async () => {
    const address = await startServer(() =>
      Promise.resolve({ version: '1', nodeId: 'n', modelVersion: '', startedAtMs: 0n, httpAddress: '' }),
    );
    const client = createClient(health.HealthClient, address);
    expect(await checkHealth(client, '', 1000)).toBe('SERVING');
    expect(await checkHealth(client, 'runplane.gateway.v1.GatewayService', 1000)).toBe('SERVING');
    expect(await checkHealth(client, 'no.such.Service', 1000)).toBe('SERVICE_UNKNOWN');
    client.close();
  });

  it('streams health changes to watchers and ends the stream on shutdown', async () => {
    const server = new GrpcServer('127.0.0.1:0', logger);
    const address = await server.start();
    const client = createClient(health.HealthClient, address);
    const seen: number[] = [];
    const stream = client.watch({ service: '' });
    const ended = new Promise<void>((resolve) => {
      stream.on('data', (msg: health.HealthCheckResponse) => {
        seen.push(msg.status);
        if (seen.length === 1) void server.stop(1000);
      });
      stream.on('end', resolve);
      stream.on('error', () => {
        resolve();
      });
    });
    await ended;
    const S = health.HealthCheckResponse_ServingStatus;
    expect(seen).toEqual([S.SERVING, S.NOT_SERVING]);
    client.close();
  });

  it('carries a typed error from the handler to the caller', async () => {
    const address = await startServer(() =>
      Promise.reject(
        new UserError({
          code: 'NOPE',
          status: ErrorStatus.PermissionDenied,
          message: 'not you',
          details: { who: 'x' },
        }),
      ),
    );
    const client = createClient(gateway.GatewayServiceClient, address);
    await expect(callUnary(client, 'getInfo', {}, { service: 'gateway' })).rejects.toMatchObject({
      code: 'NOPE',
      status: 'permission_denied',
      message: 'not you',
      details: { who: 'x' },
    });
    client.close();
  });

  it('lets a call in flight at shutdown complete, and refuses new calls after', async () => {
    let release: () => void = () => undefined;
    let markStarted: () => void = () => undefined;
    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const address = await startServer(
      () =>
        new Promise((resolve) => {
          release = () => {
            resolve({ version: 'done', nodeId: '', modelVersion: '', startedAtMs: 0n, httpAddress: '' });
          };
          markStarted();
        }),
    );
    const client = createClient(gateway.GatewayServiceClient, address);
    const inFlight = callUnary(client, 'getInfo', {}, { deadlineMs: 5000 });
    await started;
    const stopping = servers[0]!.stop(3000);
    setTimeout(() => {
      release();
    }, 200);
    await expect(inFlight).resolves.toMatchObject({ version: 'done' });
    await stopping;
    const late = createClient(gateway.GatewayServiceClient, address);
    await expect(callUnary(late, 'getInfo', {}, { deadlineMs: 500 })).rejects.toMatchObject({
      kind: 'operational',
    });
    client.close();
    late.close();
  });

  it("aborts the handler's signal when the caller cancels, and never once the handler has answered", async () => {
    const signals: AbortSignal[] = [];
    let markStarted: () => void = () => undefined;
    const server = new GrpcServer('127.0.0.1:0', logger);
    server.add(gateway.GatewayServiceService, {
      getInfo: unaryHandler(logger, 'GetInfo', (request: gateway.GetInfoRequest, ctx) => {
        signals.push(ctx.signal);
        if (signals.length === 1) {
          return Promise.resolve({
            version: '1',
            nodeId: '',
            modelVersion: '',
            startedAtMs: 0n,
            httpAddress: '',
          });
        }
        markStarted();
        return new Promise<gateway.GetInfoResponse>((_resolve, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reject(new Error('cancelled'));
          });
        });
      }),
    });
    servers.push(server);
    const client = createClient(gateway.GatewayServiceClient, await server.start());
    await callUnary(client, 'getInfo', {});
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(signals[0]?.aborted).toBe(false);

    const started = new Promise<void>((resolve) => {
      markStarted = resolve;
    });
    const controller = new AbortController();
    const cancelled = callUnary(client, 'getInfo', {}, { signal: controller.signal });
    await started;
    controller.abort();
    await expect(cancelled).rejects.toBeDefined();
    await expect.poll(() => signals[1]?.aborted, { timeout: 2000 }).toBe(true);
    client.close();
  });
});
