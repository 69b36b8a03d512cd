/**
 * The message bus of Runplane: the one module of NATS subject, stream, consumer and
 * bucket names ({@link busNames}), and one interface ({@link Bus}) for pub/sub,
 * request/reply, durable work queues and KV, implemented over NATS
 * ({@link connectNats}) and in process ({@link createMemoryBroker}) with the same
 * behaviour — both pass the conformance suite in `@runplane/bus/conformance`.
 */
export {
  BusEventKind,
  BusState,
  KvOperation,
  type Bus,
  type BusEvent,
  type BusEventHandler,
  type BusMessage,
  type BusStatus,
  type CloseOptions,
  type ConsumeOptions,
  type EnqueueOptions,
  type EnqueueResult,
  type Job,
  type JobHandler,
  type KeyValueStore,
  type KvEntry,
  type KvOptions,
  type KvWatch,
  type KvWatchEvent,
  type KvWatchHandler,
  type KvWatchOptions,
  type MessageHandler,
  type MessageHeaders,
  type PublishOptions,
  type Reply,
  type RequestHandler,
  type RequestOptions,
  type ServeOptions,
  type SubscribeOptions,
  type Subscription,
  type WorkConsumer,
  type WorkQueue,
  type WorkQueueDefinition,
} from './bus.js';
export {
  DEFAULT_NAMESPACE,
  DEFAULT_RESPONDER_QUEUE,
  TASK_DUPLICATE_WINDOW_MS,
  busNames,
  type BusNames,
} from './names.js';
export { BusErrorCode, isBusError } from './errors.js';
export { EMPTY, decodeJson, decodeText, encodeJson, encodeText } from './codec.js';
export { pause } from './runtime.js';
export {
  createMemoryBroker,
  type MemoryBroker,
  type MemoryBrokerOptions,
  type MemoryConnectOptions,
} from './memory.js';
export { connectNats, type NatsBusOptions } from './nats.js';
export {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_CLOSE_GRACE_MS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './runtime.js';
