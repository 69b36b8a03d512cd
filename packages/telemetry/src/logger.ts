import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import { activeTraceIds } from './tracing.js';

/** A structured JSON logger. Every line carries `service`, `node_id` and, inside a span, `trace_id` and `span_id`. */
export type Logger = PinoLogger;

/** Log levels, lowest first. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** What {@link createLogger} needs. */
export interface LoggerOptions {
  readonly service: string;
  readonly nodeId: string;
  readonly level: LogLevel;
  /** Where lines go; standard output by default. */
  readonly destination?: DestinationStream;
}

/**
 * Standard output as a log destination. Loggers of several services in one process
 * share one, so their lines never interleave.
 */
export function createLogDestination(): DestinationStream {
  return pino.destination({ fd: 1, sync: false });
}

/**
 * A JSON logger (pino). Lines look like
 * `{"level":"info","time":"…","service":"session","node_id":"…","trace_id":"…","span_id":"…","msg":"…"}`.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, node_id: options.nodeId },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: 'msg',
      mixin() {
        const ids = activeTraceIds();
        return ids ? { trace_id: ids.traceId, span_id: ids.spanId } : {};
      },
      redact: {
        paths: [
          'password',
          '*.password',
          'sessionId',
          '*.sessionId',
          'csrfToken',
          '*.csrfToken',
          'authorization',
          '*.authorization',
          'cookie',
          '*.cookie',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? createLogDestination(),
  );
}
