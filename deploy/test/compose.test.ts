import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allConfigs } from '@runplane/config';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { envoyInput } from '../envoy/input.js';
import {
  COMPOSE_PATH,
  COMPOSE_REQUIRED_SERVICES,
  REPO_ROOT,
  checkCompose,
  dependenciesOf,
  environmentOf,
  interpolate,
  parseCompose,
  publishedPorts,
  runplaneServiceOf,
  type ComposeFile,
  type SchemaProblem,
} from '../src/index.js';

type Json = Record<string, unknown>;

const RUNPLANE_SERVICES = [
  'gateway',
  'session',
  'microflow-executor',
  'file',
  'scheduler',
  'leader-election',
];
const REQUIRED_SERVICES = COMPOSE_REQUIRED_SERVICES;

let text: string;
let compose: ComposeFile;

beforeAll(() => {
  text = readFileSync(COMPOSE_PATH, 'utf8');
  compose = parseCompose(text);
});

function check(file: ComposeFile): SchemaProblem[] {
  return checkCompose(file, { configs: allConfigs, requiredServices: REQUIRED_SERVICES, baseDir: REPO_ROOT });
}

/** The compose file with one change, parsed again (merges and all). */
function changed(mutate: (document: Json) => void): ComposeFile {
  const document = parse(text, { merge: true }) as Json;
  mutate(document);
  return parseCompose(stringify(document));
}

function service(document: Json, name: string): Json {
  return (document.services as Record<string, Json>)[name] as Json;
}

function env(document: Json, name: string): Record<string, unknown> {
  return service(document, name).environment as Record<string, unknown>;
}

describe('docker-compose.yml', () => {
  it('defines every service and passes every check', () => {
    expect(Object.keys(compose.services).sort()).toEqual([...REQUIRED_SERVICES].sort());
    expect(check(compose)).toEqual([]);
  });

  it('has no top-level name, which docker-compose 1.29 rejects', () => {
    expect(compose.document).not.toHaveProperty('name');
  });

  it("loads each Runplane service's environment through that service's own config schema", () => {
    for (const name of RUNPLANE_SERVICES) {
      const svc = compose.services[name] ?? {};
      const runs = runplaneServiceOf(svc);
      expect(runs).toBe(name);
      const spec = allConfigs.find((c) => c.service === name);
      expect(spec, name).toBeDefined();
      expect(() => spec?.load(environmentOf(svc))).not.toThrow();
    }
  });

  it('runs every Runplane service from the one image built by deploy/Dockerfile', () => {
    const images = new Set(RUNPLANE_SERVICES.map((n) => compose.services[n]?.image));
    expect(images).toEqual(new Set(['runplane:0.1.0']));
    for (const name of RUNPLANE_SERVICES)
      expect(compose.services[name]?.build).toEqual({ context: '.', dockerfile: 'deploy/Dockerfile' });
  });

  it('runs several gateway and executor replicas, which publish no host ports', () => {
    for (const name of ['gateway', 'microflow-executor']) {
      const svc = compose.services[name] ?? {};
      expect((svc.deploy as Json).replicas).toBeGreaterThanOrEqual(2);
      expect(publishedPorts(svc)).toEqual([]);
    }
  });

  it('puts Envoy in front: the public port open, the internal listener and admin on localhost only', () => {
    const envoy = compose.services.envoy ?? {};
    const ports = publishedPorts(envoy);
    expect(ports).toContainEqual({
      hostIp: '0.0.0.0',
      hostPort: envoyInput.publicListener.port,
      containerPort: envoyInput.publicListener.port,
      protocol: 'tcp',
    });
    for (const port of [envoyInput.internalListener.port, envoyInput.admin.port])
      expect(ports).toContainEqual({
        hostIp: '127.0.0.1',
        hostPort: port,
        containerPort: port,
        protocol: 'tcp',
      });
    expect(envoy.volumes).toContain('./deploy/envoy/envoy.yaml:/etc/envoy/envoy.yaml:ro');
    expect(dependenciesOf(envoy).gateway).toBe('service_healthy');
  });

  it("agrees with Envoy's configuration on where the gateway and the trace collector are", () => {
    const gateway = compose.services[envoyInput.gateway.host] ?? {};
    expect(runplaneServiceOf(gateway)).toBe('gateway');
    expect(Number(environmentOf(gateway).RUNPLANE_HTTP_PORT)).toBe(envoyInput.gateway.port);
    expect(compose.services[envoyInput.tracing.host]?.image).toMatch(/^jaegertracing\/jaeger:/);
  });

  it('keeps the data of PostgreSQL, NATS and MinIO in named volumes', () => {
    const volumes = Object.keys(compose.document.volumes as Json);
    for (const [name, volume] of [
      ['postgres', 'postgres-data'],
      ['nats', 'nats-data'],
      ['minio', 'minio-data'],
    ] as const) {
      expect(volumes).toContain(volume);
      expect((compose.services[name]?.volumes as string[]).some((v) => v.startsWith(`${volume}:`))).toBe(
        true,
      );
    }
  });

  it('stores file contents in MinIO, in the bucket minio-init creates, once it exists', () => {
    const env = compose.services.file?.environment as Record<string, string>;
    expect(env.RUNPLANE_S3_ENDPOINT).toBe('http://minio:9000');
    const init = JSON.stringify(compose.services['minio-init']?.command);
    expect(init).toContain(`local/${env.RUNPLANE_S3_BUCKET}`);
    expect(compose.services.file?.depends_on).toMatchObject({
      'minio-init': { condition: 'service_completed_successfully' },
    });
  });

  it('starts NATS with JetStream and its monitoring port, which its health check asks', () => {
    const nats = compose.services.nats ?? {};
    expect(nats.command).toEqual(expect.arrayContaining(['-js', '-m', '8222']));
    expect(JSON.stringify((nats.healthcheck as Json).test)).toContain(':8222/healthz');
  });
});

