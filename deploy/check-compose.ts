/**
 * `npm run deploy:check-compose`: checks docker-compose.yml with Runplane's own checks (the
 * ones deploy/test/compose.test.ts runs), then with Compose itself — `docker compose config
 * -q` (the v2 plugin) or Debian's `docker-compose config -q` (1.29, which also rejects a
 * top-level `name:`). Neither needs a Docker engine. Exits 1 when either finds a problem, or
 * when no Compose is installed (`apt-get install --no-install-recommends docker-compose`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { allConfigs } from '@runplane/config';
import {
  COMPOSE_PATH,
  COMPOSE_REQUIRED_SERVICES,
  REPO_ROOT,
  checkCompose,
  parseCompose,
} from './src/index.js';

const problems = checkCompose(parseCompose(readFileSync(COMPOSE_PATH, 'utf8')), {
  configs: allConfigs,
  requiredServices: COMPOSE_REQUIRED_SERVICES,
  baseDir: REPO_ROOT,
});
if (problems.length > 0) {
  process.stderr.write(
    `docker-compose.yml:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}\n`,
  );
  process.exit(1);
}
process.stdout.write('docker-compose.yml passes the Runplane checks\n');

/** Runs a command quietly; its exit code, or undefined when it could not be started. */
function run(command: string, args: readonly string[], quiet: boolean): number | undefined {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, stdio: quiet ? 'ignore' : 'inherit' });
  return result.error ? undefined : (result.status ?? 1);
}

const candidates: readonly [string, readonly string[]][] = [
  ['docker', ['compose']],
  ['docker-compose', []],
];
for (const [command, prefix] of candidates) {
  if (run(command, [...prefix, 'version'], true) !== 0) continue;
  const name = [command, ...prefix].join(' ');
  const code = run(command, [...prefix, '-f', COMPOSE_PATH, 'config', '-q'], false);
  if (code !== 0) {
    process.stderr.write(`${name} config rejects docker-compose.yml\n`);
    process.exit(1);
  }
  process.stdout.write(`${name} config accepts docker-compose.yml\n`);
  process.exit(0);
}
process.stderr.write(
  'Neither `docker compose` nor `docker-compose` is installed, so Compose itself could not check the file.\n' +
    'Install one (e.g. `apt-get install --no-install-recommends docker-compose`) and run this again.\n',
);
process.exit(1);
