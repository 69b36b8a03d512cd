/**
 * The validation rules of the model, checked on commit: required (a text of only whitespace
 * counts as empty), equals, range, regular expression and maximum length, in rule order, the
 * rules of generalizations included. Unique rules are the database's: its unique constraint
 * reports them, and the unit of work turns that into a problem on the member.
 */
import { Decimal, isDecimal, mxValuesEqual, type MxValue } from '@runplane/expressions';
import type { CompiledModel, ValidationRule } from '@runplane/model';
import type { MemberValue, ValidationProblem } from '../api.js';
import type { RuntimeObject } from './object.js';

function compare(a: MxValue, b: MxValue): number | undefined {
  if (typeof a === 'bigint' && typeof b === 'bigint') return a < b ? -1 : a > b ? 1 : 0;
  if ((typeof a === 'bigint' || isDecimal(a)) && (typeof b === 'bigint' || isDecimal(b))) {
    return new Decimal(a.toString()).comparedTo(new Decimal(b.toString()));
  }
  if (a instanceof Date && b instanceof Date) return Math.sign(a.getTime() - b.getTime());
  return undefined;
}

function isEmpty(value: MemberValue | undefined): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function length(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

const patterns = new Map<string, RegExp>();
function fullMatch(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (regex === undefined) {
    // Mendix matches the whole value (Java's Matcher.matches()).
    regex = new RegExp(`^(?:${pattern})$`, 'u');
    patterns.set(pattern, regex);
  }
  return regex;
}

const rulesByModel = new WeakMap<CompiledModel, Map<string, ValidationRule[]>>();

/** The rules that apply to objects of an entity: its generalizations' first (computed once). */
export function rulesOf(model: CompiledModel, entity: string): ValidationRule[] {
  let byEntity = rulesByModel.get(model);
  if (byEntity === undefined) rulesByModel.set(model, (byEntity = new Map<string, ValidationRule[]>()));
  let rules = byEntity.get(entity);
  if (rules === undefined) {
    const e = model.entities.get(entity);
    const lineage = e === undefined ? [] : [...e.generalizations].reverse().concat(entity);
    rules = lineage.flatMap((name) => model.entities.get(name)?.validationRules ?? []);
    byEntity.set(entity, rules);
  }
  return rules;
}

/** The problems of one object, in rule order. */
export function validateObject(model: CompiledModel, object: RuntimeObject): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const problem = (member: string, message: string): void => {
    problems.push({ objectId: object.id, entity: object.entity, member, message });
  };
  for (const rule of rulesOf(model, object.entity)) {
    if (rule.rule === 'required') {
      const member = rule.attribute ?? rule.association ?? '';
      if (isEmpty(object.values.get(member))) problem(member, rule.message);
      continue;
    }
    if (rule.rule === 'unique') continue;
    const value = (object.values.get(rule.attribute) ?? null) as MxValue;
    switch (rule.rule) {
      case 'equals':
        if (!mxValuesEqual(value, rule.value)) problem(rule.attribute, rule.message);
        break;
      case 'range': {
        if (value === null) break;
        const belowMin = rule.min !== undefined && rule.min !== null && (compare(value, rule.min) ?? 0) < 0;
        const aboveMax = rule.max !== undefined && rule.max !== null && (compare(value, rule.max) ?? 0) > 0;
        if (belowMin || aboveMax) problem(rule.attribute, rule.message);
        break;
      }
      case 'regex':
        if (typeof value === 'string' && value !== '' && !fullMatch(rule.pattern).test(value)) {
          problem(rule.attribute, rule.message);
        }
        break;
      case 'maxLength':
        if (typeof value === 'string' && length(value) > rule.length) problem(rule.attribute, rule.message);
        break;
    }
  }
  return problems;
}