describe('a compose file with a mistake is rejected', () => {
  const cases: { name: string; mutate: (d: Json) => void; path: string; message: RegExp }[] = [
    {
      name: 'a top-level name',
      mutate: (d) => {
        d.name = 'runplane';
      },
      path: 'name',
      message: /rejected by docker-compose 1\.29/,
    },
    {
      name: 'a missing service',
      mutate: (d) => {
        delete (d.services as Json).jaeger;
        delete (service(d, 'envoy').depends_on as Json).jaeger;
        for (const n of RUNPLANE_SERVICES) delete (service(d, n).depends_on as Json).jaeger;
      },
      path: 'services.jaeger',
      message: /is missing/,
    },
    {
      name: 'a RUNPLANE_ variable no service defines',
      mutate: (d) => {
        env(d, 'session').RUNPLANE_SESION_TTL_MS = '1000';
      },
      path: 'services.session.environment.RUNPLANE_SESION_TTL_MS',
      message: /is not a setting of any Runplane service/,
    },
    {
      name: 'an OTEL_ variable Runplane does not read',
      mutate: (d) => {
        env(d, 'file').OTEL_EXPORTER_OTLP_PROTOCOL = 'grpc';
      },
      path: 'services.file.environment.OTEL_EXPORTER_OTLP_PROTOCOL',
      message: /is not a setting of any Runplane service/,
    },
    {
      name: "a value the service's config schema refuses",
      mutate: (d) => {
        env(d, 'gateway').RUNPLANE_READY_TIMEOUT_MS = 'one second';
      },
      path: 'services.gateway.environment.RUNPLANE_READY_TIMEOUT_MS',
      message: /"one second": expected a whole number of milliseconds, at least 1/,
    },
    {
      name: 'a bad value in the shared block',
      mutate: (d) => {
        env(d, 'scheduler').RUNPLANE_LOG_LEVEL = 'verbose';
      },
      path: 'services.scheduler.environment.RUNPLANE_LOG_LEVEL',
      message: /expected one of trace, debug, info/,
    },
    {
      name: 'a gRPC address naming no service',
      mutate: (d) => {
        env(d, 'gateway').RUNPLANE_SESSION_GRPC_ADDRESS = 'sessions:50051';
      },
      path: 'services.gateway.environment.RUNPLANE_SESSION_GRPC_ADDRESS',
      message: /"sessions" is not a service of this file/,
    },
    {
      name: 'a gRPC address naming the wrong service',
      mutate: (d) => {
        env(d, 'gateway').RUNPLANE_FILE_GRPC_ADDRESS = 'session:50051';
      },
      path: 'services.gateway.environment.RUNPLANE_FILE_GRPC_ADDRESS',
      message: /runs session, not file/,
    },
    {
      name: 'a gRPC address on a port the service does not listen on',
      mutate: (d) => {
        env(d, 'session').RUNPLANE_GRPC_LISTEN_ADDRESS = '0.0.0.0:50061';
        (service(d, 'session').healthcheck as Json).test = [
          'CMD',
          'node',
          'deploy/healthcheck.mjs',
          'grpc',
          '127.0.0.1:50061',
        ];
      },
      path: 'services.gateway.environment.RUNPLANE_SESSION_GRPC_ADDRESS',
      message: /dials port 50051, but "session" listens on 50061/,
    },
    {
      name: 'a service binding gRPC to loopback only',
      mutate: (d) => {
        env(d, 'file').RUNPLANE_GRPC_LISTEN_ADDRESS = '127.0.0.1:50053';
      },
      path: 'services.file.environment.RUNPLANE_GRPC_LISTEN_ADDRESS',
      message: /must bind every interface/,
    },
    {
      name: 'a database URL naming no service',
      mutate: (d) => {
        env(d, 'session').RUNPLANE_DATABASE_URL = 'postgres://runplane@db:5432/runplane';
      },
      path: 'services.session.environment.RUNPLANE_DATABASE_URL',
      message: /"db" is not a service of this file/,
    },
    {
      name: 'a health check on the wrong port',
      mutate: (d) => {
        (service(d, 'session').healthcheck as Json).test = [
          'CMD',
          'node',
          'deploy/healthcheck.mjs',
          'grpc',
          '127.0.0.1:50052',
        ];
      },
      path: 'services.session.healthcheck',
      message: /not the gRPC port the service binds/,
    },
    {
      name: 'a long-running service without a health check',
      mutate: (d) => {
        delete service(d, 'jaeger').healthcheck;
      },
      path: 'services.jaeger.healthcheck',
      message: /needs a health check/,
    },
    {
      name: 'waiting for the health of a service without a health check',
      mutate: (d) => {
        delete service(d, 'nats').healthcheck;
      },
      path: 'services.session.depends_on.nats',
      message: /has no health check/,
    },
    {
      name: 'depending on a service that does not exist',
      mutate: (d) => {
        (service(d, 'gateway').depends_on as Json).redis = { condition: 'service_started' };
      },
      path: 'services.gateway.depends_on.redis',
      message: /no service "redis"/,
    },
    {
      name: 'an image tagged latest',
      mutate: (d) => {
        service(d, 'nats').image = 'nats:latest';
      },
      path: 'services.nats.image',
      message: /is not pinned/,
    },
    {
      name: 'an image without a tag',
      mutate: (d) => {
        service(d, 'minio').image = 'minio/minio';
      },
      path: 'services.minio.image',
      message: /is not pinned/,
    },
    {
      name: 'two services on one host port',
      mutate: (d) => {
        service(d, 'jaeger').ports = ['8080:16686'];
      },
      path: 'services.envoy.ports',
      message: /host port 8080\/tcp is also published by "jaeger"/,
    },
    {
      name: 'a replicated service publishing a fixed host port',
      mutate: (d) => {
        service(d, 'gateway').ports = ['18080:8080'];
      },
      path: 'services.gateway.ports',
      message: /2 replicas cannot all publish host port 18080/,
    },
    {
      name: 'a bind mount of a file that does not exist',
      mutate: (d) => {
        service(d, 'jaeger').volumes = ['./deploy/jaeger/missing.yaml:/etc/jaeger/config.yaml:ro'];
      },
      path: 'services.jaeger.volumes',
      message: /does not exist/,
    },
  ];

  it.each(cases)('$name', ({ mutate, path, message }) => {
    const problems = check(changed(mutate));
    const problem = problems.find((p) => p.path === path);
    expect(problem, JSON.stringify(problems, null, 2)).toBeDefined();
    expect(problem?.message).toMatch(message);
  });

  it('a variable used without a default', () => {
    const file = parseCompose(
      text.replace('${POSTGRES_PASSWORD:-runplane}@postgres', '${POSTGRES_PASSWORD}@postgres'),
    );
    expect(check(file)).toContainEqual({
      path: '',
      message: '${POSTGRES_PASSWORD} has no default: use ${POSTGRES_PASSWORD:-<default>}',
    });
  });
});

