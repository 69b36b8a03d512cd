import autocannon from 'autocannon';
import { OperationalError } from '@runplane/errors';
import type { Scenario } from './scenarios.js';

/** How one local run is shaped; unset fields take the scenario's `local` values. */
export interface RunOptions {
  /** Base URL of a running gateway, e.g. `http://127.0.0.1:8080`. Every request goes there. */
  readonly url: string;
  readonly connections?: number;
  readonly durationSeconds?: number;
  /** Send this many requests in all instead of running for a time. */
  readonly amount?: number;
}

/** Responses to one request of a scenario. */
export interface RequestTally {
  readonly responses: number;
  /** Responses with another status than the scenario expects. */
  readonly unexpected: number;
}

/** What one scenario run measured: the JSON line the driver prints. */
export interface ScenarioResult {
  readonly scenario: string;
  readonly url: string;
  readonly connections: number;
  readonly durationSeconds: number;
  /** Responses received. */
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Unexpected statuses, plus requests that got no response (refused, reset, timed out). */
  readonly errors: number;
  readonly errorRate: number;
  readonly byRequest: Readonly<Record<string, RequestTally>>;
}

/**
 * Runs a scenario against a running gateway with autocannon: each connection sends the
 * scenario's requests in order, again and again, for the scenario's time (or `amount`
 * requests in all), optionally capped at its rate. Every response is checked against the
 * status its request expects.
 */
export async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const tallies = new Map(scenario.requests.map((r) => [r.name, { responses: 0, unexpected: 0 }]));
  const connections = options.connections ?? scenario.local.connections;
  const durationSeconds = options.durationSeconds ?? scenario.local.durationSeconds;
  let result: autocannon.Result;
  try {
    result = await autocannon({
      url: options.url,
      connections,
      ...(options.amount === undefined ? { duration: durationSeconds } : { amount: options.amount }),
      ...(scenario.local.ratePerSecond === undefined ? {} : { overallRate: scenario.local.ratePerSecond }),
      timeout: 10,
      requests: scenario.requests.map((request) => ({
        method: request.method,
        path: request.path,
        onResponse: (status: number) => {
          const tally = tallies.get(request.name);
          if (!tally) return;
          tally.responses += 1;
          if (status !== request.expectStatus) tally.unexpected += 1;
        },
      })),
    });
  } catch (err) {
    throw new OperationalError({
      code: 'LOADTEST_FAILED',
      message: `autocannon could not run "${scenario.name}" against ${options.url}: ${err instanceof Error ? err.message : String(err)}`,
      details: { scenario: scenario.name, url: options.url },
      cause: err,
    });
  }
  const byRequest = Object.fromEntries(tallies);
  const responses = [...tallies.values()].reduce((sum, t) => sum + t.responses, 0);
  const unexpected = [...tallies.values()].reduce((sum, t) => sum + t.unexpected, 0);
  // autocannon's `errors` counts requests that got no response (timeouts included).
  const errors = unexpected + result.errors;
  const attempts = responses + result.errors;
  return {
    scenario: scenario.name,
    url: options.url,
    connections,
    durationSeconds: result.duration,
    requests: responses,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors,
    errorRate: attempts === 0 ? 0 : errors / attempts,
    byRequest,
  };
}

/** How a result breaks the scenario's thresholds; empty when it passes. A run with no response at all fails. */
export function thresholdViolations(result: ScenarioResult, thresholds: Scenario['thresholds']): string[] {
  const out: string[] = [];
  if (result.requests === 0) out.push('no response at all');
  if (result.p99Ms > thresholds.p99Ms) out.push(`p99 ${result.p99Ms} ms is above ${thresholds.p99Ms} ms`);
  if (result.errorRate > thresholds.maxErrorRate)
    out.push(`error rate ${result.errorRate.toFixed(4)} is above ${thresholds.maxErrorRate}`);
  return out;
}
