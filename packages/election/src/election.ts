import { decodeJson, encodeJson, pause, type KeyValueStore, type KvEntry } from '@runplane/bus';
import { ErrorStatus, OperationalError, UserError } from '@runplane/errors';

/** One term of leadership of an election. */
export interface Leadership {
  readonly election: string;
  /** The unique id of the leading process. */
  readonly leaderId: string;
  /**
   * The KV revision at which this term began. Revisions only grow across the bucket, so a
   * later term always has a larger token: work fenced with it can refuse a stale leader.
   */
  readonly fencingToken: bigint;
  /** When the lease lapses unless renewed (the leader's view; the bucket TTL decides). */
  readonly expiresAtMs: number;
}

interface LeaseRecord {
  readonly leaderId: string;
  /** Null in the record that began the term: its own revision is the token. */
  readonly fencingToken: string | null;
  readonly termStartedAtMs: number;
  readonly renewedAtMs: number;
}

function isLeaseRecord(v: unknown): v is LeaseRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<Record<keyof LeaseRecord, unknown>>;
  return (
    typeof r.leaderId === 'string' &&
    (typeof r.fencingToken === 'string' || r.fencingToken === null) &&
    typeof r.renewedAtMs === 'number'
  );
}

const ELECTION = /^[A-Za-z0-9_-]{1,64}$/;
const CANDIDATE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The lease of an election is held by another term, or has lapsed. */
export class LeadershipLostError extends UserError {
  constructor(election: string, leaderId: string) {
    super({
      code: 'LEADERSHIP_LOST',
      status: ErrorStatus.Conflict,
      message: `${leaderId} no longer leads "${election}": its lease lapsed or another term began`,
      details: { election, leaderId },
    });
  }
}

/** A campaign that was given up (cancelled or past its deadline) before it won. */
export class CampaignAbortedError extends OperationalError {
  constructor(election: string, candidateId: string) {
    super({
      code: 'CAMPAIGN_ABORTED',
      status: ErrorStatus.Timeout,
      message: `The campaign of ${candidateId} for "${election}" ended before it won`,
      details: { election, candidateId },
    });
  }
}

function checkName(kind: string, value: string, pattern: RegExp): void {
  if (!pattern.test(value)) {
    throw new UserError({
      code: 'ELECTION_INVALID_NAME',
      message: `"${value}" is not a valid ${kind}: use ${kind === 'election' ? 'letters, digits, _ and -' : 'letters, digits and . _ : -'}`,
      details: { kind, value },
    });
  }
}

/** Settings of {@link Elections}. */
export interface ElectionOptions {
  /** The TTL of the leases bucket: a lease lapses this long after its last renewal. */
  readonly leaseTtlMs: number;
  /** How often a waiting campaign or an observer looks at the lease (expiry raises no event). */
  readonly pollIntervalMs: number;
  /** Told of every new term and every resignation, e.g. to publish a bus event. */
  readonly onChange?: (election: string, leadership: Leadership | undefined) => void;
}

/**
 * Elections in the spirit of etcd's election API, over a KV bucket whose TTL is the lease:
 * a candidate wins by creating the election's key (compare-and-set on absence), keeps it
 * by compare-and-set updates within the TTL, and loses it when it stops renewing or
 * resigns. Two candidates can never both create the key, so there is at most one term
 * at a time, and each term's fencing token is larger than every earlier one.
 */
export class Elections {
  constructor(
    private readonly leases: KeyValueStore,
    private readonly options: ElectionOptions,
  ) {}

  private toLeadership(election: string, entry: KvEntry): Leadership | undefined {
    const record = decodeJson(entry.value);
    if (!isLeaseRecord(record)) return undefined;
    return {
      election,
      leaderId: record.leaderId,
      fencingToken: BigInt(record.fencingToken ?? entry.revision),
      expiresAtMs: record.renewedAtMs + this.options.leaseTtlMs,
    };
  }

  /** The current term of an election, or undefined when no one leads. */
  async leader(election: string): Promise<Leadership | undefined> {
    checkName('election', election, ELECTION);
    const entry = await this.leases.get(election);
    return entry ? this.toLeadership(election, entry) : undefined;
  }

