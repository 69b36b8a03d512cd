/**
 * Generates the TypeScript code of every contract in `proto/` with ts-proto through
 * buf (both installed by `npm ci`, no download), or checks that the committed code
 * is what the protos generate.
 *
 *   node --import tsx scripts/proto.ts generate
 *   node --import tsx scripts/proto.ts check     # exits 1 when packages/proto/src/gen is stale
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const protoDir = join(root, 'proto');
const genDir = join(root, 'packages/proto/src/gen');
const buf = join(root, 'node_modules/.bin/buf');

function generateInto(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  const template = readFileSync(join(protoDir, 'buf.gen.yaml'), 'utf8').replace(/out: .*/, `out: ${outDir}`);
  execFileSync(buf, ['lint'], { cwd: protoDir, stdio: 'inherit' });
  execFileSync(buf, ['generate', '--template', template], { cwd: protoDir, stdio: 'inherit' });
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

const command = process.argv[2];
if (command === 'generate') {
  generateInto(genDir);
  console.log(`generated ${listFiles(genDir).length} files into ${relative(root, genDir)}`);
} else if (command === 'check') {
  const tmp = mkdtempSync(join(tmpdir(), 'runplane-proto-'));
  try {
    const fresh = join(tmp, 'gen');
    generateInto(fresh);
    const want = listFiles(fresh);
    const have = listFiles(genDir);
    const stale = new Set<string>();
    for (const f of new Set([...want, ...have])) {
      const a = existsSync(join(fresh, f)) ? readFileSync(join(fresh, f), 'utf8') : undefined;
      const b = existsSync(join(genDir, f)) ? readFileSync(join(genDir, f), 'utf8') : undefined;
      if (a !== b) stale.add(f);
    }
    if (stale.size > 0) {
      console.error(
        `packages/proto/src/gen is stale: ${[...stale].join(', ')} differ from what proto/ generates.\n` +
          'Run `npm run proto:generate` and commit the result.',
      );
      process.exitCode = 1;
    } else {
      console.log(`packages/proto/src/gen is up to date (${want.length} files)`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
} else {
  console.error('usage: proto.ts generate|check');
  process.exitCode = 2;
}
