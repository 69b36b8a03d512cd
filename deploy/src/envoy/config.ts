import { readFileSync } from 'node:fs';
import type { EnvoyInput } from '../../envoy/input.js';
import { ENVOY_TEMPLATE_PATH } from '../paths.js';
import { EnvoySchema, type SchemaProblem } from './schema.js';
import { checkEnvoySemantics } from './semantics.js';
import { renderEnvoyTemplate, type RenderedTemplate } from './template.js';

/** The first lines of the rendered `envoy.yaml`. */
export const ENVOY_CONFIG_HEADER =
  '# Generated from deploy/envoy/envoy.yaml.tmpl with the values in deploy/envoy/input.ts\n' +
  '# by `npm run deploy:render`. Do not edit: change the template or the values, and render.\n';

/** Renders `deploy/envoy/envoy.yaml.tmpl` with `input`. */
export function renderEnvoyConfig(input: EnvoyInput): RenderedTemplate {
  return renderEnvoyTemplate(readFileSync(ENVOY_TEMPLATE_PATH, 'utf8'), input, ENVOY_CONFIG_HEADER);
}

/**
 * Everything wrong with an Envoy bootstrap configuration: the field-by-field check against
 * Envoy's API, then (when that passes) the checks of how its pieces fit together.
 */
export function validateEnvoyConfig(
  config: unknown,
  schema: EnvoySchema = EnvoySchema.load(),
): SchemaProblem[] {
  const problems = schema.checkBootstrap(config);
  return problems.length > 0 ? problems : checkEnvoySemantics(config);
}
