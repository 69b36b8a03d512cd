/**
 * This replica's campaign in the scheduler's election, over the leader-election service's
 * gRPC API: campaign, then renew every third of the lease, and stop acting as leader the
 * moment the lease can no longer be counted on — on `LEADERSHIP_LOST`, or when a quarter
 * of the lease is left since the last renewal that succeeded. Another candidate can only
 * win once the lease has lapsed in the election's store, which is later still, so two
 * replicas never act as leader at once (the fencing of the fire records covers a process
 * that is paused in the middle of acting).
 */
import { performance } from 'node:perf_hooks';
import { asRunplaneError } from '@runplane/errors';
import type { leader } from '@runplane/proto';
import { callUnary } from '@runplane/service-host';
import type { Logger } from '@runplane/telemetry';

/** A term of leadership this replica holds. */
export interface Term {
  readonly election: string;
  readonly leaderId: string;
  /** Grows with every new term of the election; written into every fire record. */
  readonly fencingToken: bigint;
}

/** Why this replica stopped acting as leader. */
export const LossReason = {
  /** The election says another term began, or the lease lapsed (`LEADERSHIP_LOST`). */
  Lost: 'lost',
  /** No renewal succeeded in time: the lease may lapse any moment. */
  Expired: 'expired',
  /** A fire record of a later term was found: another replica leads. */
  Fenced: 'fenced',
  /** This replica is stopping. */
  Stopped: 'stopped',
} as const;
export type LossReason = (typeof LossReason)[keyof typeof LossReason];

/** What a {@link LeaderCampaign} needs. */
export interface CampaignOptions {
  readonly client: leader.LeaderElectionServiceClient;
  readonly election: string;
  /** This process's unique id (the node id, never a host name). */
  readonly candidateId: string;
  /** The lease length; the election service refuses a campaign with any other. */
  readonly leaseTtlMs: number;
  readonly logger: Logger;
  /** Told when this replica starts leading (again, after a lapse it recovered from). */
  readonly onElected: (term: Term) => void;
  /** Told at once when this replica may no longer act as leader. */
  readonly onLost: (term: Term, reason: LossReason) => void;
}

/** Resolves after `ms`, or as soon as it is woken or `signal` aborts. */
class Pause {
  #wake: (() => void) | undefined;

  wait(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
      this.#wake = done;
    });
  }

  wake(): void {
    this.#wake?.();
  }
}

interface HeldTerm {
  readonly term: Term;
  readonly leadership: leader.Leadership;
  /** Monotonic time until which this replica may act: a quarter of the lease before it could lapse. */
  validUntil: number;
  lastSentAt: number;
}

/** The longest wait between two campaign attempts after a failure. */
const MAX_BACKOFF_MS = 5_000;

/** This replica's candidacy: campaigns, renews, and says when it may act as leader. */
export class LeaderCampaign {
  readonly #o: CampaignOptions;
  readonly #stopping = new AbortController();
  readonly #pause = new Pause();
  #held: HeldTerm | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #loop: Promise<void> | undefined;

  constructor(options: CampaignOptions) {
    this.#o = options;
  }

  /** How long after a renewal was sent this replica still acts as leader without another. */
  get actingWindowMs(): number {
    return this.#o.leaseTtlMs - Math.floor(this.#o.leaseTtlMs / 4);
  }

  /** Starts campaigning in the background. */
  start(): void {
    this.#loop ??= this.#run();
  }

  /** The term, while this replica may act as its leader; undefined otherwise. */
  current(): Term | undefined {
    const held = this.#held;
    if (held === undefined) return undefined;
    if (performance.now() >= held.validUntil) {
      this.#lose(LossReason.Expired);
      return undefined;
    }
    return held.term;
  }

