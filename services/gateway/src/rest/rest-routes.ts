/**
 * Published REST services from the model, served as Fastify routes at
 * `/<location>/<path>`: microflow operations run through the executor's Execute with their
 * parameters mapped from the path, query, headers and body; entity resources list, get,
 * create, update and delete through Retrieve, Instantiate, Commit and Delete. Every call
 * carries the caller's user context, so entity access applies as it does for the client.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorStatus, UserError } from '@runplane/errors';
import type { CompiledModel, RestOperation, RestParameter, RestService } from '@runplane/model';
import { common, type executor } from '@runplane/proto';
import type { ExecutorClient } from '../executor/executor-client.js';
import type { EntityAccess } from '../security/entity-access.js';
import { acceptJsonOnly } from '../http/json-body.js';
import type { ModelMembers } from '../wire/objects.js';
import {
  DateStyle,
  badValue,
  cellToJson,
  valueFromJson,
  valueFromText,
  valueToJson,
  type JsonValue,
  type MxType,
} from '../wire/values.js';
import type { RestAuthenticator } from './rest-auth.js';
import { equalityFilter, type EqualityTerm } from './xpath-filter.js';

type EntityTarget = Extract<RestOperation['target'], { kind: 'entity' }>;
type MicroflowTarget = Extract<RestOperation['target'], { kind: 'microflow' }>;

/** Paging, sorting and counting parameters of entity lists (the rest of the query are filters). */
export const LIST_PARAMETERS = ['offset', 'limit', 'sort', 'count'] as const;

/** An object as published REST answers it: its id and members (attributes by name, associations as ids). */
export type RestObject = Record<string, JsonValue>;

/** What the REST routes need. */
export interface RestRoutesDependencies {
  readonly model: CompiledModel;
  readonly access: EntityAccess;
  readonly members: ModelMembers;
  readonly executor: ExecutorClient;
  readonly auth: RestAuthenticator;
}

/** The URL of an operation, Fastify style: `/rest/orders/v1/orders/:number`. */
export function routeUrl(service: RestService, operation: RestOperation): string {
  return `/${service.location}/${operation.path}`.replace(/\{([^{}]+)\}/g, ':$1');
}

/**
 * The objects of a projected retrieve's table as JSON: the id, then each member the object
 * carries (absent cells stay absent, as members the user may not read are absent from an
 * MxObject), rendered by the member's type.
 */
export function restObjectsOfTable(
  table: executor.ObjectTable,
  typeOf: (member: string) => MxType,
): RestObject[] {
  const members = table.members;
  const types = members.map(typeOf);
  return table.rows.map((row) => {
    const out: RestObject = { id: row.id };
    const empty = row.empty;
    const absent = row.absent;
    for (let i = 0; i < members.length; i++) {
      if (absent.length > 0 && absent.includes(i)) continue;
      const name = members[i] ?? '';
      out[name] =
        empty.length > 0 && empty.includes(i)
          ? null
          : cellToJson(types[i] ?? { kind: 'String' }, row.values[i] ?? '', DateStyle.Iso);
    }
    return out;
  });
}

/** An object as JSON, with only the given members when `exposed` is given. */
export function restObject(object: common.MxObject, exposed?: readonly string[]): RestObject {
  const out: RestObject = { id: object.id };
  if (exposed === undefined) {
    for (const [name, value] of Object.entries(object.members)) out[name] = valueToJson(value, DateStyle.Iso);
    return out;
  }
  for (const name of exposed) {
    const value = object.members[name];
    // Members the user may not read are absent from the object, and stay absent here.
    if (value !== undefined) out[name] = valueToJson(value, DateStyle.Iso);
  }
  return out;
}

function badParameter(message: string, parameter: string): UserError {
  return new UserError({
    code: 'INVALID_PARAMETER',
    status: ErrorStatus.InvalidArgument,
    message,
    details: { parameter },
  });
}

function notFound(): UserError {
  return new UserError({
    code: 'OBJECT_NOT_FOUND',
    status: ErrorStatus.NotFound,
    message: 'The object does not exist, or you may not see it.',
  });
}

function unsupported(operation: RestOperation): UserError {
  return new UserError({
    code: 'OPERATION_UNSUPPORTED',
    status: ErrorStatus.Internal,
    message: `Operation ${operation.name} takes the HTTP request or response object, which this runtime does not pass to microflows yet.`,
  });
}

