import {
  status as GrpcStatus,
  type ServerUnaryCall,
  type ServerWritableStream,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { health } from '@runplane/proto';

const ServingStatus = health.HealthCheckResponse_ServingStatus;
type ServingStatus = health.HealthCheckResponse_ServingStatus;

/** The serving states a service reports. */
export const HealthState = {
  Serving: 'SERVING',
  NotServing: 'NOT_SERVING',
} as const;
export type HealthState = (typeof HealthState)[keyof typeof HealthState];

/**
 * The standard `grpc.health.v1.Health` service (Check and Watch) over a table of
 * service names and their states. The empty name stands for the whole server.
 */
export class HealthRegistry {
  private readonly states = new Map<string, ServingStatus>();
  private readonly watchers = new Map<
    string,
    Set<ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>>
  >();

  /** Sets the state of a service (and tells its watchers when it changed). */
  set(service: string, state: HealthState): void {
    const next = state === HealthState.Serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
    if (this.states.get(service) === next) return;
    this.states.set(service, next);
    for (const call of this.watchers.get(service) ?? []) call.write({ status: next });
  }

  /** Sets every known service, including the server as a whole, to one state. */
  setAll(state: HealthState): void {
    for (const service of [...this.states.keys()]) this.set(service, state);
  }

  /** The state of a service, or undefined when it is unknown. */
  get(service: string): HealthState | undefined {
    const s = this.states.get(service);
    if (s === undefined) return undefined;
    return s === ServingStatus.SERVING ? HealthState.Serving : HealthState.NotServing;
  }

  /** Ends every Watch stream, so that a shutting-down server has no call left open. */
  endWatches(): void {
    for (const calls of this.watchers.values()) {
      for (const call of calls) call.end();
      calls.clear();
    }
  }

  /** The grpc-js implementation of `grpc.health.v1.Health`. */
  implementation(): health.HealthServer {
    return {
      check: (
        call: ServerUnaryCall<health.HealthCheckRequest, health.HealthCheckResponse>,
        callback: sendUnaryData<health.HealthCheckResponse>,
      ) => {
        const s = this.states.get(call.request.service);
        if (s === undefined) {
          callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service "${call.request.service}"` });
          return;
        }
        callback(null, { status: s });
      },
      watch: (call: ServerWritableStream<health.HealthCheckRequest, health.HealthCheckResponse>) => {
        const service = call.request.service;
        let set = this.watchers.get(service);
        if (!set) {
          set = new Set();
          this.watchers.set(service, set);
        }
        set.add(call);
        call.write({ status: this.states.get(service) ?? ServingStatus.SERVICE_UNKNOWN });
        const forget = (): void => {
          set.delete(call);
        };
        call.on('cancelled', forget);
        call.on('close', forget);
      },
    };
  }
}