  /** Stops acting as leader at once (a later term was seen); the campaign goes on. */
  relinquish(term: Term, reason: LossReason): void {
    if (this.#held?.term.fencingToken === term.fencingToken) this.#lose(reason);
  }

  /**
   * Stops campaigning. With `resign`, a held term is given up so that another replica takes
   * over at once; without (a crash, as tests simulate it), it lapses with its lease.
   */
  async stop(options: { readonly resign: boolean }): Promise<void> {
    const held = this.#held;
    this.#lose(LossReason.Stopped);
    this.#stopping.abort();
    if (held !== undefined && options.resign) {
      try {
        await callUnary(
          this.#o.client,
          'resign',
          { leadership: held.leadership },
          { deadlineMs: Math.max(500, Math.floor(this.#o.leaseTtlMs / 3)), service: 'leader-election' },
        );
      } catch (err) {
        this.#o.logger.warn({ err }, 'could not resign the scheduler leadership; it lapses with its lease');
      }
    }
    await this.#loop;
  }

  #lose(reason: LossReason): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    clearTimeout(this.#watchdog);
    this.#pause.wake();
    this.#o.logger.info(
      { election: held.term.election, fencingToken: held.term.fencingToken.toString(), reason },
      'stopped leading',
    );
    this.#o.onLost(held.term, reason);
  }

  /** Extends the acting window from a renewal sent at `sentAt`, and arms the watchdog at its end. */
  #extend(held: HeldTerm, sentAt: number): void {
    held.validUntil = Math.max(held.validUntil, sentAt + this.actingWindowMs);
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(
      () => {
        if (this.#held === held && performance.now() >= held.validUntil) this.#lose(LossReason.Expired);
        else if (this.#held === held) this.#extend(held, held.lastSentAt);
      },
      Math.max(0, held.validUntil - performance.now()),
    );
  }

  async #renew(leadership: leader.Leadership): Promise<leader.Leadership | undefined> {
    const res = await callUnary(
      this.#o.client,
      'renew',
      { leadership },
      {
        deadlineMs: Math.max(100, Math.floor(this.#o.leaseTtlMs / 4)),
        signal: this.#stopping.signal,
        service: 'leader-election',
      },
    );
    return res.leadership;
  }

  async #run(): Promise<void> {
    const { logger } = this.#o;
    const signal = this.#stopping.signal;
    let backoffMs = 100;
    while (!signal.aborted) {
      let won: leader.Leadership | undefined;
      let sentAt: number;
      try {
        const res = await callUnary(
          this.#o.client,
          'campaign',
          {
            election: this.#o.election,
            candidateId: this.#o.candidateId,
            leaseTtlMs: BigInt(this.#o.leaseTtlMs),
          },
          { signal, service: 'leader-election' },
        );
        if (res.leadership === undefined) continue;
        // Count the acting window from a renewal timed here: a campaign can hand back this
        // replica's own term whose last renewal is long past (after a lapse).
        sentAt = performance.now();
        won = await this.#renew(res.leadership);
      } catch (err) {
        if (signal.aborted) return;
        const e = asRunplaneError(err);
        const level = e.code === 'LEASE_TTL_UNSUPPORTED' ? 'error' : 'warn';
        logger[level](
          { err, election: this.#o.election },
          'campaign for the scheduler leadership failed; retrying',
        );
        await this.#pause.wait(backoffMs, signal);
        backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        continue;
      }
      backoffMs = 100;
      if (won === undefined || signal.aborted) continue;
      const term: Term = { election: won.election, leaderId: won.leaderId, fencingToken: won.fencingToken };
      const held: HeldTerm = { term, leadership: won, validUntil: 0, lastSentAt: sentAt };
      this.#held = held;
      this.#extend(held, sentAt);
      logger.info({ election: term.election, fencingToken: term.fencingToken.toString() }, 'leading');
      this.#o.onElected(term);
      await this.#keep(held);
    }
  }

  /** Renews every third of the lease until the term is lost or the campaign stops. */
  async #keep(held: HeldTerm): Promise<void> {
    const signal = this.#stopping.signal;
    const renewEveryMs = Math.floor(this.#o.leaseTtlMs / 3);
    let nextAt = held.lastSentAt + renewEveryMs;
    while (this.#held === held && !signal.aborted) {
      await this.#pause.wait(nextAt - performance.now(), signal);
      if (this.#held !== held || signal.aborted) return;
      const sentAt = performance.now();
      try {
        await this.#renew(held.leadership);
        held.lastSentAt = sentAt;
        if (this.#held === held) this.#extend(held, sentAt);
        nextAt = sentAt + renewEveryMs;
      } catch (err) {
        if (signal.aborted) return;
        if (asRunplaneError(err).code === 'LEADERSHIP_LOST') {
          this.#lose(LossReason.Lost);
          return;
        }
        this.#o.logger.warn({ err }, 'renewing the scheduler leadership failed; retrying');
        // Try again soon; the watchdog ends the term if no renewal succeeds in time.
        nextAt = performance.now() + Math.max(50, Math.floor(renewEveryMs / 4));
      }
    }
  }
}
