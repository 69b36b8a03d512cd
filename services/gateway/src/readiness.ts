import { health } from '@runplane/proto';
import { checkHealth, createClient, type HealthAnswer } from '@runplane/service-host';

/** One service the gateway depends on. */
export interface ReadinessTarget {
  /** The Runplane service name, e.g. `session`. */
  readonly name: string;
  readonly address: string;
}

/** The outcome of a readiness check: ready only when every service answers SERVING. */
export interface ReadinessReport {
  readonly ready: boolean;
  readonly services: Readonly<Record<string, HealthAnswer>>;
  /** The services that did not answer SERVING. */
  readonly notServing: readonly string[];
}

/**
 * Asks every service the gateway depends on for its health, in parallel, each with its
 * own deadline, over long-lived channels.
 */
export class Readiness {
  private readonly clients: { name: string; client: health.HealthClient }[];

  constructor(
    targets: readonly ReadinessTarget[],
    private readonly timeoutMs: number,
    private readonly self: { name: string; state: () => HealthAnswer },
  ) {
    this.clients = targets.map((t) => ({
      name: t.name,
      client: createClient(health.HealthClient, t.address),
    }));
  }

  async check(): Promise<ReadinessReport> {
    const answers = await Promise.all(
      this.clients.map(
        async ({ name, client }) => [name, await checkHealth(client, '', this.timeoutMs)] as const,
      ),
    );
    const services: Record<string, HealthAnswer> = { [this.self.name]: this.self.state() };
    for (const [name, answer] of answers) services[name] = answer;
    const notServing = Object.entries(services)
      .filter(([, a]) => a !== 'SERVING')
      .map(([n]) => n);
    return { ready: notServing.length === 0, services, notServing };
  }

  close(): void {
    for (const { client } of this.clients) client.close();
  }
}
