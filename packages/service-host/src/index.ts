/**
 * What every Runplane service process shares: {@link GrpcServer} with the standard
 * `grpc.health.v1.Health` service, handler adapters that map errors with their codes,
 * promisified clients, and {@link runProcess}, the lifecycle of a service process.
 */
export { HealthRegistry, HealthState } from './health.js';
export { GrpcServer, SERVER_OPTIONS, serviceNameOf } from './grpc-server.js';
export {
  CLIENT_OPTIONS,
  callUnary,
  checkHealth,
  createClient,
  type CallSettings,
  type HealthAnswer,
  type RequestOf,
  type ResponseOf,
  type UnaryMethod,
  type UnaryMethodName,
} from './grpc-client.js';
export { clientStreamHandler, serverStreamHandler, unaryHandler, type CallContext } from './handlers.js';
export {
  newNodeId,
  runProcess,
  type ProcessContext,
  type ProcessSettings,
  type RunningService,
} from './lifecycle.js';
