/**
 * Loaded with `node --import tsx --import @runplane/telemetry/preload <main>` before any
 * application code, so that the modules OpenTelemetry instruments (http, @grpc/grpc-js,
 * pg) are patched when they load — with ES modules this needs the import-in-the-middle
 * hook registered first. The spans go to whatever tracer provider `startTelemetry`
 * registers later; until then they cost little. With OTEL_SDK_DISABLED on (read as the
 * config package reads booleans), nothing is patched at all: a process that traces nothing
 * pays nothing for the instrumentations on its hot paths.
 */
import { register } from 'node:module';

const disabled = ['true', '1', 'yes', 'on'].includes(
  (process.env['OTEL_SDK_DISABLED'] ?? '').trim().toLowerCase(),
);

if (!disabled) {
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const { enableInstrumentations } = await import('./instrumentations.js');
  enableInstrumentations();
}
