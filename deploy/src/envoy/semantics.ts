import type { SchemaProblem } from './schema.js';

type Json = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function typeOf(config: Json): string {
  const url = text(config['@type']) ?? '';
  return url.slice(url.lastIndexOf('/') + 1);
}

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'envoy.extensions.filters.http.router.v3.Router';

/** Every object in a tree, with its path. */
function* walk(value: unknown, path: string): Generator<[Json, string]> {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* walk(item, `${path}[${i}]`);
  } else if (isObject(value)) {
    yield [value, path];
    for (const [k, v] of Object.entries(value)) yield* walk(v, path === '' ? k : `${path}.${k}`);
  }
}

/** The socket address of a listener or the admin interface, as `address:port`. */
function socketOf(holder: Json | undefined): string | undefined {
  const socket = isObject(holder?.address) ? holder.address.socket_address : undefined;
  if (!isObject(socket)) return undefined;
  return `${text(socket.address) ?? ''}:${String(socket.port_value)}`;
}

function portOf(socket: string): string {
  return socket.slice(socket.lastIndexOf(':') + 1);
}

/**
 * Checks what Envoy's schema cannot: that the pieces of a bootstrap configuration fit
 * together, and that the front door is built the way Runplane needs it.
 *
 * - cluster and listener names are unique; no two listeners (or a listener and the admin
 *   interface) share a port;
 * - every cluster a route, a gRPC service or an HTTP service names exists, and each
 *   static cluster's load assignment names its own cluster;
 * - each HTTP connection manager ends its filters with exactly one router, and each of its
 *   route configurations has unique virtual host domains;
 * - every cluster that routes send requests to is health-checked, has outlier detection
 *   and circuit breakers, and names an endpoint.
 */
export function checkEnvoySemantics(config: unknown): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  if (!isObject(config)) return [{ path: '', message: 'the configuration is not a mapping' }];
  const resources = isObject(config.static_resources) ? config.static_resources : {};
  const clusters = objects(resources.clusters);
  const listeners = objects(resources.listeners);

  const clusterNames = new Map<string, Json>();
  clusters.forEach((cluster, i) => {
    const name = text(cluster.name) ?? '';
    if (clusterNames.has(name))
      problems.push({
        path: `static_resources.clusters[${i}].name`,
        message: `cluster "${name}" is defined twice`,
      });
    clusterNames.set(name, cluster);
    const assignment = isObject(cluster.load_assignment) ? cluster.load_assignment : undefined;
    if (assignment && text(assignment.cluster_name) !== name)
      problems.push({
        path: `static_resources.clusters[${i}].load_assignment.cluster_name`,
        message: `names "${String(assignment.cluster_name)}" but belongs to cluster "${name}"`,
      });
  });

  const listenerNames = new Set<string>();
  const ports = new Map<string, string>();
  const adminSocket = isObject(config.admin) ? socketOf(config.admin) : undefined;
  if (adminSocket) ports.set(portOf(adminSocket), 'admin');
  listeners.forEach((listener, i) => {
    const name = text(listener.name) ?? '';
    const at = `static_resources.listeners[${i}]`;
    if (listenerNames.has(name))
      problems.push({ path: `${at}.name`, message: `listener "${name}" is defined twice` });
    listenerNames.add(name);
    const socket = socketOf(listener);
    if (socket) {
      const port = portOf(socket);
      const other = ports.get(port);
      if (other !== undefined)
        problems.push({ path: `${at}.address`, message: `port ${port} is also used by ${other}` });
      ports.set(port, `listener "${name}"`);
    }
    if (objects(listener.filter_chains).length === 0)
      problems.push({ path: `${at}.filter_chains`, message: `listener "${name}" has no filter chain` });
  });

  const routedClusters = new Set<string>();
  const requireCluster = (name: string | undefined, path: string): void => {
    if (name === undefined) return;
    if (!clusterNames.has(name)) problems.push({ path, message: `cluster "${name}" does not exist` });
  };

  for (const [node, path] of walk(config, '')) {
    if (isObject(node.envoy_grpc))
      requireCluster(text(node.envoy_grpc.cluster_name), `${path}.envoy_grpc.cluster_name`);
    if (isObject(node.http_uri)) requireCluster(text(node.http_uri.cluster), `${path}.http_uri.cluster`);
    if (typeOf(node) !== HCM) continue;

    const filters = objects(node.http_filters);
    const routers = filters.filter((f) => isObject(f.typed_config) && typeOf(f.typed_config) === ROUTER);
    const last = filters[filters.length - 1];
    if (routers.length !== 1 || !last || !isObject(last.typed_config) || typeOf(last.typed_config) !== ROUTER)
      problems.push({ path: `${path}.http_filters`, message: 'must end with exactly one router filter' });

    const routeConfig = isObject(node.route_config) ? node.route_config : undefined;
    if (!routeConfig) {
      problems.push({ path, message: 'has no route_config (RDS is not used here)' });
      continue;
    }
    const domains = new Set<string>();
    objects(routeConfig.virtual_hosts).forEach((host, h) => {
      const hostPath = `${path}.route_config.virtual_hosts[${h}]`;
      for (const domain of Array.isArray(host.domains) ? host.domains : []) {
        const d = String(domain);
        if (domains.has(d))
          problems.push({ path: `${hostPath}.domains`, message: `domain "${d}" is served twice` });
        domains.add(d);
      }
      const routes = objects(host.routes);
      if (routes.length === 0) problems.push({ path: `${hostPath}.routes`, message: 'has no routes' });
      routes.forEach((route, r) => {
        const routePath = `${hostPath}.routes[${r}]`;
        const action = isObject(route.route) ? route.route : undefined;
        if (!action) return;
        const cluster = text(action.cluster);
        if (cluster !== undefined) {
          requireCluster(cluster, `${routePath}.route.cluster`);
          routedClusters.add(cluster);
        }
        const weighted = isObject(action.weighted_clusters) ? action.weighted_clusters : undefined;
        objects(weighted?.clusters).forEach((w, k) => {
          const name = text(w.name);
          requireCluster(name, `${routePath}.route.weighted_clusters.clusters[${k}].name`);
          if (name !== undefined) routedClusters.add(name);
        });
      });
    });
  }

  clusters.forEach((cluster, i) => {
    const name = text(cluster.name) ?? '';
    if (!routedClusters.has(name)) return;
    const at = `static_resources.clusters[${i}]`;
    if (objects(cluster.health_checks).length === 0)
      problems.push({
        path: `${at}.health_checks`,
        message: `cluster "${name}" takes requests but is not health-checked`,
      });
    if (!isObject(cluster.outlier_detection))
      problems.push({
        path: `${at}.outlier_detection`,
        message: `cluster "${name}" takes requests but has no outlier detection`,
      });
    const breakers = isObject(cluster.circuit_breakers) ? objects(cluster.circuit_breakers.thresholds) : [];
    if (breakers.length === 0)
      problems.push({
        path: `${at}.circuit_breakers`,
        message: `cluster "${name}" takes requests but has no circuit breakers`,
      });
    const assignment = isObject(cluster.load_assignment) ? cluster.load_assignment : undefined;
    const endpoints = objects(assignment?.endpoints).flatMap((e) => objects(e.lb_endpoints));
    if (endpoints.length === 0)
      problems.push({ path: `${at}.load_assignment`, message: `cluster "${name}" names no endpoint` });
  });

  return problems;
}
