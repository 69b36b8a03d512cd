/**
 * `npm run stack`: starts the six services as six processes against PostgreSQL and NATS
 * at the configured URLs, each with the environment of this one. Ctrl-C (or SIGTERM)
 * stops all of them cleanly; the exit code is 0 when every service stopped cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..', '..');
const services = [
  'leader-election',
  'session',
  'microflow-executor',
  'file',
  'scheduler',
  'gateway',
] as const;

const children = new Map<string, ChildProcess>();
const exits: Promise<number>[] = [];
let stopping = false;

for (const service of services) {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      '@runplane/telemetry/preload',
      join(root, 'services', service, 'src', 'main.ts'),
    ],
    { cwd: root, env: process.env, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  children.set(service, child);
  process.stderr.write(`stack: started ${service} (pid ${child.pid ?? '?'})\n`);
  exits.push(
    new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        children.delete(service);
        if (!stopping)
          process.stderr.write(`stack: ${service} exited (${code ?? signal}) while the stack was running\n`);
        resolve(code ?? 1);
      });
    }),
  );
}
process.stderr.write('stack: all six started; Ctrl-C stops them\n');

function stop(): void {
  if (stopping) return;
  stopping = true;
  process.stderr.write('stack: stopping every service\n');
  for (const child of children.values()) child.kill('SIGTERM');
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const codes = await Promise.all(exits);
process.exitCode = codes.every((c) => c === 0) ? 0 : 1;
