/**
 * Objects, client state, users and client instructions between the proto contract and the
 * runtime's types, at the gRPC edge.
 */
import type { MxType, MxValue } from '@runplane/expressions';
import type { ClientInstruction } from '@runplane/microflows';
import type { ClientState, MemberValue, ObjectSnapshot, UserContext } from '@runplane/persistence';
import { common } from '@runplane/proto';
import type { RequestUserDetails } from '../client-api/tracked-unit-of-work.js';
import { invalidRequest } from '../errors.js';
import { valueOf, type MemberTypes } from './values.js';

/** An object to show, and whether it carries uncommitted changes. */
export interface ShownObject {
  readonly snapshot: ObjectSnapshot;
  readonly changed: boolean;
}

/** A snapshot as a proto object; `changed` tells CHANGED from COMMITTED for stored ones. */
export function objectToProto(
  types: MemberTypes,
  snapshot: ObjectSnapshot,
  changed: boolean,
): common.MxObject {
  const members: Record<string, common.Value> = {};
  for (const [name, value] of Object.entries(snapshot.members)) {
    members[name] = types.toValue(snapshot.entity, name, value);
  }
  const S = common.ObjectState;
  return {
    id: snapshot.id,
    entity: snapshot.entity,
    members,
    state:
      snapshot.state === 'new'
        ? S.OBJECT_STATE_NEW
        : changed
          ? S.OBJECT_STATE_CHANGED
          : S.OBJECT_STATE_COMMITTED,
    readOnlyMembers: [...snapshot.readOnlyMembers],
  };
}

/** The client's state from the request: NEW objects in full, CHANGED ones as deltas. */
export function clientStateFromProto(types: MemberTypes, state: common.ClientState | undefined): ClientState {
  const objects: ObjectSnapshot[] = [];
  const seen = new Set<string>();
  for (const [index, object] of (state?.objects ?? []).entries()) {
    const where = `state.objects[${index}]`;
    if (object.id === '') throw invalidRequest(`${where} has no id.`, { index });
    if (object.entity === '')
      throw invalidRequest(`${where} (${object.id}) has no entity.`, { index, objectId: object.id });
    if (seen.has(object.id))
      throw invalidRequest(`${where}: object ${object.id} is in the state twice.`, { objectId: object.id });
    seen.add(object.id);
    const S = common.ObjectState;
    let state: 'new' | 'stored';
    if (object.state === S.OBJECT_STATE_NEW) state = 'new';
    else if (object.state === S.OBJECT_STATE_CHANGED || object.state === S.OBJECT_STATE_COMMITTED)
      state = 'stored';
    else {
      throw invalidRequest(`${where} (${object.id}): a client state holds NEW and CHANGED objects only.`, {
        objectId: object.id,
        state: object.state,
      });
    }
    const members: Record<string, MemberValue> = {};
    for (const [name, value] of Object.entries(object.members)) {
      members[name] = types.fromValue(object.entity, name, value);
    }
    objects.push({ id: object.id, entity: object.entity, state, members, readOnlyMembers: [] });
  }
  return { objects };
}

/** The client's state for the response: new objects in full, changed stored ones as deltas. */
export function clientStateToProto(types: MemberTypes, state: ClientState): common.ClientState {
  return { objects: state.objects.map((s) => objectToProto(types, s, true)) };
}

/** Who asks, from the proto user context. */
export function userFromProto(user: common.UserContext | undefined): {
  readonly context: UserContext;
  readonly details: RequestUserDetails;
} {
  if (user === undefined) throw invalidRequest('The request has no user context.');
  return {
    context: {
      system: user.system,
      userId: user.userId === '' ? undefined : user.userId,
      userRoles: user.system ? [] : [...user.userRoles],
      timeZone: user.timeZone,
    },
    details: { userName: user.userName, language: user.language, sessionIdHash: user.sessionIdHash },
  };
}

/** A client instruction of the engine as a proto instruction. */
export function instructionToProto(
  instruction: ClientInstruction,
  typeOf: (name: string) => MxType | undefined,
): common.ClientInstruction {
  switch (instruction.kind) {
    case 'showMessage':
      return {
        kind: {
          $case: 'showMessage',
          value: { type: instruction.type, text: instruction.message, blocking: instruction.blocking },
        },
      };
    case 'openPage': {
      const parameters: Record<string, common.Value> = {};
      for (const [name, value] of instruction.arguments)
        parameters[name] = valueOf(value, typeOf(`${instruction.page}.${name}`));
      return {
        kind: {
          $case: 'openPage',
          value: { page: instruction.page, parameters, title: instruction.title ?? '' },
        },
      };
    }
    case 'closePage':
      return { kind: { $case: 'closePage', value: { count: instruction.count } } };
    case 'validationFeedback':
      return {
        kind: {
          $case: 'validationFeedback',
          value: {
            objectId: instruction.objectId,
            entity: instruction.entity,
            member: instruction.member,
            message: instruction.message,
          },
        },
      };
    case 'refreshObject':
      return {
        kind: {
          $case: 'refreshObject',
          value: { objectId: instruction.objectId, entity: instruction.entity },
        },
      };
  }
}

/** The objects an instruction refers to (page parameters), so the response carries them. */
export function instructionObjects(instruction: ClientInstruction): MxValue[] {
  return instruction.kind === 'openPage' ? [...instruction.arguments.values()] : [];
}
