import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario, thresholdViolations, type ScenarioResult } from '../../loadtest/local/driver.js';
import { Listener, loadScenarios, parseScenarios, type Scenario } from '../../loadtest/local/scenarios.js';
import { envoyInput } from '../envoy/input.js';
import { REPO_ROOT } from '../src/index.js';

const scenarios = loadScenarios();

function named(name: string): Scenario {
  const found = scenarios.find((s) => s.name === name);
  if (!found) throw new Error(`test setup: no scenario ${name}`);
  return found;
}

describe('the load-test scenarios (loadtest/scenarios.json)', () => {
  it('parse, and include a smoke scenario that tolerates no error', () => {
    expect(scenarios.map((s) => s.name)).toContain('smoke');
    expect(named('smoke').thresholds.maxErrorRate).toBe(0);
  });

  it("send each request to the Envoy listener that serves its path, as Envoy's configuration has it", () => {
    for (const scenario of scenarios)
      for (const request of scenario.requests) {
        const internalOnly = envoyInput.internalPaths.includes(request.path);
        expect(request.listener, `${scenario.name}/${request.name}`).toBe(
          internalOnly ? Listener.Internal : Listener.Public,
        );
      }
  });

  it('each have a k6 script, and every k6 script runs a scenario', () => {
    const dir = join(REPO_ROOT, 'loadtest', 'k6');
    const scripts = readdirSync(dir).filter((f) => f.endsWith('.js') && f !== 'lib.js');
    expect(scripts.map((f) => f.slice(0, -3)).sort()).toEqual(scenarios.map((s) => s.name).sort());
    for (const script of scripts) {
      const name = script.slice(0, -3);
      const source = readFileSync(join(dir, script), 'utf8');
      expect(source).toContain(`optionsFor('${name}')`);
      expect(source).toContain(`iterate('${name}')`);
    }
    expect(readFileSync(join(dir, 'lib.js'), 'utf8')).toContain("open('../scenarios.json')");
    expect(existsSync(join(REPO_ROOT, 'loadtest', 'README.md'))).toBe(true);
  });

  it('are rejected with every problem named when malformed', () => {
    const bad = JSON.stringify({
      scenarios: [
        {
          name: 'x',
          description: 'd',
          requests: [{ name: 'r', method: 'FETCH', path: 'health', listener: 'outside', expectStatus: 200 }],
          k6: { vus: 0, duration: 'a minute', sleepSeconds: 0 },
          local: { connections: 1, durationSeconds: 1 },
          thresholds: { p99Ms: 10, maxErrorRate: 2 },
        },
      ],
    });
    expect(() => parseScenarios(bad)).toThrow(
      expect.objectContaining({
        code: 'LOADTEST_SCENARIOS_INVALID',
        details: {
          problems: [
            'scenarios[0].k6.duration must be like "30s" or "1m"',
            'scenarios[0].thresholds.maxErrorRate must be at most 1',
            'scenarios[0].requests[0].method must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
            'scenarios[0].requests[0].path must start with /',
            'scenarios[0].requests[0].listener must be "public" or "internal"',
            'scenarios[0].k6.vus must be a whole number of at least 1',
          ],
        },
      }),
    );
  });
});

describe('the local load-test driver', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    // Stands where a gateway would: ready is failing, the rest answers.
    server = createServer((request, response) => {
      response.statusCode = request.url === '/ready' ? 503 : 200;
      response.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });

  it("sends the scenario's requests in turn and counts each unexpected status as an error", async () => {
    const smoke = named('smoke');
    const unthrottled: Scenario = { ...smoke, local: { connections: 1, durationSeconds: 1 } };
    const result = await runScenario(unthrottled, { url, amount: 30 });
    expect(result).toMatchObject({
      scenario: 'smoke',
      url,
      connections: 1,
      requests: 30,
      errors: 10,
      byRequest: {
        health: { responses: 10, unexpected: 0 },
        ready: { responses: 10, unexpected: 10 },
        metrics: { responses: 10, unexpected: 0 },
      },
    });
    expect(result.errorRate).toBeCloseTo(1 / 3);
    expect(thresholdViolations(result, smoke.thresholds)).toEqual(['error rate 0.3333 is above 0']);
  });

  it('passes a run within its thresholds', async () => {
    const health = named('health');
    const result = await runScenario(
      { ...health, local: { connections: 2, durationSeconds: 1 } },
      { url, amount: 20 },
    );
    expect(result.requests).toBe(20);
    expect(result.errors).toBe(0);
    const generous = { p99Ms: Number.MAX_SAFE_INTEGER, maxErrorRate: 0 };
    expect(thresholdViolations(result, generous)).toEqual([]);
  });

  it('fails a run that got no response at all', async () => {
    const closed = createNetServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const address = closed.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    await new Promise<void>((resolve) =>
      closed.close(() => {
        resolve();
      }),
    );
    const result: ScenarioResult = await runScenario(
      { ...named('health'), local: { connections: 1, durationSeconds: 1 } },
      { url: `http://127.0.0.1:${port}` },
    );
    expect(result.requests).toBe(0);
    expect(result.errors).toBeGreaterThan(0);
    expect(thresholdViolations(result, named('health').thresholds)).toContain('no response at all');
  });
});