describe("Compose's variable interpolation", () => {
  it('applies defaults, required markers and $$ as Compose does', () => {
    const unset = new Set<string>();
    const env = { SET: 'value', EMPTY: '' };
    expect(interpolate('${SET:-x} ${EMPTY:-x} ${EMPTY-x} ${UNSET-x} ${UNSET:-${SET}}', env, unset)).toBe(
      'value x  x value',
    );
    expect(interpolate('$$HOME and $SET', env, unset)).toBe('$HOME and value');
    expect(unset.size).toBe(0);
    expect(interpolate('${UNSET} ${EMPTY:?needed}', env, unset)).toBe(' ');
    expect([...unset].sort()).toEqual(['EMPTY', 'UNSET']);
  });

  it('lets the shell environment override the defaults', () => {
    const file = parseCompose(text, { POSTGRES_PASSWORD: 's3cret', RUNPLANE_LOG_LEVEL: 'debug' });
    const session = environmentOf(file.services.session ?? {});
    expect(session.RUNPLANE_DATABASE_URL).toBe('postgres://runplane:s3cret@postgres:5432/runplane');
    expect(session.RUNPLANE_LOG_LEVEL).toBe('debug');
    expect(environmentOf(file.services.postgres ?? {}).POSTGRES_PASSWORD).toBe('s3cret');
  });
});

