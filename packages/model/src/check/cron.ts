/** Five-field cron expressions: minute hour day-of-month month day-of-week. */
import type { CronSchedule } from '../compiled/types.js';

/** A cron problem, with the offset in the expression where it is. */
export interface CronProblem {
  readonly message: string;
  readonly offset: number;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const FIELDS = [
  { name: 'minute', min: 0, max: 59, names: undefined },
  { name: 'hour', min: 0, max: 23, names: undefined },
  { name: 'day of month', min: 1, max: 31, names: undefined },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day of week', min: 0, max: 7, names: DAYS },
] as const;

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** Parses a cron expression, or says what is wrong with it and where. */
export function parseCron(
  expression: string,
): { ok: true; schedule: CronSchedule } | { ok: false; problem: CronProblem } {
  const trimmed = expression.trim();
  const lead = expression.indexOf(trimmed);
  const text = MACROS[trimmed.toLowerCase()] ?? trimmed;
  const macro = text !== trimmed;
  const parts: { text: string; offset: number }[] = [];
  const re = /\S+/g;
  for (let m = re.exec(text); m !== null; m = re.exec(text))
    parts.push({ text: m[0], offset: macro ? lead : lead + m.index });
  if (parts.length !== 5) {
    return {
      ok: false,
      problem: {
        message: `A cron expression has 5 fields (minute hour day-of-month month day-of-week); this one has ${parts.length}.`,
        offset: lead,
      },
    };
  }
  const values: number[][] = [];
  for (let i = 0; i < 5; i++) {
    const field = FIELDS[i];
    const part = parts[i];
    if (field === undefined || part === undefined) continue;
    const result = parseField(part.text, field.min, field.max, field.names);
    if (typeof result === 'string') {
      return {
        ok: false,
        problem: { message: `Cron ${field.name} '${part.text}': ${result}`, offset: part.offset },
      };
    }
    values.push(result);
  }
  const [minutes = [], hours = [], daysOfMonth = [], months = [], rawDaysOfWeek = []] = values;
  const daysOfWeek = [...new Set(rawDaysOfWeek.map((d) => d % 7))].sort((a, b) => a - b);
  return {
    ok: true,
    schedule: {
      expression: trimmed,
      minutes,
      hours,
      daysOfMonth,
      months,
      daysOfWeek,
      dayOfMonthRestricted: !(parts[2]?.text ?? '*').startsWith('*'),
      dayOfWeekRestricted: !(parts[4]?.text ?? '*').startsWith('*'),
    },
  };
}

function parseField(
  text: string,
  min: number,
  max: number,
  names: readonly string[] | undefined,
): number[] | string {
  const result = new Set<number>();
  for (const item of text.split(',')) {
    const [rangeText = '', stepText, extra] = item.split('/');
    if (extra !== undefined) return `'${item}' has more than one step.`;
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        return `step '${stepText}' must be a positive number.`;
      step = Number(stepText);
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = min;
      to = max === 7 ? 6 : max;
    } else {
      const [a = '', b, more] = rangeText.split('-');
      if (more !== undefined) return `'${rangeText}' is not a range.`;
      const start = value(a, min, max, names);
      if (typeof start === 'string') return start;
      from = start;
      if (b === undefined) {
        to = stepText === undefined ? start : max;
      } else {
        const end = value(b, min, max, names);
        if (typeof end === 'string') return end;
        if (end < start) return `range ${rangeText} runs backwards.`;
        to = end;
      }
    }
    for (let v = from; v <= to; v += step) result.add(v);
  }
  return [...result].sort((a, b) => a - b);
}

function value(
  text: string,
  min: number,
  max: number,
  names: readonly string[] | undefined,
): number | string {
  const named = names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return names === MONTHS ? named + 1 : named;
  if (!/^\d+$/.test(text)) return `'${text}' is not a number${names === undefined ? '' : ' or a name'}.`;
  const n = Number(text);
  if (n < min || n > max) return `${n} is outside ${min}-${max}.`;
  return n;
}