  /**
   * Waits until `candidateId` leads `election` and returns its term. A candidate that
   * already leads gets its current term back. Gives up with {@link CampaignAbortedError}
   * when `signal` aborts.
   */
  async campaign(election: string, candidateId: string, signal?: AbortSignal): Promise<Leadership> {
    checkName('election', election, ELECTION);
    checkName('candidate id', candidateId, CANDIDATE);
    for (;;) {
      if (signal?.aborted === true) throw new CampaignAbortedError(election, candidateId);
      const current = await this.leases.get(election);
      if (current) {
        const held = this.toLeadership(election, current);
        if (held?.leaderId === candidateId) return held;
      } else {
        const now = Date.now();
        const record: LeaseRecord = {
          leaderId: candidateId,
          fencingToken: null,
          termStartedAtMs: now,
          renewedAtMs: now,
        };
        let created: number | undefined;
        try {
          created = await this.leases.create(election, encodeJson(record));
        } catch (err) {
          if ((err as { code?: string }).code !== 'KV_CONFLICT') throw err;
        }
        if (created !== undefined) {
          // The fencing token is the revision of the create, which only this term has.
          const won: Leadership = {
            election,
            leaderId: candidateId,
            fencingToken: BigInt(created),
            expiresAtMs: now + this.options.leaseTtlMs,
          };
          this.options.onChange?.(election, won);
          return won;
        }
      }
      await pause(this.options.pollIntervalMs, signal);
    }
  }

  /**
   * Renews a term's lease. Throws {@link LeadershipLostError} when the lease lapsed or
   * another term began — the caller must stop acting as leader at once.
   */
  async renew(leadership: Leadership): Promise<Leadership> {
    checkName('election', leadership.election, ELECTION);
    const entry = await this.leases.get(leadership.election);
    const held = entry ? this.toLeadership(leadership.election, entry) : undefined;
    if (
      !entry ||
      !held ||
      held.leaderId !== leadership.leaderId ||
      held.fencingToken !== leadership.fencingToken
    ) {
      throw new LeadershipLostError(leadership.election, leadership.leaderId);
    }
    const now = Date.now();
    const record: LeaseRecord = {
      leaderId: leadership.leaderId,
      fencingToken: String(leadership.fencingToken),
      termStartedAtMs: (decodeJson(entry.value) as LeaseRecord).termStartedAtMs,
      renewedAtMs: now,
    };
    try {
      await this.leases.update(leadership.election, encodeJson(record), entry.revision);
    } catch (err) {
      if ((err as { code?: string }).code === 'KV_CONFLICT') {
        throw new LeadershipLostError(leadership.election, leadership.leaderId);
      }
      throw err;
    }
    return { ...leadership, expiresAtMs: now + this.options.leaseTtlMs };
  }

  /** Gives up a term so another candidate can win at once; does nothing if it already lapsed. */
  async resign(leadership: Leadership): Promise<void> {
    checkName('election', leadership.election, ELECTION);
    const entry = await this.leases.get(leadership.election);
    const held = entry ? this.toLeadership(leadership.election, entry) : undefined;
    if (!entry || held?.leaderId !== leadership.leaderId || held.fencingToken !== leadership.fencingToken)
      return;
    try {
      await this.leases.delete(leadership.election, { revision: entry.revision });
    } catch (err) {
      if ((err as { code?: string }).code === 'KV_CONFLICT') return;
      throw err;
    }
    this.options.onChange?.(leadership.election, undefined);
  }

  /**
   * Yields the current term (or undefined), then every change of term, until `signal`
   * aborts. Renewals of the same term are not changes.
   */
  async *observe(election: string, signal: AbortSignal): AsyncIterable<Leadership | undefined> {
    checkName('election', election, ELECTION);
    let last: string | undefined = '\u0000initial';
    const wake = { notify: (): void => undefined };
    const watch = await this.leases.watch(
      () => {
        wake.notify();
      },
      { key: election, initialValues: false },
    );
    try {
      while (!signal.aborted) {
        const current = await this.leader(election);
        const key = current ? `${current.leaderId}#${current.fencingToken}` : undefined;
        if (key !== last) {
          last = key;
          yield current;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, this.options.pollIntervalMs);
          function done(): void {
            clearTimeout(timer);
            signal.removeEventListener('abort', done);
            resolve();
          }
          wake.notify = done;
          signal.addEventListener('abort', done, { once: true });
        });
      }
    } finally {
      await watch.stop();
    }
  }
}
