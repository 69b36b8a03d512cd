import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { health } from '@runplane/proto';
import { checkHealth, createClient } from '@runplane/service-host';

/** The repository root. */
export const ROOT = join(import.meta.dirname, '..', '..');

/** The six services: their folder under services/ and their config name. */
export const SERVICES = {
  gateway: 'gateway',
  session: 'session',
  'microflow-executor': 'microflow-executor',
  file: 'file',
  scheduler: 'scheduler',
  'leader-election': 'leader-election',
} as const;
export type ServiceName = keyof typeof SERVICES;

/** A service started as its own process. */
export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Every line the process wrote to stdout and stderr, so far. */
  readonly output: string[];
  /** Resolves with the exit code (or the signal's name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** Sends a signal and measures how long the process takes to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | string; elapsedMs: number }>;
  /** Waits until a line of output matches. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/**
 * V8 CPU profiling of every started process when `RUNPLANE_PROFILE_DIR` names a folder: each
 * writes its profiles (one per thread) into `<dir>/<name>` when it exits (for benchmarks; open in Chrome DevTools).
 */
function profilingArgs(name: string): string[] {
  const dir = process.env.RUNPLANE_PROFILE_DIR;
  if (dir === undefined || dir === '') return [];
  return ['--cpu-prof', `--cpu-prof-dir=${join(dir, name)}`];
}

/** Starts a Node entry point of this repository the way production does (tsx + telemetry preload). */
export function startNodeProcess(name: string, entry: string, env: Record<string, string>): ServiceProcess {
  const child = spawn(
    process.execPath,
    [...profilingArgs(name), '--import', 'tsx', '--import', '@runplane/telemetry/preload', join(ROOT, entry)],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', RUNPLANE_LOG_LEVEL: 'info', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const output: string[] = [];
  const listeners = new Set<(line: string) => void>();
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      output.push(line);
      for (const l of listeners) l(line);
    });
  }
  const exited = once(child, 'exit').then(([code, signal]) =>
    code === null ? String(signal) : Number(code),
  );
  return {
    name,
    child,
    output,
    exited,
    async stop(signal = 'SIGTERM') {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      return { code, elapsedMs: Date.now() - started };
    },
    waitForLine(pattern, timeoutMs = 30_000) {
      const seen = output.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(listener);
          reject(
            new Error(
              `${name}: no line matching ${pattern} within ${timeoutMs} ms. Output:\n${output.join('\n')}`,
            ),
          );
        }, timeoutMs);
        const listener = (line: string): void => {
          if (pattern.test(line)) {
            clearTimeout(timer);
            listeners.delete(listener);
            resolve(line);
          }
        };
        listeners.add(listener);
        void exited.then((code) => {
          if (!listeners.has(listener)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          reject(
            new Error(
              `${name} exited (${code}) before a line matched ${pattern}. Output:\n${output.join('\n')}`,
            ),
          );
        });
      });
    },
  };
}

/** Starts one service as its own process. */
export function startService(name: ServiceName, env: Record<string, string>): ServiceProcess {
  return startNodeProcess(name, join('services', SERVICES[name], 'src', 'main.ts'), env);
}

/** Waits until a gRPC server answers its health check with SERVING. */
export async function waitForServing(address: string, timeoutMs = 30_000): Promise<void> {
  const client = createClient(health.HealthClient, address);
  const deadline = Date.now() + timeoutMs;
  try {
    while (Date.now() < deadline) {
      if ((await checkHealth(client, '', 500)) === 'SERVING') return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${address} did not become SERVING within ${timeoutMs} ms`);
  } finally {
    client.close();
  }
}
