import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { ConfigError, type ConfigShape, type ConfigSpec } from '@runplane/config';
import { UserError } from '@runplane/errors';
import { parseDocument } from 'yaml';
import type { SchemaProblem } from './envoy/schema.js';

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The services Runplane's docker-compose.yml must define. */
export const COMPOSE_REQUIRED_SERVICES: readonly string[] = [
  'gateway',
  'session',
  'microflow-executor',
  'file',
  'scheduler',
  'leader-election',
  'postgres',
  'nats',
  'minio',
  'minio-init',
  'jaeger',
  'envoy',
];

/** One service of a compose file, after YAML merges and variable interpolation. */
export type ComposeService = Json;

/** A compose file, parsed the way Compose reads it. */
export interface ComposeFile {
  /** The whole document, merges (`<<`) expanded and `${VAR}` interpolated. */
  readonly document: Json;
  readonly services: Readonly<Record<string, ComposeService>>;
  /** Variables used as `${VAR}` with no default, which the environment did not set. */
  readonly unsetVariables: readonly string[];
}

/**
 * Replaces Compose's variable references in one string: `${VAR}`, `${VAR:-default}`
 * (also when VAR is empty), `${VAR-default}` (only when unset), `${VAR:?message}` and
 * `${VAR?message}` (required), `$VAR`, and `$$` for a literal `$`. Unset variables
 * without a default become empty strings and are reported through `unset`.
 */
export function interpolate(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  unset: Set<string> = new Set(),
): string {
  return text.replace(
    /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
    (
      _whole,
      dollar: string | undefined,
      braced: string | undefined,
      operator: string | undefined,
      argument: string | undefined,
      bare: string | undefined,
    ) => {
      if (dollar !== undefined) return '$';
      const name = braced ?? bare ?? '';
      const value = env[name];
      const empty = value === undefined || (operator?.startsWith(':') === true && value === '');
      if (operator === undefined) {
        if (value === undefined) unset.add(name);
        return value ?? '';
      }
      if (operator.endsWith('-')) return empty ? interpolate(argument ?? '', env, unset) : (value ?? '');
      // `?`: required.
      if (empty) unset.add(name);
      return value ?? '';
    },
  );
}

function interpolateTree(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  unset: Set<string>,
): unknown {
  if (typeof value === 'string') return interpolate(value, env, unset);
  if (Array.isArray(value)) return value.map((v) => interpolateTree(v, env, unset));
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateTree(v, env, unset)]));
  return value;
}

/**
 * Parses a compose file as Compose does: YAML with anchors and `<<` merges, then variables
 * interpolated from `env` (by default none, so every `${VAR:-default}` takes its default).
 * Throws a {@link UserError} (`COMPOSE_INVALID`) when the YAML does not parse.
 */
export function parseCompose(
  text: string,
  env: Readonly<Record<string, string | undefined>> = {},
): ComposeFile {
  const parsed = parseDocument(text, { merge: true, uniqueKeys: true });
  if (parsed.errors.length > 0) {
    throw new UserError({
      code: 'COMPOSE_INVALID',
      message: `docker-compose.yml is not valid YAML:\n  ${parsed.errors.map((e) => e.message).join('\n  ')}`,
      details: { errors: parsed.errors.map((e) => e.message) },
    });
  }
  const unset = new Set<string>();
  const document = interpolateTree(parsed.toJS({ maxAliasCount: -1 }), env, unset);
  if (!isObject(document)) {
    throw new UserError({ code: 'COMPOSE_INVALID', message: 'docker-compose.yml is not a mapping' });
  }
  const services = isObject(document.services) ? document.services : {};
  const typed: Record<string, ComposeService> = {};
  for (const [name, service] of Object.entries(services)) typed[name] = isObject(service) ? service : {};
  return { document, services: typed, unsetVariables: [...unset].sort() };
}

/** A service's environment as a map, from either of Compose's forms (map or `KEY=value` list). */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment;
  const out: Record<string, string> = {};
  if (Array.isArray(env)) {
    for (const entry of env) {
      const text = String(entry);
      const eq = text.indexOf('=');
      if (eq > 0) out[text.slice(0, eq)] = text.slice(eq + 1);
    }
  } else if (isObject(env)) {
    for (const [k, v] of Object.entries(env))
      out[k] = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
  }
  return out;
}

/** A published port: where on the host, what in the container. */
export interface PublishedPort {
  readonly hostIp: string;
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: string;
}

