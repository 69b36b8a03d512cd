/**
 * OpenAPI 3.1 documents of the model's published REST services, generated at start: paths and
 * parameters, the schemas of the entities they take and answer, the security schemes of the
 * service's authentication, and every error as `{ code, message, details }`.
 */
import type { CompiledModel, RestOperation, RestService } from '@runplane/model';
import { SESSION_COOKIE } from '../session/cookies.js';
import type { ModelMembers } from '../wire/objects.js';
import type { MxType } from '../wire/values.js';

/** A JSON Schema / OpenAPI object. */
export type Json = Record<string, unknown>;

const INT64 = {
  type: ['integer', 'string'],
  format: 'int64',
  pattern: '^-?\\d+$',
  description: 'A JSON number; a string of digits beyond 2^53.',
} as const;
const DECIMAL = {
  type: 'string',
  format: 'decimal',
  pattern: '^[+-]?(\\d+(\\.\\d*)?|\\.\\d+)$',
  description: 'An exact decimal number as text, e.g. "12.50".',
} as const;

const ERROR_RESPONSES: Readonly<Record<string, string>> = {
  '400':
    'The request is not valid: malformed JSON, a bad parameter (named in `details.parameter`), an unsupported content type.',
  '401': 'No valid credentials.',
  '403': 'The user may not use the service or do this (entity access, CSRF token).',
  '404': 'The object does not exist, or the user may not see it.',
  '409': 'The data changed under the request (a unique value taken, a delete prevented).',
  '413': 'The request body is too large.',
  '422': 'Validation failed: `details.problems` lists every problem.',
  '429': 'Too many password checks from this address; see Retry-After.',
  '500': 'An unexpected error; the request id (X-Request-Id) identifies it in the logs.',
  '503': 'A service the request needs is unavailable.',
  '504': 'The request took too long.',
};

function nullable(schema: Json): Json {
  const type = schema.type;
  if (Array.isArray(type)) return { ...schema, type: [...(type as string[]), 'null'] };
  if (typeof type === 'string') {
    const out: Json = { ...schema, type: [type, 'null'] };
    if (Array.isArray(schema.enum)) out.enum = [...(schema.enum as unknown[]), null];
    return out;
  }
  return { anyOf: [schema, { type: 'null' }] };
}

function componentName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

/** Builds the OpenAPI documents of a model's REST services. */
export class OpenApiGenerator {
  constructor(
    private readonly model: CompiledModel,
    private readonly members: ModelMembers,
  ) {}

  /** The schema of a value of a type in JSON bodies (REST dialect). */
  valueSchema(type: MxType, schemas: Map<string, Json>): Json {
    switch (type.kind) {
      case 'String':
        return { type: 'string' };
      case 'Integer':
      case 'Long':
        return { ...INT64 };
      case 'Decimal':
        return { ...DECIMAL };
      case 'Boolean':
        return { type: 'boolean' };
      case 'DateTime':
        return { type: 'string', format: 'date-time' };
      case 'Enumeration':
        return {
          type: 'string',
          enum: this.model.enumerations.get(type.enumeration)?.values.map((v) => v.key) ?? [],
        };
      case 'Binary':
        return { type: 'string', contentEncoding: 'base64' };
      case 'Object':
        return { $ref: this.entitySchema(type.entity, schemas) };
      case 'List':
        return { type: 'array', items: { $ref: this.entitySchema(type.entity, schemas) } };
      case 'Empty':
      case 'Void':
        return { type: 'null' };
    }
  }

  /** The schema of a path, query or header parameter (always text on the wire). */
  private parameterSchema(type: MxType): Json {
    switch (type.kind) {
      case 'Integer':
      case 'Long':
        return { type: 'integer', format: 'int64' };
      case 'DateTime':
        return { type: 'string', format: 'date-time' };
      default:
        return this.valueSchema(type, new Map());
    }
  }

