/**
 * CPU time per process from /proc (Linux), to say where a benchmark's CPU goes: the
 * services, PostgreSQL's backends and the load generator, in microseconds per request.
 * Elsewhere (no /proc) it measures nothing and the benchmark prints no CPU figures.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (USER_HZ). */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) a process has used so far; undefined when it cannot be read. */
export function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The PostgreSQL server's processes (postmaster and backends) on this machine. */
function postgresPids(): number[] {
  try {
    return readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** Named groups of processes to account; `postgres` is added by {@link cpuMeter}. */
export type ProcessGroups = Record<string, readonly number[]>;

/** A running measurement: `stop(requests)` gives µs of CPU per request for each group. */
export interface CpuMeasurement {
  stop(requests: number): Record<string, number> | undefined;
}

/**
 * Starts measuring the CPU of the given process groups, of PostgreSQL, and of this process
 * (`loadGenerator`: autocannon runs here).
 */
export function cpuMeter(groups: ProcessGroups): CpuMeasurement {
  const sample = (): Map<string, number> | undefined => {
    const totals = new Map<string, number>();
    for (const [name, pids] of Object.entries({ ...groups, postgres: postgresPids() })) {
      let sum = 0;
      for (const pid of pids) {
        const ms = processCpuMs(pid);
        if (ms === undefined && name !== 'postgres') return undefined;
        sum += ms ?? 0;
      }
      totals.set(name, sum);
    }
    const own = process.cpuUsage();
    totals.set('loadGenerator', (own.user + own.system) / 1000);
    return totals;
  };
  const before = sample();
  return {
    stop(requests) {
      const after = sample();
      if (before === undefined || after === undefined || requests <= 0) return undefined;
      // PostgreSQL backends that came during the measurement count from zero; none should go.
      const out: Record<string, number> = {};
      let total = 0;
      for (const [name, ms] of after) {
        const used = Math.max(0, ms - (before.get(name) ?? 0));
        const perRequest = Math.round((used * 1000) / requests);
        out[name] = perRequest;
        if (name !== 'loadGenerator') total += perRequest;
      }
      out.total = total;
      return out;
    },
  };
}