/** The host ports a service publishes, from the short (`"127.0.0.1:80:8080/tcp"`) or long syntax. */
export function publishedPorts(service: ComposeService): PublishedPort[] {
  const out: PublishedPort[] = [];
  const ports = Array.isArray(service.ports) ? (service.ports as unknown[]) : [];
  for (const entry of ports) {
    if (isObject(entry)) {
      if (entry.published === undefined) continue;
      out.push({
        hostIp: typeof entry.host_ip === 'string' ? entry.host_ip : '0.0.0.0',
        hostPort: Number(entry.published),
        containerPort: Number(entry.target),
        protocol: typeof entry.protocol === 'string' ? entry.protocol : 'tcp',
      });
      continue;
    }
    const text = String(entry);
    const [spec = '', protocol = 'tcp'] = text.split('/');
    const parts = spec.split(':');
    // Only the container port: Docker picks a free host port, which cannot collide.
    if (parts.length === 1) continue;
    const containerPort = Number(parts[parts.length - 1]);
    const hostPort = Number(parts[parts.length - 2]);
    const hostIp = parts.length > 2 ? parts.slice(0, -2).join(':') : '0.0.0.0';
    out.push({ hostIp, hostPort, containerPort, protocol });
  }
  return out;
}

/** The services a service waits for, with the condition (`service_started` for the list form). */
export function dependenciesOf(service: ComposeService): Record<string, string> {
  const deps = service.depends_on;
  const out: Record<string, string> = {};
  if (Array.isArray(deps)) for (const d of deps) out[String(d)] = 'service_started';
  else if (isObject(deps))
    for (const [name, spec] of Object.entries(deps))
      out[name] = isObject(spec) && typeof spec.condition === 'string' ? spec.condition : 'service_started';
  return out;
}

function replicasOf(service: ComposeService): number {
  const deploy = isObject(service.deploy) ? service.deploy : undefined;
  return typeof deploy?.replicas === 'number' ? deploy.replicas : 1;
}

function healthcheckOf(service: ComposeService): readonly string[] | undefined {
  const health = isObject(service.healthcheck) ? service.healthcheck : undefined;
  if (!health || health.disable === true) return undefined;
  const test = health.test;
  if (Array.isArray(test) && test.length > 1 && test[0] !== 'NONE') return test.map(String);
  if (typeof test === 'string' && test !== '') return ['CMD-SHELL', test];
  return undefined;
}

function isOneShot(service: ComposeService): boolean {
  return service.restart === 'no' || service.restart === 'on-failure';
}

/** The Runplane service a compose service runs (`services/<name>/src/main.ts` as its command). */
export function runplaneServiceOf(service: ComposeService): string | undefined {
  const command: readonly unknown[] = Array.isArray(service.command) ? (service.command as unknown[]) : [];
  const first = command[0];
  const match = typeof first === 'string' ? /^services\/([a-z-]+)\/src\/main\.ts$/.exec(first) : null;
  return match?.[1];
}

function hostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(address);
  if (!match?.[1] || !match[2]) return undefined;
  return { host: match[1], port: Number(match[2]) };
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '0.0.0.0', '[::1]', '[::]']);

/** What {@link checkCompose} checks the file against. */
export interface ComposeExpectations {
  /** Every service configuration, e.g. `allConfigs` from `@runplane/config`. */
  readonly configs: readonly ConfigSpec<ConfigShape>[];
  /** Services the file must define. */
  readonly requiredServices: readonly string[];
  /** Folder that relative bind-mount paths are resolved against (the compose file's). */
  readonly baseDir: string;
}

/**
 * Everything wrong with a compose file that `docker compose config` would not notice, or
 * that would only show when the stack runs:
 *
 * - no top-level `name:` (Debian's docker-compose 1.29 rejects it); every required service;
 * - every long-running service has a health check; one-shot services have `restart: "no"`;
 * - `depends_on` names existing services, with a known condition, and `service_healthy`
 *   only on services that have a health check;
 * - images pinned by a tag that is not `latest`;
 * - no two services publish the same host port, and no replicated service publishes a
 *   fixed one (its replicas would collide);
 * - every `${VAR}` has a default;
 * - every `RUNPLANE_*` and `OTEL_*` variable is one the config package defines, and each
 *   Runplane service's environment loads through its own config schema (a bad value
 *   fails with the config package's own message);
 * - the wiring: each service listens on the port the others dial, every gRPC address,
 *   URL and health check names a service of this file on the right port, bind-mounted
 *   files exist.
 */
