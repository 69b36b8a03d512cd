import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envoyInput } from '../envoy/input.js';
import {
  ENVOY_CONFIG_PATH,
  EnvoySchema,
  durationText,
  renderEnvoyConfig,
  renderEnvoyTemplate,
  validateEnvoyConfig,
  type SchemaProblem,
} from '../src/index.js';

type Json = Record<string, unknown>;

let schema: EnvoySchema;
let committed: Json;

beforeAll(() => {
  schema = EnvoySchema.load();
  committed = parse(readFileSync(ENVOY_CONFIG_PATH, 'utf8')) as Json;
});

/** A deep copy of the committed configuration, changed by `mutate`. */
function mutated(mutate: (config: Json) => void): Json {
  const copy = structuredClone(committed);
  mutate(copy);
  return copy;
}

/** Follows a path like `static_resources.clusters[0].name` to the object that holds its last key. */
function at(config: Json, path: string): Json {
  let node: unknown = config;
  for (const part of path.split(/\.|(?=\[)/)) {
    const index = /^\[(\d+)\]$/.exec(part);
    node = index ? (node as unknown[])[Number(index[1])] : (node as Json)[part];
  }
  return node as Json;
}

const PUBLIC_HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';
const GATEWAY = 'static_resources.clusters[0]';

function problemAt(problems: readonly SchemaProblem[], path: string): SchemaProblem | undefined {
  return problems.find((p) => p.path === path);
}

describe('the rendered Envoy configuration', () => {
  it('is exactly what the template renders with the committed values (re-render after changing either)', () => {
    const rendered = renderEnvoyConfig(envoyInput);
    expect(readFileSync(ENVOY_CONFIG_PATH, 'utf8')).toBe(rendered.text);
  });

  it("passes Envoy's API field by field, through every typed_config, and the semantic checks", () => {
    expect(validateEnvoyConfig(committed, schema)).toEqual([]);
  });

  it('serves the public listener, an internal listener and the admin interface on the configured ports', () => {
    const listeners = at(committed, 'static_resources.listeners') as unknown as Json[];
    const ports = listeners.map((l) => at(l, 'address.socket_address').port_value);
    expect(ports).toEqual([envoyInput.publicListener.port, envoyInput.internalListener.port]);
    expect(at(committed, 'admin.address.socket_address').port_value).toBe(envoyInput.admin.port);
  });

  it('answers /ready and /metrics with 404 on the public listener, and passes them on internally', () => {
    const publicRoutes = at(
      committed,
      `${PUBLIC_HCM}.route_config.virtual_hosts[0].routes`,
    ) as unknown as Json[];
    const first = publicRoutes[0] as Json;
    expect(at(first, 'direct_response').status).toBe(404);
    const regex = new RegExp(at(first, 'match.safe_regex').regex as string);
    for (const path of envoyInput.internalPaths) expect(regex.test(path)).toBe(true);
    for (const path of ['/health', '/readyz', '/metrics/x', '/xas/', '/ready/../health'])
      expect(regex.test(path)).toBe(false);

    const internalHcm = 'static_resources.listeners[1].filter_chains[0].filters[0].typed_config';
    const internalRoutes = at(
      committed,
      `${internalHcm}.route_config.virtual_hosts[0].routes`,
    ) as unknown as Json[];
    expect(internalRoutes.every((r) => !('direct_response' in r))).toBe(true);
    expect(internalRoutes.map((r) => at(r, 'route').cluster)).toEqual([
      'gateway',
      'gateway',
      'gateway',
      'gateway',
    ]);
  });

  it('retries only methods that are safe to repeat after a reset; others only when nothing reached a replica', () => {
    const routes = at(committed, `${PUBLIC_HCM}.route_config.virtual_hosts[0].routes`) as unknown as Json[];
    for (const route of routes.slice(1)) {
      const policy = at(route, 'route.retry_policy');
      const safeOnly = Array.isArray(at(route, 'match').headers);
      expect(policy.retry_on).toBe(
        safeOnly
          ? 'connect-failure,refused-stream,reset'
          : 'connect-failure,refused-stream,reset-before-request',
      );
    }
  });

  it('keeps a client request id, makes one otherwise, never rewrites it, and traces over OTLP', () => {
    const hcm = at(committed, PUBLIC_HCM);
    expect(hcm.generate_request_id).toBe(true);
    expect(hcm.preserve_external_request_id).toBe(true);
    expect(at(hcm, 'request_id_extension.typed_config').pack_trace_reason).toBe(false);
    const tracer = at(hcm, 'tracing.provider');
    expect(tracer.name).toBe('envoy.tracers.opentelemetry');
    expect(at(tracer, 'typed_config.grpc_service.envoy_grpc').cluster_name).toBe('otlp_collector');
    const logFormat = JSON.stringify(at(hcm, 'access_log[0].typed_config.log_format.json_format'));
    expect(logFormat).toContain('%REQ(X-REQUEST-ID)%');
    expect(logFormat).toContain('%REQ(TRACEPARENT)%');
  });

  it('balances over every gateway replica found by DNS, health-checked on /health', () => {
    const cluster = at(committed, GATEWAY);
    expect(cluster.type).toBe('STRICT_DNS');
    expect(cluster.lb_policy).toBe('ROUND_ROBIN');
    expect(at(cluster, 'health_checks[0].http_health_check').path).toBe(envoyInput.gateway.healthPath);
    expect(
      at(cluster, 'load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address'),
    ).toEqual({
      address: envoyInput.gateway.host,
      port_value: envoyInput.gateway.port,
    });
  });

  it('compresses JSON responses with gzip', () => {
    const compressor = at(committed, `${PUBLIC_HCM}.http_filters[0].typed_config`);
    expect(at(compressor, 'response_direction_config.common_config').content_type).toContain(
      'application/json',
    );
    expect(at(compressor, 'compressor_library').name).toBe('gzip');
  });
});

describe('a configuration with a mistake is rejected', () => {
  const cases: { name: string; mutate: (c: Json) => void; path: string; message: RegExp }[] = [
    {
      name: 'a misspelt top-level field',
      mutate: (c) => {
        c.static_resource = c.static_resources;
      },
      path: 'static_resource',
      message: /unknown field `static_resource` in Bootstrap; did you mean `static_resources`\?/,
    },
    {
      name: 'a misspelt field in a cluster',
      mutate: (c) => {
        at(c, GATEWAY).conect_timeout = '1s';
      },
      path: `${GATEWAY}.conect_timeout`,
      message: /unknown field `conect_timeout` in Cluster; did you mean `connect_timeout`\?/,
    },
    {
      name: 'a misspelt field inside a typed_config',
      mutate: (c) => {
        at(c, PUBLIC_HCM).stat_prefx = 'x';
      },
      path: `${PUBLIC_HCM}.stat_prefx`,
      message: /unknown field `stat_prefx` in HttpConnectionManager/,
    },
    {
      name: 'a misspelt field two typed_configs deep',
      mutate: (c) => {
        at(c, `${PUBLIC_HCM}.http_filters[0].typed_config.compressor_library.typed_config`).memory_levl = 8;
      },
      path: `${PUBLIC_HCM}.http_filters[0].typed_config.compressor_library.typed_config.memory_levl`,
      message: /unknown field `memory_levl` in Gzip/,
    },
    {
      name: 'a camelCase field name (Envoy would take it; we keep one spelling)',
      mutate: (c) => {
        at(c, GATEWAY).dnsRefreshRate = '5s';
      },
      path: `${GATEWAY}.dnsRefreshRate`,
      message: /unknown field `dnsRefreshRate`/,
    },
    {
      name: 'an unknown @type',
      mutate: (c) => {
        at(c, PUBLIC_HCM)['@type'] =
          'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManagr';
      },
      path: `${PUBLIC_HCM}.@type`,
      message: /unknown type .*HttpConnectionManagr/,
    },
    {
      name: 'an unknown enum value',
      mutate: (c) => {
        at(c, GATEWAY).lb_policy = 'ROUND_ROBBIN';
      },
      path: `${GATEWAY}.lb_policy`,
      message: /"ROUND_ROBBIN" is not a LbPolicy.*did you mean `ROUND_ROBIN`\?/,
    },
    {
      name: 'a duration in the wrong form',
      mutate: (c) => {
        at(c, GATEWAY).connect_timeout = '1 second';
      },
      path: `${GATEWAY}.connect_timeout`,
      message: /expected a duration like "5s"/,
    },
    {
      name: 'text where a port number belongs',
      mutate: (c) => {
        at(c, 'admin.address.socket_address').port_value = 'ninety';
      },
      path: 'admin.address.socket_address.port_value',
      message: /expected an integer/,
    },
    {
      name: 'a port beyond 65535',
      mutate: (c) => {
        at(c, 'admin.address.socket_address').port_value = 99901;
      },
      path: 'admin.address.socket_address.port_value',
      message: /must be at most 65535/,
    },
    {
      name: 'two members of one oneof',
      mutate: (c) => {
        at(c, 'admin.address.socket_address').named_port = 'admin';
      },
      path: 'admin.address.socket_address',
      message: /only one of `port_value`, `named_port` may be set/,
    },
    {
      name: 'a required field left out (a health check without a timeout)',
      mutate: (c) => {
        delete at(c, `${GATEWAY}.health_checks[0]`).timeout;
      },
      path: `${GATEWAY}.health_checks[0].timeout`,
      message: /is required/,
    },
    {
      name: 'a cluster without a name',
      mutate: (c) => {
        delete at(c, GATEWAY).name;
      },
      path: `${GATEWAY}.name`,
      message: /must not be empty/,
    },
    {
      name: 'a list where an object belongs',
      mutate: (c) => {
        at(c, GATEWAY).outlier_detection = [];
      },
      path: `${GATEWAY}.outlier_detection`,
      message: /expected a OutlierDetection object, found a list/,
    },
    {
      name: 'null for a message',
      mutate: (c) => {
        at(c, GATEWAY).circuit_breakers = null;
      },
      path: `${GATEWAY}.circuit_breakers`,
      message: /null is not a CircuitBreakers/,
    },
    {
      name: 'a deprecated field',
      mutate: (c) => {
        at(c, GATEWAY).max_requests_per_connection = 100;
      },
      path: `${GATEWAY}.max_requests_per_connection`,
      message: /is deprecated/,
    },
    {
      name: 'a route to a cluster that does not exist',
      mutate: (c) => {
        at(c, `${PUBLIC_HCM}.route_config.virtual_hosts[0].routes[1].route`).cluster = 'gatewy';
      },
      path: `${PUBLIC_HCM}.route_config.virtual_hosts[0].routes[1].route.cluster`,
      message: /cluster "gatewy" does not exist/,
    },
    {
      name: 'tracing sent to a cluster that does not exist',
      mutate: (c) => {
        at(c, `${PUBLIC_HCM}.tracing.provider.typed_config.grpc_service.envoy_grpc`).cluster_name = 'jaeger';
      },
      path: `${PUBLIC_HCM}.tracing.provider.typed_config.grpc_service.envoy_grpc.cluster_name`,
      message: /cluster "jaeger" does not exist/,
    },
    {
      name: 'two listeners on one port',
      mutate: (c) => {
        at(c, 'static_resources.listeners[1].address.socket_address').port_value =
          envoyInput.publicListener.port;
      },
      path: 'static_resources.listeners[1].address',
      message: /port 8080 is also used by listener "public"/,
    },
    {
      name: 'a listener on the admin port',
      mutate: (c) => {
        at(c, 'static_resources.listeners[0].address.socket_address').port_value = envoyInput.admin.port;
      },
      path: 'static_resources.listeners[0].address',
      message: /port 9901 is also used by admin/,
    },
    {
      name: 'filters that do not end with the router',
      mutate: (c) => {
        const filters = at(c, PUBLIC_HCM).http_filters as unknown[];
        filters.reverse();
      },
      path: `${PUBLIC_HCM}.http_filters`,
      message: /must end with exactly one router filter/,
    },
    {
      name: 'a routed cluster without health checks',
      mutate: (c) => {
        delete at(c, GATEWAY).health_checks;
      },
      path: `${GATEWAY}.health_checks`,
      message: /is not health-checked/,
    },
  ];

  it.each(cases)('$name', ({ mutate, path, message }) => {
    const problems = validateEnvoyConfig(mutated(mutate), schema);
    const problem = problemAt(problems, path);
    expect(problem, JSON.stringify(problems, null, 2)).toBeDefined();
    expect(problem?.message).toMatch(message);
  });
});

describe('the Envoy template renderer', () => {
  it('writes durations in the protobuf JSON form', () => {
    expect([0, 25, 1000, 1500, 60_000, 90_500].map(durationText)).toEqual([
      '0s',
      '0.025s',
      '1s',
      '1.5s',
      '60s',
      '90.5s',
    ]);
  });

  it('drops the shared x- pieces after expanding their anchors and merges', () => {
    const rendered = renderEnvoyTemplate(
      'x-shared: &shared { a: {{ a }} }\nx-more: &more\n  b: {{ b | duration }}\nkept:\n  <<: *more\n  c: *shared\n',
      { a: 'text', b: 1500 },
      '# header\n',
    );
    expect(rendered.config).toEqual({ kept: { b: '1.5s', c: { a: 'text' } } });
    expect(rendered.text).toBe('# header\nkept:\n  b: 1.5s\n  c:\n    a: text\n');
  });

  it('names placeholders without a value, values the template does not use, and bad filters', () => {
    let caught: unknown;
    try {
      renderEnvoyTemplate(
        'a: {{ missing }}\nb: {{ port | duration }}\nc: {{ name | upper }}\n',
        { port: -1, name: 'x', spare: 1 },
        '',
      );
    } catch (err) {
      caught = err;
    }
    expect(caught).toMatchObject({
      code: 'ENVOY_TEMPLATE_INVALID',
      details: {
        problems: [
          'no value for {{ missing }}',
          'port | duration needs a whole, non-negative number of milliseconds',
          'unknown filter "upper" on name',
          'spare is not used by the template',
        ],
      },
    });
  });

  it('ignores placeholders in full-line comments', () => {
    const rendered = renderEnvoyTemplate('# {{ nothing }} here\nport: {{ port }}\n', { port: 1 }, '');
    expect(rendered.config).toEqual({ port: 1 });
  });
});
