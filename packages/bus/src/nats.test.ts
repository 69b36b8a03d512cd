import { createServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import { describeBusConformance } from './conformance.js';
import {
  BusEventKind,
  BusErrorCode,
  BusState,
  busNames,
  connectNats,
  decodeText,
  encodeText,
  type Bus,
  type BusEvent,
} from './index.js';

const servers = process.env['RUNPLANE_TEST_NATS_URL'] ?? 'nats://127.0.0.1:4222';
const namespace = `conf-${Math.random().toString(36).slice(2, 10)}`;

/** Deletes every stream and bucket of the namespace, so runs leave the shared server clean. */
async function deleteNamespace(ns: string): Promise<void> {
  const prefix = busNames(ns).streams.tasks.replace(/TASKS$/, '');
  const nc = await connect({ servers });
  try {
    const jsm = await jetstreamManager(nc);
    const doomed: string[] = [];
    for await (const name of jsm.streams.names()) {
      if (name.startsWith(prefix) || name.startsWith(`KV_${prefix}`)) doomed.push(name);
    }
    await Promise.all(doomed.map((name) => jsm.streams.delete(name)));
  } finally {
    await nc.close();
  }
}

describeBusConformance('NATS', {
  namespace,
  connect: (name, options) => connectNats({ servers, name, onEvent: options.onEvent, pullExpiresMs: 1_000 }),
  cleanup: () => deleteNamespace(namespace),
});

/** A TCP proxy to the NATS server whose connections can be cut, to make the client reconnect. */
async function startProxy(): Promise<{ url: string; cut(): void; close(): Promise<void> }> {
  const target = new URL(servers.split(',')[0]?.trim() ?? servers);
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(Number(target.port || 4222), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `nats://127.0.0.1:${port}`,
    cut: () => {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          resolve();
        });
      }),
  };
}

function waitFor<T>(items: T[], matches: (item: T) => boolean): Promise<T> {
  return new Promise((resolve) => {
    const check = (): void => {
      const found = items.find(matches);
      if (found === undefined) setTimeout(check, 20);
      else resolve(found);
    };
    check();
  });
}

describe('the NATS bus', () => {
  afterAll(() => deleteNamespace(namespace));

  it('reconnects after losing the server, reports it, and keeps its subscriptions and consumers working', async () => {
    const proxy = await startProxy();
    const events: BusEvent[] = [];
    const names = busNames(namespace);
    const direct = await connectNats({ servers, name: 'direct' });
    let flaky: Bus | undefined;
    try {
      flaky = await connectNats({
        servers: proxy.url,
        name: 'flaky',
        reconnectDelayMs: 20,
        reconnectMaxDelayMs: 100,
        pullExpiresMs: 1_000,
        onEvent: (e) => events.push(e),
      });
      const def = names.workQueues.tasks('Reconnect.Queue');
      const jobs: string[] = [];
      const messages: string[] = [];
      await (
        await flaky.workQueue(def)
      ).consume((job) => {
        jobs.push(decodeText(job.data));
      });
      await flaky.subscribe(names.subjects.modelDeployed, (m) => {
        messages.push(decodeText(m.data));
      });
      const queue = await direct.workQueue(def);
      await queue.enqueue(encodeText('before'));
      await waitFor(jobs, (j) => j === 'before');

      proxy.cut();
      await waitFor(events, (e) => e.kind === BusEventKind.Disconnected);
      await waitFor(events, (e) => e.kind === BusEventKind.Reconnected);
      expect(flaky.status().state).toBe(BusState.Connected);

      await queue.enqueue(encodeText('after'));
      await waitFor(jobs, (j) => j === 'after');
      direct.publish(names.subjects.modelDeployed, encodeText('v2'));
      await waitFor(messages, (m) => m === 'v2');
      expect(jobs).toEqual(['before', 'after']);
    } finally {
      await flaky?.close({ gracePeriodMs: 0 });
      await direct.close();
      await proxy.close();
    }
  }, 20_000);

  it('fails with BUS_UNAVAILABLE when no server answers', async () => {
    const err = await connectNats({
      servers: 'nats://127.0.0.1:1',
      name: 'nowhere',
      connectTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: BusErrorCode.Unavailable });
  });

  it('reports the server it is connected to', async () => {
    const bus = await connectNats({ servers, name: 'status' });
    expect(bus.status()).toMatchObject({ transport: 'nats', state: 'connected', name: 'status' });
    expect(bus.status().server).toMatch(/4222/);
    await bus.close();
  });
});
