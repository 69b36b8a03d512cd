import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = fileURLToPath(new URL('../bin/runplane.js', import.meta.url));

function run(
  args: readonly string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

describe('the runplane executable', () => {
  it('checks the examples and exits 0', async () => {
    const result = await run(['check', 'examples/orders']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^examples\/orders: OK: 1 module, 5 entities/);
  });

  it('evaluates expressions from standard input, one JSON line each', async () => {
    const result = await run(['eval'], '3 * 7\nfloor(2.7)\n');
    expect(result.stdout).toBe('{"value":21,"type":"Integer"}\n{"value":2,"type":"Integer"}\n');
    expect(result.code).toBe(0);
  });
});
