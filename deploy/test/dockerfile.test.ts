import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMPOSE_PATH, DockerIgnore, REPO_ROOT, parseCompose, runplaneServiceOf } from '../src/index.js';

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The instructions of a Dockerfile: continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (current === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    current += (current === '' ? '' : ' ') + line.replace(/\\$/, '').trim();
    if (line.endsWith('\\')) continue;
    const space = current.indexOf(' ');
    out.push({ keyword: current.slice(0, space).toUpperCase(), args: current.slice(space + 1).trim() });
    current = '';
  }
  return out;
}

const dockerfile = instructions(readFileSync(join(REPO_ROOT, 'deploy', 'Dockerfile'), 'utf8'));
const ignore = new DockerIgnore(readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8'));
const rootPackage = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  workspaces: string[];
  engines: { node: string };
  devDependencies: Record<string, string>;
};

/** The instructions of the last stage, the image that runs. */
function finalStage(): Instruction[] {
  const lastFrom = dockerfile.map((i) => i.keyword).lastIndexOf('FROM');
  return dockerfile.slice(lastFrom);
}

function only<T>(items: readonly T[]): T {
  expect(items).toHaveLength(1);
  return items[0] as T;
}

/** Every workspace folder that the root package.json names (globs of the form `dir/*`). */
function workspaceDirs(): string[] {
  return rootPackage.workspaces.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(REPO_ROOT, parent), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(REPO_ROOT, parent, d.name, 'package.json')))
      .map((d) => `${parent}/${d.name}`);
  });
}

/** Workspace package name → folder, and each package's exports. */
function workspacePackages(): Map<string, { dir: string; exports: Record<string, string> }> {
  const out = new Map<string, { dir: string; exports: Record<string, string> }>();
  for (const dir of workspaceDirs()) {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, dir, 'package.json'), 'utf8')) as {
      name: string;
      exports?: Record<string, string>;
    };
    out.set(pkg.name, { dir, exports: pkg.exports ?? {} });
  }
  return out;
}

/**
 * Every source file a process loads, starting from `entries`: relative imports and
 * `@runplane/*` packages (through their exports), followed transitively.
 */
function loadedSources(entries: readonly string[]): Set<string> {
  const packages = workspacePackages();
  const seen = new Set<string>();
  const queue = [...entries];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const match of source.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*'([^']+)'/g)) {
      const specifier = match[1] ?? '';
      if (specifier.startsWith('.')) {
        const target = resolve(REPO_ROOT, dirname(file), specifier);
        const ts = target.replace(/\.js$/, '.ts');
        queue.push(relative(REPO_ROOT, existsSync(ts) ? ts : target));
        continue;
      }
      const pkg = /^(@runplane\/[^/]+)(\/.*)?$/.exec(specifier);
      if (!pkg) continue;
      const workspace = packages.get(pkg[1] ?? '');
      const exported = workspace?.exports[`.${pkg[2] ?? ''}`];
      expect(exported, `${file} imports ${specifier}, which no workspace exports`).toBeDefined();
      if (workspace && exported) queue.push(join(workspace.dir, exported));
    }
  }
  return seen;
}

