/**
 * Validated configuration, one per service, from `RUNPLANE_*` and `OTEL_*`
 * environment variables. This is the only package that reads `process.env`.
 *
 * A bad value throws {@link ConfigError}, whose message names every bad variable and
 * the form it expects.
 */
export { setting, type ConfigField } from './field.js';
export {
  ConfigError,
  defineConfig,
  type ConfigProblem,
  type ConfigShape,
  type ConfigSpec,
  type ConfigValues,
} from './load.js';
export { baseSettings, grpcAddresses, infraSettings, telemetrySettings } from './shared.js';
export {
  allConfigs,
  executorConfig,
  fileConfig,
  gatewayConfig,
  leaderElectionConfig,
  schedulerConfig,
  sessionConfig,
  standaloneConfig,
  type ExecutorConfig,
  type FileConfig,
  type GatewayConfig,
  type LeaderElectionConfig,
  type SchedulerConfig,
  type SessionConfig,
  type StandaloneConfig,
} from './services.js';
export { configTableMarkdown, describeConfigs, type ConfigRow } from './describe.js';

/** The process environment, read-only. Other packages receive it from here, never from `process.env`. */
export function processEnv(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