describe('the Jaeger configuration', () => {
  const config = parse(readFileSync(join(REPO_ROOT, 'deploy', 'jaeger', 'config.yaml'), 'utf8')) as Json;

  it('wires every pipeline to receivers, processors, exporters and extensions it defines', () => {
    const service = config.service as Json;
    for (const name of service.extensions as string[]) expect(config.extensions as Json).toHaveProperty(name);
    for (const pipeline of Object.values(service.pipelines as Record<string, Json>)) {
      for (const kind of ['receivers', 'processors', 'exporters'])
        for (const name of pipeline[kind] as string[]) expect(config[kind] as Json).toHaveProperty(name);
    }
  });

  it('receives OTLP where Envoy and the services send it, and answers health where compose asks', () => {
    const protocols = ((config.receivers as Json).otlp as Json).protocols as Record<string, Json>;
    expect(protocols.grpc?.endpoint).toBe(`0.0.0.0:${envoyInput.tracing.port}`);
    const otlpHttp = new URL(environmentOf(compose.services.gateway ?? {}).OTEL_EXPORTER_OTLP_ENDPOINT ?? '');
    expect(otlpHttp.hostname).toBe(envoyInput.tracing.host);
    expect(protocols.http?.endpoint).toBe(`0.0.0.0:${otlpHttp.port}`);
    const health = ((config.extensions as Json).healthcheckv2 as Json).http as Json;
    const jaegerCheck = JSON.stringify(((compose.services.jaeger ?? {}).healthcheck as Json).test);
    expect(jaegerCheck).toContain(`127.0.0.1:${String(health.endpoint).split(':')[1]}/status`);
  });
});
