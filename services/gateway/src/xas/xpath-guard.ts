/**
 * Checks an XPath a client sends before it runs: it must compile against the entity, and every
 * member it reads — attributes compared or matched, associations walked — must be readable by
 * the user under entity access. Otherwise a constraint on a hidden member would tell the
 * client about values it may not see (`[Stock > 10]` answered with or without objects).
 */
import { compileXPath, type XPathCondition, type XPathOperand } from '@runplane/expressions';
import { ErrorStatus, UserError } from '@runplane/errors';
import type { CompiledModel } from '@runplane/model';
import type { EntityAccess } from '../security/entity-access.js';

/** A member an XPath reads: on objects of `entity`. */
interface MemberRead {
  readonly entity: string;
  readonly member: string;
}

const MAX_CACHED = 1000;

function readsOf(condition: XPathCondition | undefined, out: MemberRead[]): void {
  if (condition === undefined) return;
  const operand = (o: XPathOperand): void => {
    if (o.kind === 'attribute') out.push({ entity: o.entity, member: o.attribute });
    else if (o.kind === 'function') out.push({ entity: o.argument.entity, member: o.argument.attribute });
  };
  switch (condition.kind) {
    case 'and':
    case 'or':
      for (const c of condition.operands) readsOf(c, out);
      return;
    case 'not':
      readsOf(condition.operand, out);
      return;
    case 'constant':
      return;
    case 'compare':
      operand(condition.left);
      operand(condition.right);
      return;
    case 'isEmpty':
      operand(condition.operand);
      return;
    case 'stringMatch':
      operand(condition.attribute);
      operand(condition.value);
      return;
    case 'exists': {
      const step = condition.step;
      // The reference is a member of the owner: of the scope when walking from the owner,
      // of the objects reached when walking back from the target.
      const ownerSide = step.direction === 'OwnerToTarget' ? step.from : step.to;
      out.push({ entity: ownerSide, member: step.association });
      readsOf(condition.where, out);
      return;
    }
  }
}

/** Guards client XPath with the user's entity access (see the module comment). */
export class XPathGuard {
  private readonly reads = new Map<string, readonly MemberRead[]>();

  constructor(
    private readonly model: CompiledModel,
    private readonly access: EntityAccess,
  ) {}

  /** Throws 400 `XPATH_INVALID` or 403 `MEMBER_NOT_READABLE`; returns when the XPath may run. */
  check(entity: string, constraint: string, userRoles: readonly string[]): void {
    if (!this.access.enforced || constraint.trim() === '') return;
    for (const read of this.readsOf(entity, constraint)) {
      if (!this.access.mayRead(read.entity, read.member, userRoles)) {
        throw new UserError({
          code: 'MEMBER_NOT_READABLE',
          status: ErrorStatus.PermissionDenied,
          message: `You may not use ${read.member} of ${read.entity} in a constraint.`,
          details: { entity: read.entity, member: read.member },
        });
      }
    }
  }

  private readsOf(entity: string, constraint: string): readonly MemberRead[] {
    const key = `${entity}\u0000${constraint}`;
    const cached = this.reads.get(key);
    if (cached !== undefined) return cached;
    const result = compileXPath(constraint, { schema: this.model.schema, entity, variables: new Map() });
    if (!result.ok) {
      throw new UserError({
        code: 'XPATH_INVALID',
        status: ErrorStatus.InvalidArgument,
        message: `The XPath is not valid: ${result.errors[0]?.message ?? 'it does not compile'}.`,
        details: {
          errors: result.errors.map((e) => ({
            message: e.message,
            line: e.span.start.line,
            column: e.span.start.column,
          })),
        },
      });
    }
    const reads: MemberRead[] = [];
    readsOf(result.query.condition, reads);
    if (this.reads.size >= MAX_CACHED) this.reads.clear();
    this.reads.set(key, reads);
    return reads;
  }
}