function single(value: unknown, parameter: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  throw badParameter(`Give ${parameter} once.`, parameter);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** All objects an answer carries, by id: those it shows and those in the new state. */
function objectsById(update: executor.StateUpdate | undefined): Map<string, common.MxObject> {
  const byId = new Map<string, common.MxObject>();
  for (const o of update?.state?.objects ?? []) byId.set(o.id, o);
  for (const o of update?.objects ?? []) byId.set(o.id, o);
  return byId;
}

/** Registers every operation of every published REST service of the model. */
export function registerRestRoutes(app: FastifyInstance, deps: RestRoutesDependencies): void {
  const { model, members, executor: client, auth, access } = deps;

  const origin = (request: FastifyRequest): { requestId: string; deadlineAtMs: number } => ({
    requestId: request.id,
    deadlineAtMs: request.deadlineAtMs,
  });

  /** A new object for the state, from a JSON object of the request body. */
  const newObject = (
    entity: string,
    json: unknown,
    where: string,
    only?: ReadonlySet<string>,
  ): common.MxObject => {
    if (!isRecord(json)) throw badValue('INVALID_BODY', where, `a JSON object of ${entity}`);
    const { id: _ignored, ...given } = json;
    if (only !== undefined) {
      const extra = Object.keys(given).find((k) => !only.has(k));
      if (extra !== undefined) {
        throw new UserError({
          code: 'INVALID_BODY',
          status: ErrorStatus.InvalidArgument,
          message: `'${extra}' is not a member this resource exposes.`,
          details: { where: `${where}.${extra}`, exposed: [...only] },
        });
      }
    }
    return {
      id: randomUUID(),
      entity,
      state: common.ObjectState.OBJECT_STATE_NEW,
      members: members.membersFromJson(entity, given, { dates: DateStyle.Iso, code: 'INVALID_BODY', where }),
      readOnlyMembers: [],
    };
  };

  const microflowArguments = (
    operation: RestOperation,
    target: MicroflowTarget,
    request: FastifyRequest,
  ): { parameters: Record<string, common.Value>; state: common.MxObject[] } => {
    const parameters: Record<string, common.Value> = {};
    const state: common.MxObject[] = [];
    const params = request.params as Record<string, string | undefined>;
    const query = request.query as Record<string, unknown>;
    const text = (p: RestParameter): string | undefined => {
      if (p.source === 'path') return params[p.key];
      if (p.source === 'query') return single(query[p.key], p.key);
      const v = request.headers[p.key.toLowerCase()];
      return single(Array.isArray(v) ? v[0] : v, p.key);
    };
    for (const p of target.parameters) {
      if (p.source === 'request' || p.source === 'response') throw unsupported(operation);
      const options = { dates: DateStyle.Iso, where: p.key, code: 'INVALID_PARAMETER' };
      if (p.source === 'body') {
        const body = request.body;
        if (body === undefined || body === null) {
          if (p.required) throw badParameter('The request needs a JSON body.', 'body');
          continue;
        }
        if (p.type.kind === 'Object') {
          const object = newObject(p.type.entity, body, 'body');
          state.push(object);
          parameters[p.parameter] = { kind: { $case: 'objectId', value: object.id } };
        } else if (p.type.kind === 'List') {
          const entity = p.type.entity;
          if (!Array.isArray(body))
            throw badValue('INVALID_BODY', 'body', `a JSON array of ${entity} objects`);
          const objects = body.map((item: unknown, i) => newObject(entity, item, `body[${i}]`));
          state.push(...objects);
          parameters[p.parameter] = {
            kind: { $case: 'objectIds', value: { ids: objects.map((o) => o.id) } },
          };
        } else {
          parameters[p.parameter] = valueFromJson(model, p.type, body, {
            ...options,
            where: 'body',
            code: 'INVALID_BODY',
          });
        }
        continue;
      }
      const value = text(p);
      if (value === undefined) {
        if (p.required) throw badParameter(`The ${p.source} parameter '${p.key}' is required.`, p.key);
        continue;
      }
      parameters[p.parameter] = valueFromText(model, p.type, value, options);
    }
    return { parameters, state };
  };

  const runMicroflow = async (
    service: RestService,
    operation: RestOperation,
    target: MicroflowTarget,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<unknown> => {
    const caller = await auth.authenticate(service, request, reply);
    const { parameters, state } = microflowArguments(operation, target, request);
    const res = await client.call(
      'execute',
      {
        microflow: target.microflow,
        parameters,
        user: { ...caller.user, system: false },
        state: { objects: state },
        // Published REST checks the service's roles; the microflow's own roles are for clients.
        fromClient: false,
      },
      origin(request),
    );
    const returnType = model.microflows.get(target.microflow)?.returnType ?? { kind: 'Void' };
    const found = (): Map<string, common.MxObject> => objectsById(res.update);
    const kind = res.result?.kind;
    switch (returnType.kind) {
      case 'Void':
        return reply.status(204).send();
      case 'Object': {
        if (kind?.$case !== 'objectId') {
          if (operation.method === 'GET' || operation.method === 'HEAD') throw notFound();
          return reply.status(204).send();
        }
        const object = found().get(kind.value);
        const body = object === undefined ? { id: kind.value } : restObject(object);
        return reply.status(operation.method === 'POST' ? 201 : 200).send(body);
      }
      case 'List': {
        const ids = kind?.$case === 'objectIds' ? kind.value.ids : [];
        const byId = found();
        return reply.send(
          ids.map((id) => {
            const object = byId.get(id);
            return object === undefined ? { id } : restObject(object);
          }),
        );
      }
      default:
        return reply.send(valueToJson(res.result, DateStyle.Iso));
    }
  };

  /** The retrieve of the object a URL names: by key attribute (XPath) or by id. */
  const objectQuery = (
    target: EntityTarget,
    request: FastifyRequest,
    projection?: readonly string[],
  ): executor.RetrieveRequest['query'] => {
    const keyName = target.key ?? 'id';
    const keyValue = (request.params as Record<string, string | undefined>)[keyName] ?? '';
    if (target.key === undefined) return { $case: 'ids', value: { ids: [keyValue], entity: target.entity } };
    const type = members.member(target.entity, target.key)?.type ?? { kind: 'String' };
    const filter = equalityFilter(
      model,
      [{ attribute: target.key, type, text: keyValue, parameter: keyName }],
      'INVALID_PARAMETER',
    );
    return {
      $case: 'xpath',
      value: {
        entity: target.entity,
        constraint: filter.constraint,
        variables: { values: filter.variables },
        sort: [],
        offset: 0n,
        amount: 1n,
        includeCount: false,
        ...(projection === undefined ? {} : { projection: { members: [...projection] } }),
      },
    };
  };

  /** Finds the object a URL names (by key attribute or id), as the caller sees it. */
  const findObject = async (
    target: EntityTarget,
    request: FastifyRequest,
    user: common.UserContext,
  ): Promise<common.MxObject> => {
    const query = objectQuery(target, request);
    const res = await client.retrieve({ user, state: undefined, query }, origin(request));
    const object = res.objects[0];
    if (object === undefined) throw notFound();
    return object;
  };

  const entityOperation = (service: RestService, operation: RestOperation, target: EntityTarget) => {
    const exposed = target.members;
    const exposedSet = new Set(exposed);
    const filterable = new Set(target.filterable);
    const sortable = new Set(target.sortable);
    const listKeys = new Set<string>(LIST_PARAMETERS);
    const typeOf = (attribute: string): MxType =>
      members.member(target.entity, attribute)?.type ?? { kind: 'String' as const };
    // The exposed members' types, looked up once rather than per object of every answer.
    const exposedTypes = new Map(exposed.map((m) => [m, typeOf(m)]));
    const exposedTypeOf = (member: string): MxType => exposedTypes.get(member) ?? typeOf(member);
    /** The objects of a retrieve with the exposed members only (a projection, or an executor that ignored it). */
    const exposedObjects = (res: executor.RetrieveResponse): RestObject[] =>
      res.table === undefined
        ? res.objects.map((o) => restObject(o, exposed))
        : restObjectsOfTable(res.table, exposedTypeOf);
    const itemPath = `/${service.location}/${operation.path.replace(/\/\{[^{}]*\}$/, '')}`;
    const locationOf = (object: common.MxObject): string => {
      const key =
        target.key === undefined ? object.id : valueToJson(object.members[target.key], DateStyle.Iso);
      return `${itemPath}/${encodeURIComponent(String(key))}`;
    };

    return async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
      const caller = await auth.authenticate(service, request, reply);
      const user = { ...caller.user, system: false };
      switch (target.action) {
        case 'list': {
          const query = request.query as Record<string, unknown>;
          for (const name of Object.keys(query)) {
            if (!listKeys.has(name) && !filterable.has(name)) {
              throw badParameter(
                `'${name}' is not a parameter of this list: use ${[...LIST_PARAMETERS, ...filterable].join(', ')}.`,
                name,
              );
            }
          }
          // In the resource's order, so that the constraint's text depends only on which filters are used.
          const terms: EqualityTerm[] = [];
          for (const name of target.filterable) {
            const raw = query[name];
            if (raw === undefined) continue;
            terms.push({
              attribute: name,
              type: typeOf(name),
              text: single(raw, name) ?? '',
              parameter: name,
            });
          }
          const filter = equalityFilter(model, terms, 'INVALID_PARAMETER');
          const int = (name: 'offset' | 'limit', fallback: number, min: number, max: number): number => {
            const text = single(query[name], name);
            if (text === undefined) return fallback;
            const n = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
            if (!(n >= min && n <= max))
              throw badParameter(`${name} must be an integer from ${min} to ${max}.`, name);
            return n;
          };
          const offset = int('offset', 0, 0, 2_147_483_647);
          const limit = int('limit', target.pageSize, 1, target.maxPageSize);
          const sortText = single(query.sort, 'sort');
          const sort = (sortText === undefined || sortText === '' ? [] : sortText.split(',')).map((item) => {
            const descending = item.startsWith('-');
            const member = descending ? item.slice(1) : item;
            if (!sortable.has(member)) {
              throw badParameter(
                `Sort by one of ${[...sortable].join(', ')} (a leading - sorts descending).`,
                'sort',
              );
            }
            return { member, descending };
          });
          const countText = single(query.count, 'count');
          if (countText !== undefined && countText !== 'true' && countText !== 'false') {
            throw badParameter('count must be true or false.', 'count');
          }
          const res = await client.retrieve(
            {
              user,
              state: undefined,
              query: {
                $case: 'xpath',
                value: {
                  entity: target.entity,
                  constraint: filter.constraint,
                  variables: { values: filter.variables },
                  sort,
                  offset: BigInt(offset),
                  amount: BigInt(limit),
                  includeCount: countText === 'true',
                  projection: { members: [...exposed] },
                },
              },
            },
            origin(request),
          );
          return reply.send({
            items: exposedObjects(res),
            offset,
            limit,
            ...(res.count === undefined ? {} : { total: Number(res.count) }),
          });
        }
        case 'get': {
          if (target.key === undefined) {
            return reply.send(restObject(await findObject(target, request, user), exposed));
          }
          const res = await client.retrieve(
            { user, state: undefined, query: objectQuery(target, request, exposed) },
            origin(request),
          );
          const [object] = exposedObjects(res);
          if (object === undefined) throw notFound();
          return reply.send(object);
        }
        case 'create': {
          const draft = newObject(target.entity, request.body, 'body', exposedSet);
          const made = await client.call(
            'instantiate',
            { user, state: undefined, entity: target.entity },
            origin(request),
          );
          if (made.object === undefined) throw notFound();
          const object = { ...made.object, members: { ...made.object.members, ...draft.members } };
          const res = await client.call(
            'commit',
            { user, state: { objects: [object] }, objectIds: [object.id] },
            origin(request),
          );
          const stored = objectsById(res.update).get(object.id) ?? object;
          return reply.status(201).header('location', locationOf(stored)).send(restObject(stored, exposed));
        }
        case 'update': {
          const found = await findObject(target, request, user);
          const draft = newObject(found.entity, request.body, 'body', exposedSet);
          const changed: common.MxObject = {
            ...found,
            state: common.ObjectState.OBJECT_STATE_CHANGED,
            members: draft.members,
          };
          const res = await client.call(
            'commit',
            { user, state: { objects: [changed] }, objectIds: [found.id] },
            origin(request),
          );
          return reply.send(restObject(objectsById(res.update).get(found.id) ?? found, exposed));
        }
        case 'delete': {
          const found = await findObject(target, request, user);
          access.checkMayDelete(found.entity, user.userRoles);
          await client.call('delete', { user, state: undefined, objectIds: [found.id] }, origin(request));
          return reply.status(204).send();
        }
      }
    };
  };

  void app.register((scope, _options, done) => {
    acceptJsonOnly(scope);
    for (const service of model.restServices.values()) {
      const explicitHeads = new Set(service.operations.filter((o) => o.method === 'HEAD').map((o) => o.path));
      for (const operation of service.operations) {
        const target = operation.target;
        const handler =
          target.kind === 'entity'
            ? entityOperation(service, operation, target)
            : (request: FastifyRequest, reply: FastifyReply) =>
                runMicroflow(service, operation, target, request, reply);
        scope.route({
          method: operation.method,
          url: routeUrl(service, operation),
          exposeHeadRoute: operation.method === 'GET' && !explicitHeads.has(operation.path),
          handler: async (request, reply) => {
            reply.header('cache-control', 'no-store');
            return handler(request, reply);
          },
        });
      }
    }
    done();
  });
}
