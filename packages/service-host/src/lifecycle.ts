import { randomUUID } from 'node:crypto';
import { ConfigError } from '@runplane/config';
import {
  createLogDestination,
  createLogger,
  startTelemetry,
  type LogLevel,
  type Logger,
  type Telemetry,
  type TelemetrySettings,
} from '@runplane/telemetry';

/** The settings every service process has. */
export type ProcessSettings = TelemetrySettings & {
  readonly logLevel: LogLevel;
  readonly shutdownTimeoutMs: number;
};

/** What a service's start function receives. */
export interface ProcessContext<C> {
  readonly service: string;
  readonly config: C;
  readonly logger: Logger;
  /** Unique id of this process: `<service>-<uuid>`, never a host name. */
  readonly nodeId: string;
  /** A logger for another service hosted in this process (standalone mode), on the same output. */
  loggerFor(service: string): Logger;
}

/** A started service. */
export interface RunningService {
  /** Stops accepting work, lets in-flight work finish, closes connections. */
  stop(): Promise<void>;
}

/** A new unique process id for a service. */
export function newNodeId(service: string): string {
  return `${service}-${randomUUID()}`;
}

/** Writes a line to standard error and sets a failing exit code. */
function fail(message: string): void {
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
}

/**
 * Runs one service as its own process: loads and checks its configuration (a bad value
 * prints which variable and exits 1), starts logs and tracing, starts the service, and on
 * SIGTERM or SIGINT stops it and exits 0 — within the shutdown timeout plus a margin,
 * or with exit code 1 if stopping hangs.
 */
export async function runProcess<C extends ProcessSettings>(options: {
  readonly service: string;
  readonly config: { load(): C };
  readonly start: (ctx: ProcessContext<C>) => Promise<RunningService>;
}): Promise<void> {
  let config: C;
  try {
    config = options.config.load();
  } catch (err) {
    if (err instanceof ConfigError) {
      fail(err.message);
      return;
    }
    throw err;
  }
  const nodeId = newNodeId(options.service);
  const destination = createLogDestination();
  const logger = createLogger({ service: options.service, nodeId, level: config.logLevel, destination });
  const loggerFor = (service: string): Logger =>
    createLogger({ service, nodeId, level: config.logLevel, destination });
  let telemetry: Telemetry | undefined;
  const exit = (code: number): void => {
    logger.flush(() => {
      process.exit(code);
    });
  };
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection; exiting');
    exit(1);
  });
  process.on('uncaughtException', (err) => {
    logger.fatal({ err }, 'uncaught exception; exiting');
    exit(1);
  });

  let running: RunningService;
  try {
    telemetry = startTelemetry({ service: options.service, nodeId, settings: config });
    running = await options.start({ service: options.service, config, logger, nodeId, loggerFor });
  } catch (err) {
    logger.fatal({ err }, `${options.service} failed to start`);
    await telemetry?.shutdown().catch(() => undefined);
    exit(1);
    return;
  }
  logger.info({ tracing: telemetry.exportTarget }, `${options.service} started`);

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, `${options.service} stopping`);
    const guard = setTimeout(() => {
      logger.error({ shutdownTimeoutMs: config.shutdownTimeoutMs }, 'stopping took too long; exiting');
      exit(1);
    }, config.shutdownTimeoutMs + 800);
    guard.unref();
    void (async () => {
      try {
        await running.stop();
        await Promise.race([telemetry?.shutdown(), new Promise((r) => setTimeout(r, 300))]);
        logger.info(`${options.service} stopped`);
        exit(0);
      } catch (err) {
        logger.error({ err }, 'stopping failed');
        exit(1);
      }
    })();
  };
  process.on('SIGTERM', () => {
    stop('SIGTERM');
  });
  process.on('SIGINT', () => {
    stop('SIGINT');
  });
}
