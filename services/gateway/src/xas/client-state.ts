/**
 * The client's state and the server's answers on `/xas/`, as JSON: the schemas the protocol
 * document shows and requests are checked against, and the conversions to and from the
 * executor's proto messages.
 */
import { z } from 'zod';
import { ErrorStatus, UserError } from '@runplane/errors';
import type { common, executor } from '@runplane/proto';
import { objectToWire, stateToProto, type ModelMembers, type WireObject } from '../wire/objects.js';
import { DateStyle, valueToJson } from '../wire/values.js';

/** A value on the wire (see the protocol document's description of each type). */
export const wireValueSchema = z
  .union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())])
  .describe(
    'String, Enumeration key, Decimal (exact text), object id: a string. Integer/Long: a number, or a string of ' +
      'digits beyond 2^53. DateTime: epoch milliseconds. Boolean: true/false. ReferenceSet or list: an array of ids. ' +
      'Empty: null.',
  );

const memberName = z.string().min(1).max(200);
const objectId = z.string().min(1).max(100).describe('Opaque object id.');
const entityName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*\.[A-Za-z_][A-Za-z0-9_]*$/, 'a qualified entity name, e.g. Sales.Order')
  .describe('Qualified entity name, e.g. Sales.Order.');

/** An object of the client's state, as the client sends it back. */
export const wireStateObjectSchema = z
  .object({
    id: objectId,
    entity: entityName,
    state: z
      .enum(['new', 'changed'])
      .describe('new: not stored yet (all members); changed: stored, with uncommitted changes (only those).'),
    members: z.record(memberName, wireValueSchema),
    readOnlyMembers: z.array(z.string()).optional().describe('Ignored on input.'),
  })
  .strict();

/** The client's uncommitted state: sent with each request, replaced by the answer's `state`. */
export const wireStateSchema = z
  .object({ objects: z.array(wireStateObjectSchema).max(10_000) })
  .strict()
  .describe(
    'The client’s uncommitted objects. Send the `state` of the latest answer back with every request that takes it; ' +
      'the next answer’s `state` replaces it.',
  );
/** The client's state as the request carries it. */
export type WireClientState = z.output<typeof wireStateSchema>;

/** No state. */
export const EMPTY_STATE: WireClientState = { objects: [] };

/** An object in an answer. */
export const wireObjectSchema = z
  .object({
    id: objectId,
    entity: entityName,
    state: z.enum(['new', 'committed', 'changed', 'deleted']),
    members: z
      .record(z.string(), wireValueSchema)
      .describe('Every member the user may read (in `state`: only the changes of changed objects).'),
    readOnlyMembers: z.array(z.string()).describe('Members the user may read but not change.'),
  })
  .strict();

/** What the server asks the client to do, in order. */
export const wireInstructionSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('showMessage'),
      messageType: z.enum(['information', 'warning', 'error']),
      text: z.string(),
      blocking: z.boolean(),
    })
    .strict(),
  z
    .object({
      type: z.literal('openPage'),
      page: z.string(),
      title: z.string().describe('The title the microflow set; empty for the page’s own.'),
      parameters: z
        .record(z.string(), wireValueSchema)
        .describe('Objects by id; their values are in `objects`.'),
    })
    .strict(),
  z.object({ type: z.literal('closePage'), count: z.number().int() }).strict(),
  z
    .object({
      type: z.literal('validationFeedback'),
      objectId: z.string(),
      entity: z.string(),
      member: z.string(),
      message: z.string(),
    })
    .strict(),
  z.object({ type: z.literal('refreshObject'), objectId: z.string(), entity: z.string() }).strict(),
]);
/** An instruction on the wire. */
export type WireInstruction = z.input<typeof wireInstructionSchema>;

/** The answer of every action that changes state. */
export const stateUpdateShape = {
  state: z
    .object({ objects: z.array(wireObjectSchema) })
    .strict()
    .describe('The client’s uncommitted state after the request: it replaces what the client sent.'),
  objects: z
    .array(wireObjectSchema)
    .describe(
      'Current values of the objects the answer refers to (results, page parameters, refreshed objects).',
    ),
  committed: z.array(z.string()).describe('Ids of the objects the request stored.'),
  deleted: z.array(z.string()).describe('Ids of the objects that no longer exist for the client.'),
  instructions: z.array(wireInstructionSchema),
} as const;

/** The answer of every action that changes state, as built. */
export interface WireStateUpdate {
  state: { objects: WireObject[] };
  objects: WireObject[];
  committed: string[];
  deleted: string[];
  instructions: WireInstruction[];
}

/** The client's state as the executor takes it; members typed by the model (400 INVALID_STATE otherwise). */
export function stateFromWire(members: ModelMembers, state: WireClientState): common.ClientState {
  const seen = new Set<string>();
  return {
    objects: state.objects.map((object, index) => {
      const where = `state.objects[${index}]`;
      if (seen.has(object.id)) {
        throw new UserError({
          code: 'INVALID_STATE',
          status: ErrorStatus.InvalidArgument,
          message: `Object ${object.id} is in the state twice.`,
          details: { where, objectId: object.id },
        });
      }
      seen.add(object.id);
      if (!members.hasEntity(object.entity)) {
        throw new UserError({
          code: 'INVALID_STATE',
          status: ErrorStatus.InvalidArgument,
          message: `${where}: the model has no entity ${object.entity}.`,
          details: { where, entity: object.entity },
        });
      }
      return {
        id: object.id,
        entity: object.entity,
        state: stateToProto(object.state),
        members: members.membersFromJson(object.entity, object.members, {
          dates: DateStyle.EpochMs,
          code: 'INVALID_STATE',
          where: `${where}.members`,
        }),
        readOnlyMembers: [],
      };
    }),
  };
}

/** A proto instruction as JSON. */
export function instructionToWire(instruction: common.ClientInstruction): WireInstruction | undefined {
  const kind = instruction.kind;
  switch (kind?.$case) {
    case 'showMessage': {
      const t = kind.value.type;
      return {
        type: 'showMessage',
        messageType: t === 'warning' || t === 'error' ? t : 'information',
        text: kind.value.text,
        blocking: kind.value.blocking,
      };
    }
    case 'openPage': {
      const parameters: Record<string, ReturnType<typeof valueToJson>> = {};
      for (const [name, value] of Object.entries(kind.value.parameters))
        parameters[name] = valueToJson(value, DateStyle.EpochMs);
      return { type: 'openPage', page: kind.value.page, title: kind.value.title, parameters };
    }
    case 'closePage':
      return { type: 'closePage', count: kind.value.count };
    case 'validationFeedback':
      return { type: 'validationFeedback', ...kind.value };
    case 'refreshObject':
      return { type: 'refreshObject', ...kind.value };
    case undefined:
      return undefined;
  }
}

/** A StateUpdate and instructions as the answer's JSON. */
export function updateToWire(
  update: executor.StateUpdate | undefined,
  instructions: readonly common.ClientInstruction[],
): WireStateUpdate {
  const toWire = (o: common.MxObject): WireObject => objectToWire(o, DateStyle.EpochMs);
  return {
    state: { objects: (update?.state?.objects ?? []).map(toWire) },
    objects: (update?.objects ?? []).map(toWire),
    committed: [...(update?.committedIds ?? [])],
    deleted: [...(update?.deletedIds ?? [])],
    instructions: instructions.map(instructionToWire).filter((i) => i !== undefined),
  };
}
