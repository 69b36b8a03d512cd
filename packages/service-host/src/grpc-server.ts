import {
  Server,
  ServerCredentials,
  type ChannelOptions,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { OperationalError } from '@runplane/errors';
import { health as healthProto } from '@runplane/proto';
import type { Logger } from '@runplane/telemetry';
import { HealthRegistry, HealthState } from './health.js';

/** Message size limits and keep-alive settings shared by every Runplane server. */
export const SERVER_OPTIONS: ChannelOptions = {
  'grpc.max_receive_message_length': 32 * 1024 * 1024,
  'grpc.max_send_message_length': 32 * 1024 * 1024,
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 1,
  'grpc.http2.min_ping_interval_without_data_ms': 10_000,
};

/** The fully qualified name of a gRPC service, e.g. `runplane.session.v1.SessionService`. */
export function serviceNameOf(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  if (!first) return '';
  return first.path.split('/')[1] ?? '';
}

/**
 * A gRPC server with the standard `grpc.health.v1.Health` service built in. Every
 * added service is NOT_SERVING until {@link GrpcServer.start} binds, SERVING while it
 * runs, and NOT_SERVING again from the moment {@link GrpcServer.stop} begins.
 */
export class GrpcServer {
  readonly health = new HealthRegistry();
  private readonly server = new Server(SERVER_OPTIONS);
  private boundPort: number | undefined;

  constructor(
    private readonly address: string,
    private readonly logger: Logger,
  ) {
    this.server.addService(healthProto.HealthService, this.health.implementation());
    this.health.set('', HealthState.NotServing);
  }

  /** Adds a service; its health is tracked under its fully qualified name. */
  add(definition: ServiceDefinition, implementation: UntypedServiceImplementation): void {
    this.server.addService(definition, implementation);
    this.health.set(serviceNameOf(definition), HealthState.NotServing);
  }

  /** Binds and starts serving; returns the bound `host:port` (useful with port 0). */
  async start(): Promise<string> {
    const port = await new Promise<number>((resolve, reject) => {
      this.server.bindAsync(this.address, ServerCredentials.createInsecure(), (err, p) => {
        if (err) {
          reject(
            new OperationalError({
              code: 'GRPC_BIND_FAILED',
              message: `Cannot listen for gRPC on ${this.address}: ${err.message}`,
              details: { address: this.address },
              cause: err,
            }),
          );
        } else resolve(p);
      });
    });
    this.boundPort = port;
    this.health.setAll(HealthState.Serving);
    const host = this.address.slice(0, this.address.lastIndexOf(':'));
    const bound = `${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
    this.logger.info({ address: bound }, 'gRPC server listening');
    return bound;
  }

  /** The bound port, once started. */
  get port(): number | undefined {
    return this.boundPort;
  }

  /**
   * Stops accepting calls and lets in-flight calls finish for up to `timeoutMs`, then
   * cuts off whatever is left.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.health.setAll(HealthState.NotServing);
    this.health.endWatches();
    let timer: NodeJS.Timeout | undefined;
    const graceful = new Promise<boolean>((resolve) => {
      this.server.tryShutdown(() => {
        resolve(true);
      });
    });
    const deadline = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        resolve(false);
      }, timeoutMs);
    });
    const clean = await Promise.race([graceful, deadline]);
    if (timer) clearTimeout(timer);
    if (!clean) {
      this.logger.warn({ timeoutMs }, 'gRPC calls still running at the shutdown deadline; cutting them off');
      this.server.forceShutdown();
    }
  }
}
