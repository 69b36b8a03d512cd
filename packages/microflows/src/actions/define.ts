/**
 * Custom TypeScript actions: Runplane's counterpart of Mendix's Java actions. An app folder
 * may hold `actions/*.ts` (or `.js`) files; each exports `default defineAction({...})` with
 * the action's qualified name, typed parameters and return type (checked against the model's
 * `customActions` signature when loaded) and the code.
 */
import type { Decimal, MxValue } from '@runplane/expressions';
import type { MxObject, RetrieveQuery, UnitOfWork, WriteOptions } from '@runplane/persistence';

/**
 * A type as actions declare it, written as the model's types are printed: `String`,
 * `Integer`, `Long`, `Decimal`, `Boolean`, `DateTime`, `Binary`, `Enumeration(Module.Enum)`,
 * `Object(Module.Entity)`, `List(Module.Entity)`; `Void` for an action returning nothing.
 */
export type ActionTypeName =
  | 'String'
  | 'Integer'
  | 'Long'
  | 'Decimal'
  | 'Boolean'
  | 'DateTime'
  | 'Binary'
  | `Enumeration(${string})`
  | `Object(${string})`
  | `List(${string})`;

/** The run-time value of a declared type (empty values are `null`; lists are never null). */
export type ActionValue<T extends ActionTypeName | 'Void'> = T extends 'Void'
  ? // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- an action that returns nothing may end without a return
    void
  : T extends 'String' | `Enumeration(${string})`
    ? string | null
    : T extends 'Integer' | 'Long'
      ? bigint | null
      : T extends 'Decimal'
        ? Decimal | null
        : T extends 'Boolean'
          ? boolean
          : T extends 'DateTime'
            ? Date | null
            : T extends 'Binary'
              ? Uint8Array | null
              : T extends `Object(${string})`
                ? MxObject | null
                : T extends `List(${string})`
                  ? readonly MxObject[]
                  : never;

/** The arguments an action's `run` receives, typed from its parameter declarations. */
export type ActionArguments<P extends Readonly<Record<string, ActionTypeName>>> = {
  readonly [K in keyof P]: ActionValue<P[K]>;
};

/** Log lines an action writes; they carry the action's name and land in the engine's logger. */
export interface ActionLog {
  trace(message: string, fields?: Readonly<Record<string, unknown>>): void;
  debug(message: string, fields?: Readonly<Record<string, unknown>>): void;
  info(message: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(message: string, fields?: Readonly<Record<string, unknown>>): void;
  error(message: string, fields?: Readonly<Record<string, unknown>>): void;
}

/**
 * What an action can do: the data of the running microflow's unit of work (the same
 * transaction, with the calling microflow's entity access), microflow calls and logging.
 */
export interface ActionContext {
  /** The user the microflow runs for: `system` is true for scheduled work and system views. */
  readonly user: {
    readonly system: boolean;
    readonly userId: string | undefined;
    readonly userName: string | undefined;
    readonly userRoles: readonly string[];
  };
  /** The unit of work itself, for what the helpers below do not cover. */
  readonly uow: UnitOfWork;
  /**
   * Objects from the database by XPath: a full query such as `//Sales.Order[Total > 100]`, or
   * a {@link RetrieveQuery}. Never sees uncommitted changes (as in Mendix).
   */
  retrieve(query: string | RetrieveQuery): Promise<readonly MxObject[]>;
  /** Objects by id: the request's own copies first. */
  retrieveByIds(ids: readonly string[]): Promise<readonly MxObject[]>;
  /** The objects at the other end of an association, seeing uncommitted changes. */
  retrieveByAssociation(object: MxObject, association: string): Promise<readonly MxObject[]>;
  /** A new object with its defaults, not stored yet. */
  instantiate(entity: string): Promise<MxObject>;
  commit(objects: MxObject | readonly MxObject[], options?: WriteOptions): Promise<void>;
  delete(objects: MxObject | readonly MxObject[], options?: WriteOptions): Promise<void>;
  rollback(objects: MxObject | readonly MxObject[], options?: WriteOptions): Promise<void>;
  /** Runs a microflow in the same run and transaction; returns its result. */
  callMicroflow(name: string, args?: Readonly<Record<string, MxValue>>): Promise<MxValue>;
  readonly log: ActionLog;
  /** The same context with system rights (no entity access), in the same transaction. */
  asSystem(): ActionContext;
}

/** What an action file declares. */
export interface ActionDeclaration<
  P extends Readonly<Record<string, ActionTypeName>>,
  R extends ActionTypeName | 'Void',
> {
  /** Qualified name, as the model's `customActions` declares it, e.g. `Helpdesk.PostToChat`. */
  readonly name: string;
  /** Parameters in the model's order, with their types. */
  readonly parameters: P;
  readonly returns: R;
  run(context: ActionContext, args: ActionArguments<P>): Promise<ActionValue<R>> | ActionValue<R>;
}

const ACTION = Symbol.for('runplane.action');

/** An action as registered with the engine. */
export interface ActionDefinition {
  readonly [ACTION]: true;
  readonly name: string;
  readonly parameters: Readonly<Record<string, ActionTypeName>>;
  readonly returns: ActionTypeName | 'Void';
  /** Runs the action; the engine checks that what it returns fits the declared return type. */
  run(context: ActionContext, args: Readonly<Record<string, MxValue>>): unknown;
}

/** The code of custom actions by qualified name. */
export type ActionRegistry = ReadonlyMap<string, ActionDefinition>;

/**
 * Declares a custom action: export its result as the default export of a file under the app's
 * `actions/` folder. The parameter and return types are checked against the model's
 * `customActions` signature when the actions are loaded; `run` gets typed arguments.
 *
 * ```ts
 * export default defineAction({
 *   name: 'Helpdesk.PostToChat',
 *   parameters: { Channel: 'String', Text: 'String' },
 *   returns: 'Boolean',
 *   async run(ctx, { Channel, Text }) { ctx.log.info(`to ${Channel}: ${Text}`); return true; },
 * });
 * ```
 */
export function defineAction<
  const P extends Readonly<Record<string, ActionTypeName>>,
  const R extends ActionTypeName | 'Void',
>(declaration: ActionDeclaration<P, R>): ActionDefinition {
  return Object.freeze({
    [ACTION]: true as const,
    name: declaration.name,
    parameters: Object.freeze({ ...declaration.parameters }),
    returns: declaration.returns,
    run: (context: ActionContext, args: Readonly<Record<string, MxValue>>): unknown =>
      // The engine passes exactly the declared parameters, with values of the declared types.
      declaration.run(context, args as ActionArguments<P>),
  });
}

/** True for what {@link defineAction} returns. */
export function isActionDefinition(value: unknown): value is ActionDefinition {
  return typeof value === 'object' && value !== null && (value as Partial<ActionDefinition>)[ACTION] === true;
}

/** A registry from definitions (for tests and for apps that register actions in code). */
export function actionRegistry(definitions: readonly ActionDefinition[]): ActionRegistry {
  return new Map(definitions.map((d) => [d.name, d]));
}
