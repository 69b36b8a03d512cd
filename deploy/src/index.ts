/**
 * The distributed deployment's checks and tools: Envoy's configuration rendered from a
 * template and checked against Envoy's API without an Envoy binary, and docker-compose.yml
 * checked against the services' configuration schemas without a Docker engine.
 */
export { COMPOSE_PATH, ENVOY_CONFIG_PATH, ENVOY_TEMPLATE_PATH, REPO_ROOT } from './paths.js';
export { EnvoySchema, type SchemaProblem } from './envoy/schema.js';
export { checkEnvoySemantics } from './envoy/semantics.js';
export { durationText, renderEnvoyTemplate, type RenderedTemplate } from './envoy/template.js';
export { ENVOY_CONFIG_HEADER, renderEnvoyConfig, validateEnvoyConfig } from './envoy/config.js';
export {
  COMPOSE_REQUIRED_SERVICES,
  checkCompose,
  dependenciesOf,
  environmentOf,
  interpolate,
  parseCompose,
  publishedPorts,
  runplaneServiceOf,
  type ComposeExpectations,
  type ComposeFile,
  type ComposeService,
  type PublishedPort,
} from './compose.js';
export { DockerIgnore } from './dockerignore.js';
