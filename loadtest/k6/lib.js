// Shared by the k6 scripts: runs one scenario of ../scenarios.json (the same list the local
// autocannon driver runs), with its load shape and thresholds.
//
//   BASE_URL      the public listener (default http://localhost:8080, Envoy in compose)
//   INTERNAL_URL  where /ready and /metrics are served (default http://localhost:8081, Envoy's
//                 internal listener); against a gateway directly, give both the gateway's URL
//   VUS, DURATION override the scenario's load shape
import http from 'k6/http';
import { check, sleep } from 'k6';

const scenarios = JSON.parse(open('../scenarios.json')).scenarios;

const BASE_URL = (__ENV.BASE_URL || 'http://localhost:8080').replace(/\/+$/, '');
const INTERNAL_URL = (__ENV.INTERNAL_URL || 'http://localhost:8081').replace(/\/+$/, '');

/** The scenario of that name from scenarios.json. */
export function scenario(name) {
  const found = scenarios.find((s) => s.name === name);
  if (!found) throw new Error(`no scenario "${name}" in loadtest/scenarios.json`);
  return found;
}

/** k6 options for a scenario: constant VUs for a duration, and its thresholds. */
export function optionsFor(name) {
  const s = scenario(name);
  return {
    scenarios: {
      [s.name]: {
        executor: 'constant-vus',
        vus: Number(__ENV.VUS || s.k6.vus),
        duration: __ENV.DURATION || s.k6.duration,
      },
    },
    thresholds: {
      http_req_failed: [`rate<=${s.thresholds.maxErrorRate}`],
      http_req_duration: [`p(99)<${s.thresholds.p99Ms}`],
      checks: [`rate>=${1 - s.thresholds.maxErrorRate}`],
    },
  };
}

/** One iteration: every request of the scenario, in order, each checked for its status, then the think time. */
export function iterate(name) {
  for (const request of scenario(name).requests) {
    const base = request.listener === 'internal' ? INTERNAL_URL : BASE_URL;
    const response = http.request(request.method, `${base}${request.path}`, null, {
      tags: { name: request.name },
      responseCallback: http.expectedStatuses(request.expectStatus),
    });
    check(response, {
      [`${request.name} answers ${request.expectStatus}`]: (r) => r.status === request.expectStatus,
    });
  }
  const pause = scenario(name).k6.sleepSeconds;
  if (pause > 0) sleep(pause);
}