  /** Adds the schema of an entity with every member (as microflows take and answer it); returns its $ref. */
  private entitySchema(entity: string, schemas: Map<string, Json>): string {
    const name = componentName(entity);
    const ref = `#/components/schemas/${name}`;
    if (schemas.has(name)) return ref;
    schemas.set(name, {}); // placeholder: entities may refer to each other
    const e = this.model.entities.get(entity);
    const properties: Json = {
      id: { type: 'string', readOnly: true, description: 'The object’s id; ignored in request bodies.' },
    };
    for (const attribute of e?.allAttributes.values() ?? []) {
      if (attribute.kind === 'HashedString') continue;
      properties[attribute.name] = {
        ...nullable(this.valueSchema(attribute.type, schemas)),
        ...(attribute.maxLength !== null && attribute.kind === 'String'
          ? { maxLength: attribute.maxLength }
          : {}),
        ...(attribute.documentation !== '' ? { description: attribute.documentation } : {}),
      };
    }
    const lineage = [entity, ...(e?.generalizations ?? [])];
    for (const association of this.model.associations.values()) {
      const info = this.members.member(entity, association.name);
      if (info === undefined || info.kind === 'attribute') continue;
      properties[association.name] =
        info.kind === 'referenceSet'
          ? { type: 'array', items: { type: 'string' }, description: `Ids of ${info.entity} objects.` }
          : { type: ['string', 'null'], description: `Id of a ${info.entity} object.` };
    }
    for (const system of ['System.owner', 'System.changedBy']) {
      if (this.members.member(entity, system) !== undefined) {
        properties[system] = {
          type: ['string', 'null'],
          readOnly: true,
          description: 'Id of a System.User object.',
        };
      }
    }
    schemas.set(name, {
      type: 'object',
      description:
        `${entity}${e?.documentation ? `: ${e.documentation}` : ''}. Members the user may not read are left out.` +
        (lineage.length > 1 ? ` Specialises ${lineage.slice(1).join(', ')}.` : ''),
      properties,
      additionalProperties: false,
    });
    return ref;
  }

  /** Adds the schema of an entity resource's exposed members; returns its $ref. */
  private resourceSchema(
    entity: string,
    resource: string,
    exposed: readonly string[],
    schemas: Map<string, Json>,
  ): string {
    const name = componentName(`${resource}.item`);
    const ref = `#/components/schemas/${name}`;
    if (schemas.has(name)) return ref;
    const properties: Json = { id: { type: 'string', readOnly: true, description: 'The object’s id.' } };
    for (const member of exposed) {
      const info = this.members.member(entity, member);
      if (info?.kind !== 'attribute') continue;
      properties[member] = {
        ...nullable(this.valueSchema(info.type, schemas)),
        ...(info.attribute.maxLength !== null && info.attribute.kind === 'String'
          ? { maxLength: info.attribute.maxLength }
          : {}),
      };
    }
    schemas.set(name, {
      type: 'object',
      description: `${entity} as the ${resource} resource exposes it. Members the user may not read are left out.`,
      properties,
      additionalProperties: false,
    });
    return ref;
  }

  private security(service: RestService, method: string): Json[] {
    if (service.authentication.includes('none')) return [];
    const safe = method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
    const out: Json[] = [];
    if (service.authentication.includes('basic')) out.push({ basicAuth: [] });
    if (service.authentication.includes('session')) {
      out.push(safe ? { sessionCookie: [] } : { sessionCookie: [], csrfToken: [] });
    }
    const anonymous = this.model.security.anonymous;
    if (service.authentication.includes('basic') && anonymous.enabled) {
      const roles = this.model.security.userRoles.get(anonymous.userRole)?.moduleRoles ?? [];
      if (service.allowedRoles.some((r) => roles.includes(r))) out.push({});
    }
    return out;
  }

  private errors(codes: readonly string[]): Json {
    const out: Json = {};
    for (const code of codes) out[code] = { $ref: `#/components/responses/E${code}` };
    return out;
  }

