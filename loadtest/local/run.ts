/**
 * `npm run loadtest:local -- <scenario>... [--url URL] [--duration SECONDS] [--connections N]`
 *
 * Runs scenarios of loadtest/scenarios.json (the ones the k6 scripts run) against a running
 * gateway with autocannon, one after the other, and prints one JSON line per scenario:
 * requests per second, p50 and p99 latency, errors, and the thresholds it broke. Exits 1
 * when a scenario breaks its thresholds. `all` runs every scenario; `--list` lists them.
 *
 * The gateway is `http://127.0.0.1:8080` unless `--url` says otherwise (`npm start` or
 * `npm run stack` serve there). Every request goes to that one URL: `/ready` and
 * `/metrics` are served by the gateway itself (behind Envoy they move to the internal
 * listener, which k6 reaches with INTERNAL_URL).
 */
import { runScenario, thresholdViolations } from './driver.js';
import { loadScenarios } from './scenarios.js';

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run loadtest:local -- <scenario>... | all | --list [--url URL] [--duration SECONDS] [--connections N]\n`,
  );
  process.exit(2);
}

function positiveInteger(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1)
    usage(`${flag} needs a whole number of at least 1`);
  return n;
}

const scenarios = loadScenarios();
const names: string[] = [];
let url = 'http://127.0.0.1:8080';
let durationSeconds: number | undefined;
let connections: number | undefined;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i] ?? '';
  if (arg === '--list') {
    for (const s of scenarios) process.stdout.write(`${s.name}\t${s.description}\n`);
    process.exit(0);
  } else if (arg === '--url') {
    url = args[++i] ?? usage('--url needs a URL');
    if (!/^https?:\/\//.test(url)) usage(`--url ${url} is not an http(s) URL`);
  } else if (arg === '--duration') durationSeconds = positiveInteger(arg, args[++i]);
  else if (arg === '--connections') connections = positiveInteger(arg, args[++i]);
  else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
  else names.push(arg);
}
if (names.length === 0) usage('name at least one scenario');
const chosen = names.includes('all') ? scenarios : names.map((n) => scenarios.find((s) => s.name === n) ?? n);
const unknown = chosen.filter((c) => typeof c === 'string');
if (unknown.length > 0)
  usage(`no scenario ${unknown.join(', ')}; there are ${scenarios.map((s) => s.name).join(', ')}`);

let failed = false;
for (const scenario of chosen) {
  if (typeof scenario === 'string') continue;
  const result = await runScenario(scenario, {
    url: url.replace(/\/+$/, ''),
    ...(durationSeconds === undefined ? {} : { durationSeconds }),
    ...(connections === undefined ? {} : { connections }),
  });
  const violations = thresholdViolations(result, scenario.thresholds);
  failed ||= violations.length > 0;
  process.stdout.write(`${JSON.stringify({ ...result, thresholds: scenario.thresholds, violations })}\n`);
}
process.exitCode = failed ? 1 : 0;
