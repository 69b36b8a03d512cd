/**
 * Renders Envoy's configuration from envoy.yaml.tmpl and the values in input.ts, checks it
 * against Envoy's API and Runplane's rules, and prints or writes it.
 *
 *   node --import tsx deploy/envoy/render.ts                             # prints it
 *   node --import tsx deploy/envoy/render.ts --out deploy/envoy/envoy.yaml
 *   node --import tsx deploy/envoy/render.ts --check                     # exits 1 when envoy.yaml is stale
 *
 * A configuration with problems is never written: they are listed and the exit code is 1.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ENVOY_CONFIG_PATH, renderEnvoyConfig, validateEnvoyConfig } from '../src/index.js';
import { envoyInput } from './input.js';

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const out = outIndex >= 0 ? args[outIndex + 1] : undefined;
if (outIndex >= 0 && out === undefined) fail('--out needs a file name');
const unknown = args.filter((a, i) => a !== '--out' && a !== '--check' && i !== outIndex + 1);
if (unknown.length > 0)
  fail(`unknown arguments: ${unknown.join(' ')}\nusage: render.ts [--out FILE | --check]`);

const rendered = renderEnvoyConfig(envoyInput);
const problems = validateEnvoyConfig(rendered.config);
if (problems.length > 0) {
  fail(
    `The rendered Envoy configuration is not valid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
  );
}

if (args.includes('--check')) {
  const current = existsSync(ENVOY_CONFIG_PATH) ? readFileSync(ENVOY_CONFIG_PATH, 'utf8') : '';
  if (current !== rendered.text)
    fail('deploy/envoy/envoy.yaml is stale: run `npm run deploy:render` and commit it.');
  process.stdout.write('deploy/envoy/envoy.yaml is up to date\n');
} else if (out !== undefined) {
  writeFileSync(resolve(out), rendered.text);
  process.stdout.write(`wrote ${out}\n`);
} else {
  process.stdout.write(rendered.text);
}