export function checkCompose(file: ComposeFile, expect: ComposeExpectations): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const { services, document } = file;
  const names = new Set(Object.keys(services));

  if ('name' in document)
    problems.push({
      path: 'name',
      message: 'a top-level `name:` is rejected by docker-compose 1.29; leave it out',
    });
  for (const required of expect.requiredServices)
    if (!names.has(required)) problems.push({ path: `services.${required}`, message: 'is missing' });
  for (const variable of file.unsetVariables)
    problems.push({ path: '', message: `\${${variable}} has no default: use \${${variable}:-<default>}` });

  const knownVariables = new Map<string, string>();
  for (const spec of expect.configs)
    for (const field of Object.values(spec.shape)) knownVariables.set(field.env, spec.service);
  const configByService = new Map(expect.configs.map((c) => [c.service, c]));

  const published: { key: string; hostIp: string; service: string }[] = [];
  const listenPort = new Map<string, number>();
  const httpPort = new Map<string, number>();

  for (const [name, service] of Object.entries(services)) {
    const at = `services.${name}`;
    const oneShot = isOneShot(service);

    if (!oneShot && !healthcheckOf(service))
      problems.push({ path: `${at}.healthcheck`, message: 'a long-running service needs a health check' });

    const image = typeof service.image === 'string' ? service.image : undefined;
    if (image === undefined)
      problems.push({ path: `${at}.image`, message: 'needs an image (with a pinned tag)' });
    else {
      const lastSegment = image.slice(image.lastIndexOf('/') + 1);
      const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : undefined;
      if (tag === undefined || tag === '' || /latest/i.test(tag))
        problems.push({ path: `${at}.image`, message: `"${image}" is not pinned: give it a version tag` });
    }

    for (const [dependency, condition] of Object.entries(dependenciesOf(service))) {
      const target = services[dependency];
      if (!target) {
        problems.push({ path: `${at}.depends_on.${dependency}`, message: `no service "${dependency}"` });
        continue;
      }
      if (!['service_started', 'service_healthy', 'service_completed_successfully'].includes(condition))
        problems.push({
          path: `${at}.depends_on.${dependency}`,
          message: `unknown condition "${condition}"`,
        });
      if (condition === 'service_healthy' && !healthcheckOf(target))
        problems.push({
          path: `${at}.depends_on.${dependency}`,
          message: `waits for "${dependency}" to be healthy, but it has no health check`,
        });
      if (condition === 'service_completed_successfully' && !isOneShot(target))
        problems.push({
          path: `${at}.depends_on.${dependency}`,
          message: `waits for "${dependency}" to complete, but it keeps running`,
        });
    }

    const ports = publishedPorts(service);
    if (ports.length > 0 && replicasOf(service) > 1)
      problems.push({
        path: `${at}.ports`,
        message: `${replicasOf(service)} replicas cannot all publish host port ${ports[0]?.hostPort ?? ''}`,
      });
    for (const port of ports) {
      const key = `${port.hostPort}/${port.protocol}`;
      // Two bindings of one port collide unless they name two different, specific addresses.
      const other = published.find(
        (p) =>
          p.key === key && (p.hostIp === port.hostIp || p.hostIp === '0.0.0.0' || port.hostIp === '0.0.0.0'),
      );
      if (other)
        problems.push({
          path: `${at}.ports`,
          message: `host port ${key} is also published by "${other.service}"`,
        });
      published.push({ key, hostIp: port.hostIp, service: name });
    }

    const volumes = Array.isArray(service.volumes) ? service.volumes : [];
    for (const volume of volumes) {
      const source =
        typeof volume === 'string' ? volume.split(':')[0] : isObject(volume) ? volume.source : undefined;
      if (typeof source !== 'string' || !(source.startsWith('.') || isAbsolute(source))) continue;
      if (!existsSync(isAbsolute(source) ? source : join(expect.baseDir, source)))
        problems.push({ path: `${at}.volumes`, message: `bind-mounted "${source}" does not exist` });
    }

    const env = environmentOf(service);
    const runplane = runplaneServiceOf(service);
    for (const key of Object.keys(env)) {
      // OTEL_* belongs to other images too; in a Runplane service it must be one Runplane reads.
      const ours = key.startsWith('RUNPLANE_') || (runplane !== undefined && key.startsWith('OTEL_'));
      if (ours && !knownVariables.has(key))
        problems.push({
          path: `${at}.environment.${key}`,
          message: 'is not a setting of any Runplane service (see @runplane/config)',
        });
    }
    if (runplane === undefined) continue;
    const spec = configByService.get(runplane);
    if (!spec) {
      problems.push({ path: `${at}.command`, message: `runs "${runplane}", which has no configuration` });
      continue;
    }
    try {
      spec.load(env);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems)
        problems.push({ path: `${at}.environment.${p.env}`, message: `${p.value}: expected ${p.expected}` });
    }
    const listen = env.RUNPLANE_GRPC_LISTEN_ADDRESS;
    const bound = listen === undefined ? undefined : hostPort(listen);
    if (!bound || (bound.host !== '0.0.0.0' && bound.host !== '[::]'))
      problems.push({
        path: `${at}.environment.RUNPLANE_GRPC_LISTEN_ADDRESS`,
        message: 'must bind every interface (0.0.0.0:<port>) so that other containers reach it',
      });
    else listenPort.set(name, bound.port);
    if (env.RUNPLANE_HTTP_PORT !== undefined) httpPort.set(name, Number(env.RUNPLANE_HTTP_PORT));
  }

  // The wiring, once every service's ports are known.
  for (const [name, service] of Object.entries(services)) {
    const at = `services.${name}`;
    const env = environmentOf(service);
    for (const [key, value] of Object.entries(env)) {
      if (/^RUNPLANE_[A-Z_]+_GRPC_ADDRESS$/.test(key)) {
        const target = hostPort(value);
        if (!target) continue; // the config check has said why
        if (!names.has(target.host)) {
          problems.push({
            path: `${at}.environment.${key}`,
            message: `"${target.host}" is not a service of this file`,
          });
          continue;
        }
        const serving = configOwning(expect.configs, key);
        const runs = runplaneServiceOf(services[target.host] ?? {});
        if (serving !== undefined && runs !== serving)
          problems.push({
            path: `${at}.environment.${key}`,
            message: `points at "${target.host}", which runs ${runs ?? 'no Runplane service'}, not ${serving}`,
          });
        const port = listenPort.get(target.host);
        if (port !== undefined && port !== target.port)
          problems.push({
            path: `${at}.environment.${key}`,
            message: `dials port ${target.port}, but "${target.host}" listens on ${port}`,
          });
        continue;
      }
      if (
        !key.startsWith('RUNPLANE_') &&
        !(runplaneServiceOf(service) !== undefined && key.startsWith('OTEL_'))
      )
        continue;
      for (const part of value.split(',')) {
        let url: URL;
        try {
          url = new URL(part.trim());
        } catch {
          continue;
        }
        if (!/^(postgres|postgresql|nats|tls|http|https):$/.test(url.protocol)) continue;
        if (!names.has(url.hostname) && !LOCAL_HOSTS.has(url.hostname))
          problems.push({
            path: `${at}.environment.${key}`,
            message: `"${url.hostname}" is not a service of this file`,
          });
      }
    }

    const test = healthcheckOf(service);
    const runplane = runplaneServiceOf(service);
    if (!test || runplane === undefined) continue;
    const probe = test.indexOf('deploy/healthcheck.mjs');
    if (probe < 0) {
      problems.push({ path: `${at}.healthcheck`, message: 'should probe with deploy/healthcheck.mjs' });
      continue;
    }
    const kind = test[probe + 1];
    const target = test[probe + 2] ?? '';
    if (kind === 'grpc') {
      const probed = hostPort(target);
      if (probed?.port !== listenPort.get(name))
        problems.push({
          path: `${at}.healthcheck`,
          message: `probes ${target}, not the gRPC port the service binds`,
        });
    } else if (kind === 'http') {
      let port: number | undefined;
      try {
        port = Number(new URL(target).port);
      } catch {
        port = undefined;
      }
      if (port === undefined || port !== httpPort.get(name))
        problems.push({
          path: `${at}.healthcheck`,
          message: `probes ${target}, not the service's RUNPLANE_HTTP_PORT`,
        });
    } else problems.push({ path: `${at}.healthcheck`, message: `unknown probe "${kind ?? ''}"` });
  }
  return problems;
}

/** The service whose own gRPC address a variable is (`RUNPLANE_SESSION_GRPC_ADDRESS` → session). */
function configOwning(configs: readonly ConfigSpec<ConfigShape>[], variable: string): string | undefined {
  for (const spec of configs) {
    const own = spec.shape.grpcAddress;
    if (own?.env === variable) return spec.service;
  }
  return undefined;
}
