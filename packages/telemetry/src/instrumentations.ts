import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';

/** Paths polled by orchestrators and scrapers: not worth a trace each. */
const UNTRACED_PATHS = new Set(['/health', '/ready', '/metrics', '/favicon.ico']);

/** gRPC methods called every few seconds by probes. */
const UNTRACED_GRPC = /^\/?grpc\.health\.v1\.Health\//;

let enabled = false;

/**
 * Enables the automatic instrumentations (HTTP server and client, gRPC, pg). Must run
 * before those modules are loaded: see `@runplane/telemetry/preload`. Idempotent.
 */
export function enableInstrumentations(): void {
  if (enabled) return;
  enabled = true;
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      new GrpcInstrumentation({
        ignoreGrpcMethods: [(name: string) => UNTRACED_GRPC.test(name)],
      }),
      new PgInstrumentation({ enhancedDatabaseReporting: false, requireParentSpan: true }),
    ],
  });
}
