import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '@runplane/errors';

/** Where a request goes behind Envoy: the public listener, or the internal one that also serves `/ready` and `/metrics`. */
export const Listener = { Public: 'public', Internal: 'internal' } as const;
export type Listener = (typeof Listener)[keyof typeof Listener];

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** An HTTP method a scenario may use. */
export type ScenarioMethod = (typeof METHODS)[number];

/** One request of a scenario; an iteration sends each in order. */
export interface ScenarioRequest {
  readonly name: string;
  readonly method: ScenarioMethod;
  readonly path: string;
  readonly listener: Listener;
  /** The status that counts as success; anything else counts as an error. */
  readonly expectStatus: number;
}

/** A load-test scenario, as loadtest/scenarios.json defines it for k6 and the local driver alike. */
export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly requests: readonly ScenarioRequest[];
  readonly k6: { readonly vus: number; readonly duration: string; readonly sleepSeconds: number };
  /** The local driver's shape: connections kept busy for a time, optionally capped to a rate. */
  readonly local: {
    readonly connections: number;
    readonly durationSeconds: number;
    readonly ratePerSecond?: number;
  };
  /** A run fails when its 99th percentile latency or its share of errors goes beyond these. */
  readonly thresholds: { readonly p99Ms: number; readonly maxErrorRate: number };
}

/** loadtest/scenarios.json. */
export const SCENARIOS_PATH = join(import.meta.dirname, '..', 'scenarios.json');

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads a checked field; records a problem and returns undefined when it is missing or of the wrong kind. */
class Reader {
  readonly problems: string[] = [];

  text(object: Json, key: string, at: string): string {
    const value = object[key];
    if (typeof value === 'string' && value !== '') return value;
    this.problems.push(`${at}.${key} must be non-empty text`);
    return '';
  }

  number(object: Json, key: string, at: string, min: number, integer = true): number {
    const value = object[key];
    if (typeof value === 'number' && value >= min && (!integer || Number.isInteger(value))) return value;
    this.problems.push(`${at}.${key} must be ${integer ? 'a whole number' : 'a number'} of at least ${min}`);
    return min;
  }

  object(object: Json, key: string, at: string): Json {
    const value = object[key];
    if (isObject(value)) return value;
    this.problems.push(`${at}.${key} must be an object`);
    return {};
  }
}

function readRequest(r: Reader, value: unknown, at: string): ScenarioRequest {
  const o = isObject(value) ? value : {};
  if (!isObject(value)) r.problems.push(`${at} must be an object`);
  const method = r.text(o, 'method', at);
  if (!(METHODS as readonly string[]).includes(method))
    r.problems.push(`${at}.method must be one of ${METHODS.join(', ')}`);
  const path = r.text(o, 'path', at);
  if (!path.startsWith('/')) r.problems.push(`${at}.path must start with /`);
  const listener = r.text(o, 'listener', at);
  if (listener !== Listener.Public && listener !== Listener.Internal)
    r.problems.push(`${at}.listener must be "public" or "internal"`);
  const expectStatus = r.number(o, 'expectStatus', at, 100);
  return {
    name: r.text(o, 'name', at),
    method: method as ScenarioMethod,
    path,
    listener: listener === Listener.Internal ? Listener.Internal : Listener.Public,
    expectStatus,
  };
}

/**
 * Parses and checks the scenario list (the text of loadtest/scenarios.json). Throws a
 * {@link UserError} (`LOADTEST_SCENARIOS_INVALID`) listing every problem.
 */
export function parseScenarios(text: string): Scenario[] {
  const r = new Reader();
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new UserError({
      code: 'LOADTEST_SCENARIOS_INVALID',
      message: `loadtest/scenarios.json is not JSON: ${err instanceof Error ? err.message : String(err)}`,
      cause: err,
    });
  }
  const list =
    isObject(document) && Array.isArray(document.scenarios) ? (document.scenarios as unknown[]) : [];
  if (list.length === 0) r.problems.push('scenarios must be a non-empty list');
  const names = new Set<string>();
  const scenarios = list.map((value, i): Scenario => {
    const at = `scenarios[${i}]`;
    const o = isObject(value) ? value : {};
    const name = r.text(o, 'name', at);
    if (names.has(name)) r.problems.push(`${at}.name "${name}" is used twice`);
    names.add(name);
    const requests = Array.isArray(o.requests) ? (o.requests as unknown[]) : [];
    if (requests.length === 0) r.problems.push(`${at}.requests must be a non-empty list`);
    const k6 = r.object(o, 'k6', at);
    const local = r.object(o, 'local', at);
    const thresholds = r.object(o, 'thresholds', at);
    const duration = r.text(k6, 'duration', `${at}.k6`);
    if (!/^\d+(ms|s|m|h)$/.test(duration)) r.problems.push(`${at}.k6.duration must be like "30s" or "1m"`);
    const rate =
      local.ratePerSecond === undefined ? undefined : r.number(local, 'ratePerSecond', `${at}.local`, 1);
    const maxErrorRate = r.number(thresholds, 'maxErrorRate', `${at}.thresholds`, 0, false);
    if (maxErrorRate > 1) r.problems.push(`${at}.thresholds.maxErrorRate must be at most 1`);
    return {
      name,
      description: r.text(o, 'description', at),
      requests: requests.map((q, k) => readRequest(r, q, `${at}.requests[${k}]`)),
      k6: {
        vus: r.number(k6, 'vus', `${at}.k6`, 1),
        duration,
        sleepSeconds: r.number(k6, 'sleepSeconds', `${at}.k6`, 0, false),
      },
      local: {
        connections: r.number(local, 'connections', `${at}.local`, 1),
        durationSeconds: r.number(local, 'durationSeconds', `${at}.local`, 1),
        ...(rate === undefined ? {} : { ratePerSecond: rate }),
      },
      thresholds: { p99Ms: r.number(thresholds, 'p99Ms', `${at}.thresholds`, 1, false), maxErrorRate },
    };
  });
  if (r.problems.length > 0) {
    throw new UserError({
      code: 'LOADTEST_SCENARIOS_INVALID',
      message: `loadtest/scenarios.json:\n  ${r.problems.join('\n  ')}`,
      details: { problems: r.problems },
    });
  }
  return scenarios;
}

/** Reads loadtest/scenarios.json. */
export function loadScenarios(path: string = SCENARIOS_PATH): Scenario[] {
  return parseScenarios(readFileSync(path, 'utf8'));
}
