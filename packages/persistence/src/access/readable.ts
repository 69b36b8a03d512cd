/**
 * What a user's query may refer to. A user's XPath, sort or aggregate that names a member
 * the user may not read would leak it (filtering or sorting by a hidden value reveals it),
 * so it is refused before any SQL runs — as Mendix refuses such a retrieve. The constraints
 * of the access rules themselves are the model's, and are not judged this way.
 */
import type { XPathCondition, XPathOperand, XPathQuery } from '@runplane/expressions';
import type { SortItem } from '@runplane/model';
import { memberNotReadable } from '../errors.js';
import type { UserAccess } from './policy.js';

/** True when the user's rules for `entity` let the user read `member`, or no rules apply. */
function readable(access: UserAccess, entity: string, member: string): boolean {
  const rules = access.entity(entity);
  return rules === undefined || rules.anyReadable.has(member);
}

function checkOperand(access: UserAccess, scope: string, operand: XPathOperand): void {
  if (operand.kind === 'attribute') {
    if (!readable(access, scope, operand.attribute)) throw memberNotReadable(scope, operand.attribute);
  } else if (operand.kind === 'function') {
    checkOperand(access, scope, operand.argument);
  }
}

function checkCondition(access: UserAccess, scope: string, condition: XPathCondition | undefined): void {
  if (condition === undefined) return;
  switch (condition.kind) {
    case 'and':
    case 'or':
      for (const operand of condition.operands) checkCondition(access, scope, operand);
      return;
    case 'not':
      checkCondition(access, scope, condition.operand);
      return;
    case 'constant':
      return;
    case 'compare':
      checkOperand(access, scope, condition.left);
      checkOperand(access, scope, condition.right);
      return;
    case 'isEmpty':
      checkOperand(access, scope, condition.operand);
      return;
    case 'stringMatch':
      checkOperand(access, scope, condition.attribute);
      checkOperand(access, scope, condition.value);
      return;
    case 'exists': {
      const { step } = condition;
      // An association is a member of its owner side, whichever way the path walks it.
      const ownerSide = step.direction === 'OwnerToTarget' ? step.from : step.to;
      if (!readable(access, ownerSide, step.association))
        throw memberNotReadable(ownerSide, step.association);
      checkCondition(access, step.to, condition.where);
      return;
    }
  }
}

/**
 * Throws `MEMBER_NOT_READABLE` when a user's query refers to a member the user may not read:
 * in its XPath (over associations too), its sort items or the aggregated attribute.
 */
export function assertQueryReadable(
  access: UserAccess,
  entity: string,
  xpath: XPathQuery | undefined,
  sort: readonly SortItem[] = [],
  aggregated?: string,
): void {
  checkCondition(access, entity, xpath?.condition);
  for (const item of sort) {
    if (!readable(access, entity, item.attribute)) throw memberNotReadable(entity, item.attribute);
  }
  if (aggregated !== undefined && !readable(access, entity, aggregated))
    throw memberNotReadable(entity, aggregated);
}
