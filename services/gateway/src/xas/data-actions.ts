import { z } from 'zod';
import { ErrorStatus, UserError } from '@runplane/errors';
import type { common, executor } from '@runplane/proto';
import type { ExecutorClient } from '../executor/executor-client.js';
import type { EntityAccess } from '../security/entity-access.js';
import { notSignedIn } from '../session/errors.js';
import { objectToWire, type ModelMembers } from '../wire/objects.js';
import { DateStyle, valueFromJson, valueToJson } from '../wire/values.js';
import { SessionPolicy, defineAction, type XasAction, type XasContext } from './action.js';
import {
  stateFromWire,
  stateUpdateShape,
  updateToWire,
  wireObjectSchema,
  wireValueSchema,
  type WireClientState,
} from './client-state.js';
import { XPathGuard } from './xpath-guard.js';

const MAX_IDS = 1000;
/** The most objects one XPath retrieve answers (and the default amount). */
export const MAX_RETRIEVE_AMOUNT = 10_000;

const ids = z.array(z.string().min(1).max(100)).min(1).max(MAX_IDS).describe('Object ids.');
const entity = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'a qualified entity name, e.g. Sales.Order');
/** `//Module.Entity` and the constraints after it. */
const XPATH = /^\s*\/\/([A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*)\s*(.*)$/s;

function invalidParams(message: string, path: string): UserError {
  return new UserError({
    code: 'INVALID_PARAMS',
    status: ErrorStatus.InvalidArgument,
    message,
    details: { issues: [{ path, message }] },
  });
}

/**
 * The user the executor is asked for: the session's. Client input never reaches these fields,
 * and a client request never runs as system.
 */
function userOf(ctx: XasContext): common.UserContext {
  if (ctx.user === undefined) throw notSignedIn();
  return { ...ctx.user, system: false };
}

function origin(ctx: XasContext): { requestId: string; deadlineAtMs: number } {
  return { requestId: ctx.requestId, deadlineAtMs: ctx.deadlineAtMs };
}

/** Applies member changes to the client's state: the objects they name join it as changed (or stay new). */
function mergeChanges(
  state: WireClientState,
  changes: readonly { id: string; entity?: string | undefined; members: Record<string, unknown> }[],
): { state: WireClientState; changedIds: string[] } {
  const objects = state.objects.map((o) => ({ ...o, members: { ...o.members } }));
  const byId = new Map(objects.map((o) => [o.id, o]));
  changes.forEach((change, index) => {
    const held = byId.get(change.id);
    if (held !== undefined) {
      if (change.entity !== undefined && change.entity !== held.entity) {
        throw invalidParams(
          `Object ${change.id} is a ${held.entity} in the state, not a ${change.entity}.`,
          `objects.${index}.entity`,
        );
      }
      Object.assign(held.members, change.members);
      return;
    }
    if (change.entity === undefined) {
      throw invalidParams(
        `Object ${change.id} is not in the state: give its entity.`,
        `objects.${index}.entity`,
      );
    }
    const added = {
      id: change.id,
      entity: change.entity,
      state: 'changed' as const,
      members: { ...(change.members as Record<string, z.output<typeof wireValueSchema>>) },
    };
    objects.push(added);
    byId.set(added.id, added);
  });
  return { state: { objects }, changedIds: [...new Set(changes.map((c) => c.id))] };
}

/** What the data actions need. */
export interface DataActionsDependencies {
  readonly executor: ExecutorClient;
  readonly members: ModelMembers;
  readonly access: EntityAccess;
}

/**
 * The data actions of `/xas/`: retrieve by XPath or ids, instantiate, change, commit, delete,
 * rollback and executeaction. Each is one stateless round trip to the microflow executor with
 * the session's user; those that take the client's state send it along, and those that change
 * state answer the new state, the objects they refer to, what was committed and deleted, and
 * the client instructions.
 */
export function dataActions(deps: DataActionsDependencies): XasAction[] {
  const { executor: client, members, access } = deps;
  const model = members.model;
  const guard = new XPathGuard(model, access);
  const stateOf = (ctx: XasContext): common.ClientState => stateFromWire(members, ctx.state);
  const objectsOf = (list: readonly common.MxObject[]) => list.map((o) => objectToWire(o, DateStyle.EpochMs));
  const checkEntity = (name: string, path: string): void => {
    if (!members.hasEntity(name)) throw invalidParams(`The model has no entity ${name}.`, path);
  };

  const retrieveByXPath = defineAction({
    name: 'retrieve_by_xpath',
    summary:
      'Objects of an entity by XPath, from the database (the client’s uncommitted changes are not seen, as in ' +
      'Mendix), with the user’s entity access: only visible objects, only readable members. A constraint on a ' +
      'member the user may not read is refused with 403 MEMBER_NOT_READABLE.',
    params: z
      .object({
        xpath: z
          .string()
          .min(3)
          .max(10_000)
          .describe("//Module.Entity followed by constraints, e.g. //Sales.Order[Status = 'Placed']"),
        offset: z.number().int().min(0).max(2_147_483_647).optional(),
        amount: z
          .number()
          .int()
          .min(1)
          .max(MAX_RETRIEVE_AMOUNT)
          .optional()
          .describe(`Most objects to answer; default and maximum ${MAX_RETRIEVE_AMOUNT}.`),
        sort: z
          .array(z.tuple([z.string().min(1).max(200), z.enum(['asc', 'desc'])]))
          .max(10)
          .optional()
          .describe('[[attribute, "asc" | "desc"], ...]; ties are broken by id.'),
        count: z.boolean().optional().describe('Also answer how many objects match in all.'),
      })
      .strict(),
    result: z
      .object({
        objects: z.array(wireObjectSchema),
        count: z.number().int().optional(),
      })
      .strict(),
    session: SessionPolicy.AllowAnonymous,
    changesState: false,
    async handle(params, ctx) {
      const match = XPATH.exec(params.xpath);
      if (match === null) throw invalidParams('The XPath must start with //Module.Entity.', 'xpath');
      const entityName = match[1] ?? '';
      checkEntity(entityName, 'xpath');
      const user = userOf(ctx);
      const constraint = match[2] ?? '';
      guard.check(entityName, constraint, user.userRoles);
      const sort = (params.sort ?? []).map(([member, direction], i) => {
        const info = members.member(entityName, member);
        if (info?.kind !== 'attribute') {
          throw invalidParams(`${entityName} has no attribute '${member}' to sort on.`, `sort.${i}.0`);
        }
        return { member, descending: direction === 'desc' };
      });
      const res = await client.retrieve(
        {
          user,
          state: undefined,
          query: {
            $case: 'xpath',
            value: {
              entity: entityName,
              constraint,
              sort,
              offset: BigInt(params.offset ?? 0),
              amount: BigInt(params.amount ?? MAX_RETRIEVE_AMOUNT),
              includeCount: params.count === true,
            },
          },
        },
        origin(ctx),
      );
      return {
        objects: objectsOf(res.objects),
        ...(res.count === undefined ? {} : { count: Number(res.count) }),
      };
    },
  });

  const retrieveByIds = defineAction({
    name: 'retrieve_by_ids',
    summary:
      'Objects by id, seeing the client’s state (uncommitted objects and changes), with entity access; ids that ' +
      'do not exist or are not visible are left out.',
    params: z.object({ ids, entity: entity.optional().describe('Their entity, when known.') }).strict(),
    result: z.object({ objects: z.array(wireObjectSchema) }).strict(),
    session: SessionPolicy.AllowAnonymous,
    changesState: false,
    takesState: true,
    async handle(params, ctx) {
      if (params.entity !== undefined) checkEntity(params.entity, 'entity');
      const res = await client.retrieve(
        {
          user: userOf(ctx),
          state: stateOf(ctx),
          query: { $case: 'ids', value: { ids: params.ids, entity: params.entity ?? '' } },
        },
        origin(ctx),
      );
      return { objects: objectsOf(res.objects) };
    },
  });

  const instantiate = defineAction({
    name: 'instantiate',
    summary:
      'A new object of an entity with its defaults (create event handlers run), not stored: it joins the state. ' +
      'Needs the create right.',
    params: z.object({ entity }).strict(),
    result: z.object({ object: wireObjectSchema, ...stateUpdateShape }).strict(),
    session: SessionPolicy.AllowAnonymous,
    changesState: true,
    takesState: true,
    async handle(params, ctx) {
      checkEntity(params.entity, 'entity');
      const res = await client.call(
        'instantiate',
        { user: userOf(ctx), state: stateOf(ctx), entity: params.entity },
        origin(ctx),
      );
      if (res.object === undefined) throw invalidParams('No object was instantiated.', 'entity');
      return {
        object: objectToWire(res.object, DateStyle.EpochMs),
        ...updateToWire(res.update, res.instructions),
      };
    },
  });

  const change = defineAction({
    name: 'change',
    summary:
      'Changes members of objects: applied to the client’s state (nothing is stored) after the executor has checked ' +
      'the user may write each changed member. Answers the new state and the objects’ current values.',
    params: z
      .object({
        objects: z
          .array(
            z
              .object({
                id: z.string().min(1).max(100),
                entity: entity.optional().describe('Needed for an object that is not in the state yet.'),
                members: z.record(z.string().min(1).max(200), wireValueSchema),
              })
              .strict(),
          )
          .min(1)
          .max(MAX_IDS),
      })
      .strict(),
    result: z.object(stateUpdateShape).strict(),
    session: SessionPolicy.AllowAnonymous,
    changesState: true,
    takesState: true,
    async handle(params, ctx) {
      const merged = mergeChanges(ctx.state, params.objects);
      const state = stateFromWire(members, merged.state);
      // Retrieving the changed objects restores the state with the user's rights: a member the
      // user may not write is refused there, and the answer shows the objects as changed.
      const res = await client.retrieve(
        { user: userOf(ctx), state, query: { $case: 'ids', value: { ids: merged.changedIds, entity: '' } } },
        origin(ctx),
      );
      return {
        state: { objects: state.objects.map((o) => objectToWire(o, DateStyle.EpochMs)) },
        objects: objectsOf(res.objects),
        committed: [],
        deleted: [],
        instructions: [],
      };
    },
  });

  /**
   * Refuses a delete of objects whose entity no rule of the user lets them delete, before the
   * executor runs it. The entities of stored objects come from a retrieve with the user's view
   * (objects the user cannot see are the executor's 404).
   */
  const checkDelete = async (
    user: common.UserContext,
    state: common.ClientState,
    objectIds: readonly string[],
    ctx: XasContext,
  ): Promise<void> => {
    if (!access.enforced) return;
    const entities = new Set<string>();
    const inState = new Map(state.objects.map((o) => [o.id, o.entity]));
    const stored = objectIds.filter((id) => !inState.has(id));
    for (const id of objectIds) {
      const entity = inState.get(id);
      if (entity !== undefined) entities.add(entity);
    }
    if (stored.length > 0) {
      const res = await client.retrieve(
        { user, state: undefined, query: { $case: 'ids', value: { ids: stored, entity: '' } } },
        origin(ctx),
      );
      for (const o of res.objects) entities.add(o.entity);
    }
    for (const entity of entities) access.checkMayDelete(entity, user.userRoles);
  };

  const write = (name: 'commit' | 'delete' | 'rollback', summary: string): XasAction =>
    defineAction({
      name,
      summary,
      params: z.object({ ids }).strict(),
      result: z.object(stateUpdateShape).strict(),
      session: SessionPolicy.AllowAnonymous,
      changesState: true,
      takesState: true,
      async handle(params, ctx) {
        const request = { user: userOf(ctx), state: stateOf(ctx), objectIds: params.ids };
        if (name === 'delete') await checkDelete(request.user, request.state, params.ids, ctx);
        let res: executor.CommitResponse;
        if (name === 'commit') res = await client.call('commit', request, origin(ctx));
        else if (name === 'delete') res = await client.call('delete', request, origin(ctx));
        else res = await client.call('rollback', request, origin(ctx));
        return updateToWire(res.update, res.instructions);
      },
    });

  const executeAction = defineAction({
    name: 'executeaction',
    summary:
      'Runs a microflow the user’s roles may call (its allowed roles), in one transaction, with the client’s state. ' +
      'Objects and lists are given by id. Answers the result, the new state and the microflow’s instructions.',
    params: z
      .object({
        microflow: entity.describe('Qualified microflow name, e.g. Sales.PlaceOrder.'),
        parameters: z.record(z.string().min(1).max(200), wireValueSchema).optional(),
      })
      .strict(),
    result: z.object({ result: wireValueSchema, ...stateUpdateShape }).strict(),
    session: SessionPolicy.AllowAnonymous,
    changesState: true,
    takesState: true,
    async handle(params, ctx) {
      const microflow = model.microflows.get(params.microflow);
      if (microflow === undefined) {
        throw new UserError({
          code: 'MICROFLOW_NOT_FOUND',
          status: ErrorStatus.NotFound,
          message: `There is no microflow ${params.microflow}.`,
          details: { microflow: params.microflow },
        });
      }
      const user = userOf(ctx);
      // Checked here first, as Mendix checks microflow access at the client boundary: a caller
      // without the role learns nothing about the objects it names.
      if (model.security.level !== 'off') {
        const roles = access.moduleRoles(user.userRoles);
        if (!microflow.allowedRoles.some((role) => roles.has(role))) {
          throw new UserError({
            code: 'MICROFLOW_FORBIDDEN',
            status: ErrorStatus.PermissionDenied,
            message: `You are not allowed to run ${microflow.name}.`,
            details: { microflow: microflow.name },
          });
        }
      }
      const parameters: Record<string, common.Value> = {};
      for (const [name, json] of Object.entries(params.parameters ?? {})) {
        const declared = microflow.parameters.find((p) => p.name === name);
        if (declared === undefined) {
          throw invalidParams(`${params.microflow} has no parameter '${name}'.`, `parameters.${name}`);
        }
        parameters[name] = valueFromJson(model, declared.type, json, {
          dates: DateStyle.EpochMs,
          code: 'INVALID_PARAMS',
          where: `parameters.${name}`,
        });
      }
      const res = await client.call(
        'execute',
        {
          microflow: params.microflow,
          parameters,
          user,
          state: stateOf(ctx),
          fromClient: true,
        },
        origin(ctx),
      );
      return {
        result: valueToJson(res.result, DateStyle.EpochMs),
        ...updateToWire(res.update, res.instructions),
      };
    },
  });

  return [
    retrieveByXPath,
    retrieveByIds,
    instantiate,
    change,
    write(
      'commit',
      'Stores objects: inserts new ones, writes the changes of changed ones, with validation and commit events.',
    ),
    write(
      'delete',
      'Deletes objects, following the delete behaviour of their associations, with delete events. Needs the delete right.',
    ),
    write(
      'rollback',
      'Drops uncommitted changes: new objects are forgotten, changed ones get their stored values back.',
    ),
    executeAction,
  ];
}
