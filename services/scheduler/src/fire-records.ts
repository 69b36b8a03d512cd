/**
 * The scheduler's fire records: one per scheduled event and duty, in a KV bucket of their
 * own, each written with compare-and-set and carrying the fencing token of the leadership
 * term that wrote it. A leader never overwrites a record of a later term, so a stale
 * leader — one whose lease lapsed while it was paused or cut off — cannot undo what the
 * new leader decided.
 */
import { BusErrorCode, decodeJson, encodeJson, isBusError, type KeyValueStore } from '@runplane/bus';
import type { FiringState } from '@runplane/scheduling';
import { FencedError, recordContended } from './errors.js';

/** How the deploy duty (clearing sessions once per model version) went. */
export const DeployStatus = {
  Running: 'running',
  Completed: 'completed',
  Failed: 'failed',
} as const;
export type DeployStatus = (typeof DeployStatus)[keyof typeof DeployStatus];

/** What is recorded of one schedule. */
export interface FireRecord {
  /** The schedule's name: a scheduled event's qualified name, or `duty:<name>`. */
  readonly name: string;
  /** The firing state of a timetable (scheduled events and periodic duties). */
  readonly state?: FiringState;
  /** The deploy duty: the model version whose sessions are cleared, and how that went. */
  readonly deploy?: {
    readonly modelVersion: string;
    readonly status: DeployStatus;
    readonly atMs: number;
    readonly error?: string;
  };
  /** The fencing token (decimal) of the leadership term that last decided for this schedule. */
  readonly fencingToken: string;
  /** The node that last wrote it. */
  readonly writtenBy: string;
  readonly writtenAtMs: number;
}

/** A record with the revision it was read at (for compare-and-set). */
export interface StoredRecord {
  readonly key: string;
  readonly record: FireRecord;
  readonly revision: number;
}

/** The bucket key of a scheduled event's record. */
export function eventKey(event: string): string {
  return `event.${event}`;
}

/** The bucket key of a duty's record. */
export function dutyKey(duty: string): string {
  return `duty.${duty}`;
}

function isFireRecord(v: unknown): v is FireRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<Record<keyof FireRecord, unknown>>;
  return typeof r.name === 'string' && typeof r.fencingToken === 'string' && /^\d+$/.test(r.fencingToken);
}

/** The term a record belongs to. */
export function tokenOf(record: FireRecord): bigint {
  return BigInt(record.fencingToken);
}

function decode(key: string, value: Uint8Array, revision: number): StoredRecord {
  let record: unknown;
  try {
    record = decodeJson(value);
  } catch {
    record = undefined;
  }
  // An unreadable record belongs to no term: the next leader writes it afresh.
  return {
    key,
    revision,
    record: isFireRecord(record) ? record : { name: key, fencingToken: '0', writtenBy: '', writtenAtMs: 0 },
  };
}

/** The most attempts {@link FireRecords.amend} makes against concurrent writers. */
const AMEND_ATTEMPTS = 50;

/** The fire-record bucket. */
export class FireRecords {
  constructor(readonly kv: KeyValueStore) {}

  /** One record, or undefined when it was never written. */
  async get(key: string): Promise<StoredRecord | undefined> {
    const entry = await this.kv.get(key);
    return entry === undefined ? undefined : decode(key, entry.value, entry.revision);
  }

  /** Every record, by key. */
  async all(): Promise<Map<string, StoredRecord>> {
    const out = new Map<string, StoredRecord>();
    for (const entry of await this.kv.entries())
      out.set(entry.key, decode(entry.key, entry.value, entry.revision));
    return out;
  }

  /**
   * Writes a record as the leader of the term `fencingToken`, if it is still as `expected`
   * (or absent, when `expected` is undefined). Returns the stored record, or undefined when
   * another writer came first (read again and decide again). Throws {@link FencedError}
   * when the record belongs to a later term.
   */
  async writeAsLeader(
    key: string,
    record: Omit<FireRecord, 'fencingToken'>,
    expected: StoredRecord | undefined,
    fencingToken: bigint,
  ): Promise<StoredRecord | undefined> {
    if (expected !== undefined && tokenOf(expected.record) > fencingToken) {
      throw new FencedError(key, fencingToken, tokenOf(expected.record));
    }
    const full: FireRecord = { ...record, fencingToken: fencingToken.toString() };
    const value = encodeJson(full);
    try {
      const revision =
        expected === undefined
          ? await this.kv.create(key, value)
          : await this.kv.update(key, value, expected.revision);
      return { key, record: full, revision };
    } catch (err) {
      if (!isBusError(err, BusErrorCode.KvConflict)) throw err;
      const current = await this.get(key);
      if (current !== undefined && tokenOf(current.record) > fencingToken) {
        throw new FencedError(key, fencingToken, tokenOf(current.record));
      }
      return undefined;
    }
  }

  /**
   * Applies a change that decides nothing — a run's reported end — keeping the record's
   * term: read, change, compare-and-set, again on a conflict. `change` returns undefined
   * when there is nothing to change. Returns the stored record, or undefined when nothing
   * was written; throws `SCHEDULER_RECORD_CONTENDED` when other writers kept winning.
   */
  async amend(
    key: string,
    change: (record: FireRecord) => FireRecord | undefined,
  ): Promise<StoredRecord | undefined> {
    for (let attempt = 0; attempt < AMEND_ATTEMPTS; attempt++) {
      const current = await this.get(key);
      if (current === undefined) return undefined;
      const next = change(current.record);
      if (next === undefined) return undefined;
      const full: FireRecord = { ...next, fencingToken: current.record.fencingToken };
      try {
        const revision = await this.kv.update(key, encodeJson(full), current.revision);
        return { key, record: full, revision };
      } catch (err) {
        if (!isBusError(err, BusErrorCode.KvConflict)) throw err;
      }
    }
    throw recordContended(key, AMEND_ATTEMPTS);
  }
}
