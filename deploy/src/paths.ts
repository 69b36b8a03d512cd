import { join } from 'node:path';

/** The repository root. */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');
/** `docker-compose.yml`. */
export const COMPOSE_PATH = join(REPO_ROOT, 'docker-compose.yml');
/** The Envoy template, the source of the rendered configuration. */
export const ENVOY_TEMPLATE_PATH = join(REPO_ROOT, 'deploy', 'envoy', 'envoy.yaml.tmpl');
/** The rendered Envoy configuration that compose mounts. */
export const ENVOY_CONFIG_PATH = join(REPO_ROOT, 'deploy', 'envoy', 'envoy.yaml');