describe('the image (deploy/Dockerfile)', () => {
  it('builds on a pinned Node 20 Debian bookworm image within the engines range', () => {
    const arg = only(dockerfile.filter((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE=')));
    const image = arg.args.slice('NODE_IMAGE='.length);
    const version = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/.exec(image);
    expect(version, image).not.toBeNull();
    expect(rootPackage.engines.node).toBe('>=20.19 <21');
    expect(Number(version?.[1])).toBe(20);
    expect(Number(version?.[2])).toBeGreaterThanOrEqual(19);
    for (const from of dockerfile.filter((i) => i.keyword === 'FROM'))
      expect(from.args).toMatch(/^\$\{NODE_IMAGE\} AS /);
  });

  it('installs production dependencies only, and tsx, which runs the services, is one of them', () => {
    expect(dockerfile.some((i) => i.keyword === 'RUN' && /\bnpm ci --omit=dev\b/.test(i.args))).toBe(true);
    const deploy = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy', 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    expect(deploy.dependencies.tsx).toBe(rootPackage.devDependencies.tsx);
  });

  it('runs as the unprivileged node user, under tini so that SIGTERM reaches Node', () => {
    const stage = finalStage();
    expect(stage.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('node');
    expect(stage.some((i) => i.keyword === 'RUN' && /apt-get install .*\btini\b/.test(i.args))).toBe(true);
    const entrypoint = JSON.parse(only(stage.filter((i) => i.keyword === 'ENTRYPOINT')).args) as string[];
    expect(entrypoint).toEqual([
      '/usr/bin/tini',
      '--',
      'node',
      '--import',
      'tsx',
      '--import',
      '@runplane/telemetry/preload',
    ]);
  });

  it('starts the gateway unless told otherwise, and every service compose names has its main module', () => {
    const cmd = JSON.parse(only(finalStage().filter((i) => i.keyword === 'CMD')).args) as string[];
    expect(cmd).toEqual(['services/gateway/src/main.ts']);
    const compose = parseCompose(readFileSync(COMPOSE_PATH, 'utf8'));
    const mains = Object.values(compose.services)
      .filter((s) => runplaneServiceOf(s) !== undefined)
      .map((s) => (s.command as string[])[0] ?? '');
    expect(mains).toHaveLength(6);
    for (const main of [...cmd, ...mains]) expect(existsSync(join(REPO_ROOT, main)), main).toBe(true);
  });

  it('checks health with the plain-Node probe on the gRPC port the service binds', () => {
    const health = only(finalStage().filter((i) => i.keyword === 'HEALTHCHECK'));
    expect(health.args).toMatch(
      /CMD node deploy\/healthcheck\.mjs grpc "\$\{RUNPLANE_GRPC_LISTEN_ADDRESS\}"$/,
    );
  });
});

describe('the build context (.dockerignore)', () => {
  it('keeps every workspace manifest, the lockfile and npm settings, which npm ci needs', () => {
    const dirs = workspaceDirs();
    expect(dirs).toEqual(
      expect.arrayContaining(['deploy', 'tests', 'bench', 'services/gateway', 'packages/config']),
    );
    for (const dir of dirs) expect(ignore.ignores(`${dir}/package.json`), dir).toBe(false);
    for (const file of ['package.json', 'package-lock.json', '.npmrc'])
      expect(ignore.ignores(file), file).toBe(false);
  });

  it('keeps every source file the six services and the telemetry preload load, and the example model', () => {
    const mains = readdirSync(join(REPO_ROOT, 'services')).map((s) => `services/${s}/src/main.ts`);
    const sources = loadedSources([...mains, 'packages/telemetry/src/preload.ts']);
    expect(sources.size).toBeGreaterThan(30);
    const dropped = [...sources].filter((f) => ignore.ignores(f));
    expect(dropped).toEqual([]);
    for (const file of ['deploy/healthcheck.mjs', 'examples/orders/app.yaml'])
      expect(ignore.ignores(file), file).toBe(false);
  });

  it('drops installed dependencies, version control, tests, load tests and local state', () => {
    for (const file of [
      'node_modules/zod/package.json',
      'packages/config/node_modules/zod/package.json',
      '.git/HEAD',
      '.runplane/data/PG_VERSION',
      'packages/config/src/config.test.ts',
      'tests/e2e/foundation.test.ts',
      'bench/expressions/main.ts',
      'loadtest/k6/smoke.js',
      'deploy/test/envoy.test.ts',
      'deploy/envoy/envoy.yaml',
      'docker-compose.yml',
    ])
      expect(ignore.ignores(file), file).toBe(true);
  });
});

describe("Docker's .dockerignore rules", () => {
  it('match a path or any folder above it, with ** across folders, and let later ! rules re-include', () => {
    const rules = new DockerIgnore('**/node_modules\n*.md\n!README.md\ndocs/**\n!docs/keep/*.txt\n/build/\n');
    expect(rules.ignores('node_modules/a.js')).toBe(true);
    expect(rules.ignores('a/b/node_modules/c/d.js')).toBe(true);
    expect(rules.ignores('CHANGES.md')).toBe(true);
    expect(rules.ignores('README.md')).toBe(false);
    expect(rules.ignores('sub/CHANGES.md')).toBe(false);
    expect(rules.ignores('docs/a/b.txt')).toBe(true);
    expect(rules.ignores('docs/keep/b.txt')).toBe(false);
    expect(rules.ignores('docs/keep/b.md')).toBe(true);
    expect(rules.ignores('build/out.js')).toBe(true);
    expect(rules.ignores('src/build/out.js')).toBe(false);
  });
});
