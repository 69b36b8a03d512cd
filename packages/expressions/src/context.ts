/**
 * What an evaluation needs from its caller: the request's clock, user, time zone, rounding
 * setting and locale, association traversal, constants and a random source.
 */
import { UserError } from '@runplane/errors';
import { RoundingMode } from './decimal.js';
import type { MxObjectValue, MxValue } from './types.js';

/** Which way an association is walked. */
export const AssociationDirection = {
  /** From the owner (parent side) to the target, e.g. Order → Customer over `Sales.Order_Customer`. */
  OwnerToTarget: 'OwnerToTarget',
  /** From the target back to its owners, e.g. Customer → Orders over `Sales.Order_Customer`. */
  TargetToOwner: 'TargetToOwner',
} as const;
/** Which way an association is walked. */
export type AssociationDirection = (typeof AssociationDirection)[keyof typeof AssociationDirection];

/** The values of variables, by name without `$`. A `Map` fits. */
export interface VariableSource {
  get(name: string): MxValue | undefined;
}

/**
 * Everything an evaluation needs from its caller. Evaluation is synchronous: the caller
 * prefetches what `follow` returns, guided by `CompiledExpression.dependencies.associationPaths`.
 */
export interface EvaluationContext {
  /** The request's fixed current time: every token and `[%CurrentDateTime%]` reads it. */
  readonly now: Date;
  /** The signed-in user (`$currentUser`, `[%CurrentUser%]`), or null for a system context. */
  readonly currentUser: MxObjectValue | null;
  /** The user's IANA time zone (e.g. `Europe/Amsterdam`); UTC when empty. */
  readonly timeZone: string;
  /** The app's rounding setting for `round`. */
  readonly roundingMode: RoundingMode;
  /**
   * The user's locale (BCP 47, e.g. `nl-NL`) for month and day names, number symbols and the
   * first day of the week; `en-US` when absent.
   */
  readonly locale?: string;
  /**
   * The object (Reference walked from its owner) or objects (a ReferenceSet, or a Reference
   * walked back from its target) at the other end of an association; null when there is none.
   */
  follow(
    object: MxObjectValue,
    association: string,
    direction: AssociationDirection,
  ): MxObjectValue | readonly MxObjectValue[] | null;
  /** A constant's value by qualified name, e.g. `Sales.VatRate`. */
  constant(qualifiedName: string): MxValue;
  /** The caption of an enumeration value in the user's language; the model's caption when undefined. */
  enumerationCaption?(enumeration: string, key: string): string | undefined;
  /** A random number in [0, 1), for `random()`. */
  random(): number;
}

/** Options for {@link createEvaluationContext}; every field has a default. */
export type EvaluationContextOptions = Partial<EvaluationContext> & {
  /** Constant values by qualified name, used when `constant` is not given. */
  readonly constants?: ReadonlyMap<string, MxValue>;
};

/**
 * A complete context from a few options. Defaults: now, no user, UTC, half away from zero,
 * `en-US`, associations read as members of the object (`object.get('Module.Assoc')`),
 * constants from `constants`, `Math.random`.
 */
export function createEvaluationContext(options: EvaluationContextOptions = {}): EvaluationContext {
  const constants = options.constants ?? new Map<string, MxValue>();
  return {
    now: options.now ?? new Date(),
    currentUser: options.currentUser ?? null,
    timeZone: options.timeZone ?? '',
    roundingMode: options.roundingMode ?? RoundingMode.HalfAwayFromZero,
    ...(options.locale === undefined ? {} : { locale: options.locale }),
    follow:
      options.follow ??
      ((object, association) => {
        const value = object.get(association);
        if (value === null || Array.isArray(value)) return value;
        if (typeof value === 'object' && 'id' in value && 'get' in value) return value;
        return null;
      }),
    constant:
      options.constant ??
      ((name) => {
        const value = constants.get(name);
        if (value === undefined) {
          throw new UserError({
            code: 'EXPR_CONSTANT_UNAVAILABLE',
            message: `The constant ${name} has no value in this context.`,
            details: { constant: name },
          });
        }
        return value;
      }),
    ...(options.enumerationCaption === undefined ? {} : { enumerationCaption: options.enumerationCaption }),
    random: options.random ?? Math.random,
  };
}
