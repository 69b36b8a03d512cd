import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one process. */
export interface Metrics {
  readonly registry: Registry;
  /** The exposition text for `/metrics`. */
  render(): Promise<string>;
  readonly contentType: string;
  counter(name: string, help: string, labelNames?: readonly string[]): Counter;
  gauge(name: string, help: string, labelNames?: readonly string[]): Gauge;
  histogram(
    name: string,
    help: string,
    labelNames?: readonly string[],
    bucketsSeconds?: readonly number[],
  ): Histogram;
}

/**
 * A registry with Node's default process metrics (prefixed `runplane_`) and helpers
 * that return the same metric when asked twice for one name.
 */
export function createMetrics(defaultLabels: Readonly<Record<string, string>> = {}): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ ...defaultLabels });
  collectDefaultMetrics({ register: registry, prefix: 'runplane_' });
  const existing = (name: string): unknown => registry.getSingleMetric(name);
  return {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    counter: (name, help, labelNames = []) =>
      (existing(name) as Counter | undefined) ??
      new Counter({ name, help, labelNames: [...labelNames], registers: [registry] }),
    gauge: (name, help, labelNames = []) =>
      (existing(name) as Gauge | undefined) ??
      new Gauge({ name, help, labelNames: [...labelNames], registers: [registry] }),
    histogram: (
      name,
      help,
      labelNames = [],
      bucketsSeconds = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    ) =>
      (existing(name) as Histogram | undefined) ??
      new Histogram({
        name,
        help,
        labelNames: [...labelNames],
        buckets: [...bucketsSeconds],
        registers: [registry],
      }),
  };
}