  private operation(
    service: RestService,
    op: RestOperation,
    schemas: Map<string, Json>,
    operationId: string,
  ): Json {
    const authenticated = !service.authentication.includes('none');
    const common = [
      '400',
      ...(authenticated ? ['401', '403'] : []),
      '500',
      '503',
      '504',
      ...(service.authentication.includes('basic') ? ['429'] : []),
    ];
    const parameters: Json[] = [];
    let requestBody: Json | undefined;
    let responses: Json;
    const target = op.target;
    const tag = op.path.split('/')[0] ?? op.path;
    if (target.kind === 'microflow') {
      for (const p of target.parameters) {
        if (p.source === 'path' || p.source === 'query' || p.source === 'header') {
          parameters.push({
            name: p.key,
            in: p.source,
            required: p.source === 'path' ? true : p.required,
            schema: this.parameterSchema(p.type),
          });
        } else if (p.source === 'body') {
          requestBody = {
            required: p.required,
            content: { 'application/json': { schema: this.valueSchema(p.type, schemas) } },
          };
        }
      }
      const returnType = this.model.microflows.get(target.microflow)?.returnType ?? { kind: 'Void' };
      const unsupported = target.parameters.some((p) => p.source === 'request' || p.source === 'response');
      const get = op.method === 'GET' || op.method === 'HEAD';
      if (returnType.kind === 'Void') {
        responses = { '204': { description: 'Done; no content.' } };
      } else if (returnType.kind === 'Object') {
        const ok = op.method === 'POST' ? '201' : '200';
        responses = {
          [ok]: {
            description: 'The object the microflow returned.',
            content: { 'application/json': { schema: this.valueSchema(returnType, schemas) } },
          },
          ...(get ? {} : { '204': { description: 'The microflow returned no object.' } }),
        };
      } else {
        responses = {
          '200': {
            description: 'The microflow’s result.',
            content: { 'application/json': { schema: nullable(this.valueSchema(returnType, schemas)) } },
          },
        };
      }
      responses = { ...responses, ...this.errors([...common, '404', '409', '413', '422']) };
      return {
        operationId,
        tags: [tag],
        summary: op.summary !== '' ? op.summary : `Runs ${target.microflow}`,
        description:
          `Runs microflow ${target.microflow}.` +
          (unsupported
            ? ' It takes the HTTP request or response object, which this runtime does not pass yet: calls answer 500 OPERATION_UNSUPPORTED.'
            : ''),
        ...(parameters.length > 0 ? { parameters } : {}),
        ...(requestBody === undefined ? {} : { requestBody }),
        responses,
        security: this.security(service, op.method),
      };
    }
    const item = { $ref: this.resourceSchema(target.entity, tag, target.members, schemas) };
    const keyName = target.key ?? 'id';
    const keyParameter = {
      name: keyName,
      in: 'path',
      required: true,
      schema:
        target.key === undefined
          ? { type: 'string' }
          : this.parameterSchema(this.members.member(target.entity, target.key)?.type ?? { kind: 'String' }),
      description: target.key === undefined ? 'The object’s id.' : `The ${target.key} of the object.`,
    };
    const body = { required: true, content: { 'application/json': { schema: item } } };
    switch (target.action) {
      case 'list':
        parameters.push(
          {
            name: 'offset',
            in: 'query',
            schema: { type: 'integer', minimum: 0, default: 0 },
            description: 'How many objects to skip.',
          },
          {
            name: 'limit',
            in: 'query',
            schema: { type: 'integer', minimum: 1, maximum: target.maxPageSize, default: target.pageSize },
            description: 'Most objects to answer.',
          },
          {
            name: 'sort',
            in: 'query',
            schema: { type: 'string' },
            description: `Comma-separated attributes to sort by, a leading - for descending: ${target.sortable.join(', ') || '(none)'}. Ties are broken by id.`,
          },
          {
            name: 'count',
            in: 'query',
            schema: { type: 'boolean', default: false },
            description: 'Also answer `total`, the number of matching objects.',
          },
          ...target.filterable.map((name) => ({
            name,
            in: 'query',
            schema: this.parameterSchema(
              this.members.member(target.entity, name)?.type ?? { kind: 'String' },
            ),
            description: `Only objects whose ${name} equals this value.`,
          })),
        );
        responses = {
          '200': {
            description: 'A page of objects, as the user may see them.',
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['items', 'offset', 'limit'],
                  properties: {
                    items: { type: 'array', items: item },
                    offset: { type: 'integer' },
                    limit: { type: 'integer' },
                    total: { type: 'integer', description: 'With count=true: how many objects match.' },
                  },
                },
              },
            },
          },
          ...this.errors(common),
        };
        break;
      case 'get':
        parameters.push(keyParameter);
        responses = {
          '200': { description: 'The object.', content: { 'application/json': { schema: item } } },
          ...this.errors([...common, '404']),
        };
        break;
      case 'create':
        requestBody = body;
        responses = {
          '201': {
            description: 'The stored object.',
            headers: { Location: { description: 'The object’s URL.', schema: { type: 'string' } } },
            content: { 'application/json': { schema: item } },
          },
          ...this.errors([...common, '409', '413', '422']),
        };
        break;
      case 'update':
        parameters.push(keyParameter);
        requestBody = { ...body, description: 'The members to change.' };
        responses = {
          '200': { description: 'The stored object.', content: { 'application/json': { schema: item } } },
          ...this.errors([...common, '404', '409', '413', '422']),
        };
        break;
      case 'delete':
        parameters.push(keyParameter);
        responses = { '204': { description: 'Deleted.' }, ...this.errors([...common, '404', '409']) };
        break;
    }
    return {
      operationId,
      tags: [tag],
      summary: op.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestBody === undefined ? {} : { requestBody }),
      responses,
      security: this.security(service, op.method),
    };
  }

  /** The OpenAPI 3.1 document of a service. */
  document(service: RestService): Json {
    const schemas = new Map<string, Json>();
    const paths: Record<string, Json> = {};
    const usedIds = new Set<string>();
    for (const op of service.operations) {
      let operationId = op.name;
      for (let n = 2; usedIds.has(operationId); n++) operationId = `${op.name}${n}`;
      usedIds.add(operationId);
      const path = `/${op.path}`;
      paths[path] = {
        ...(paths[path] ?? {}),
        [op.method.toLowerCase()]: this.operation(service, op, schemas, operationId),
      };
    }
    const responses: Json = {};
    for (const [code, description] of Object.entries(ERROR_RESPONSES)) {
      responses[`E${code}`] = {
        description,
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    const securitySchemes: Json = {};
    if (service.authentication.includes('basic')) {
      securitySchemes.basicAuth = {
        type: 'http',
        scheme: 'basic',
        description: 'A user name and password of the app’s users (web-service users cannot call REST).',
      };
    }
    if (service.authentication.includes('session')) {
      securitySchemes.sessionCookie = {
        type: 'apiKey',
        in: 'cookie',
        name: SESSION_COOKIE,
        description: 'The session of a user signed in to the app (POST /xas/ login).',
      };
      securitySchemes.csrfToken = {
        type: 'apiKey',
        in: 'header',
        name: 'X-Csrf-Token',
        description:
          'The session’s CSRF token, needed with the session cookie for POST, PUT, PATCH and DELETE.',
      };
    }
    const roles =
      service.allowedRoles.length > 0 ? ` Allowed module roles: ${service.allowedRoles.join(', ')}.` : '';
    return {
      openapi: '3.1.0',
      info: {
        title: service.shortName,
        version: service.version,
        description: `${service.description || service.documentation || service.name}${roles}`,
      },
      servers: [{ url: `/${service.location}` }],
      paths,
      components: {
        schemas: {
          Error: {
            type: 'object',
            required: ['code', 'message', 'details'],
            properties: {
              code: {
                type: 'string',
                description: 'Stable SCREAMING_SNAKE code; branch on it, never on the message.',
              },
              message: { type: 'string' },
              details: { type: 'object' },
            },
          },
          ...Object.fromEntries([...schemas.entries()].sort(([a], [b]) => a.localeCompare(b))),
        },
        responses,
        ...(Object.keys(securitySchemes).length > 0 ? { securitySchemes } : {}),
      },
      security: this.security(service, 'POST'),
      'x-runplane-service': service.name,
    };
  }
}
