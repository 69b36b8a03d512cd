/** Constants, task queues, scheduled events and published REST services. */
import { ModelErrorCode } from '../errors.js';
import type { MxType } from '../languages.js';
import type {
  Interval,
  NthWeekday,
  RestOperation,
  RestParameter,
  ScheduledEvent,
  TimeOfDay,
  Weekday,
} from '../compiled/types.js';
import type { RawInterval, RawRestOperation, RawRestResource } from '../raw.js';
import { at, elementSource, modelPath, type Loc } from './diagnostics.js';
import { entries, type Context, type Elem } from './context.js';
import { parseCron } from './cron.js';
import { didYouMean } from './spelling.js';
import { readLiteral } from './values.js';

/** Constants: their types and values. */
export function compileConstants(ctx: Context): void {
  for (const elem of ctx.elements.constants.values()) {
    const raw = elem.raw;
    const type: MxType = { kind: raw.type };
    const read = readLiteral(raw.type, raw.value, elem.loc.file.scalarSource([...elem.loc.path, 'value']));
    if (!read.ok) {
      ctx.diag.error(at(elem.loc, 'value'), ModelErrorCode.InvalidValue, read.message, read.hint);
      continue;
    }
    if (read.currentDateTime === true) {
      ctx.diag.error(
        at(elem.loc, 'value'),
        ModelErrorCode.InvalidValue,
        'A constant has a fixed value, not [%CurrentDateTime%].',
        'Give a date and time.',
      );
      continue;
    }
    ctx.constants.set(elem.qname, {
      name: elem.qname,
      module: elem.module,
      shortName: elem.name,
      documentation: raw.documentation ?? '',
      source: elementSource(elem.loc),
      type,
      value: read.value,
      exposedToClient: raw.exposedToClient ?? false,
    });
  }
}

/** The types of constants, known before their values are read. */
export function constantTypes(ctx: Context): Map<string, MxType> {
  return new Map([...ctx.elements.constants.values()].map((elem) => [elem.qname, { kind: elem.raw.type }]));
}

/** Task queues. */
export function compileTaskQueues(ctx: Context): void {
  for (const elem of ctx.elements.taskQueues.values()) {
    const raw = elem.raw;
    const retry = raw.retry;
    if (retry?.maxIntervalMs !== undefined && retry.maxIntervalMs < retry.intervalMs) {
      ctx.diag.error(
        at(elem.loc, 'retry', 'maxIntervalMs'),
        ModelErrorCode.InvalidValue,
        'maxIntervalMs is smaller than intervalMs.',
        'Raise it, or leave it out.',
      );
    }
    if (retry !== undefined && (raw.maxRetries ?? 0) === 0) {
      ctx.diag.error(
        at(elem.loc, 'retry'),
        ModelErrorCode.InvalidValue,
        'A retry policy without retries: maxRetries is 0.',
        'Set maxRetries, or remove retry.',
        'key',
      );
    }
    ctx.taskQueues.set(elem.qname, {
      name: elem.qname,
      module: elem.module,
      shortName: elem.name,
      documentation: raw.documentation ?? '',
      source: elementSource(elem.loc),
      threads: raw.threads ?? 1,
      scope: raw.scope ?? 'node',
      maxRetries: raw.maxRetries ?? 0,
      retry: {
        backoff: retry?.backoff ?? 'fixed',
        intervalMs: retry?.intervalMs ?? 60_000,
        maxIntervalMs: retry?.maxIntervalMs ?? retry?.intervalMs ?? 60_000,
      },
    });
  }
}

function parseTime(text: string | undefined): TimeOfDay {
  const [hour = 0, minute = 0] = (text ?? '00:00').split(':').map(Number);
  return { hour, minute };
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function compileInterval(ctx: Context, raw: RawInterval, loc: Loc): Interval | undefined {
  const fail = (key: string, message: string, hint: string): Interval | undefined => {
    ctx.diag.error(at(loc, key), ModelErrorCode.InvalidSchedule, message, hint);
    return undefined;
  };
  const dayOrWeekday = (): { day: number } | { weekday: NthWeekday } | undefined => {
    if ((raw.day === undefined) === (raw.weekday === undefined)) {
      ctx.diag.error(
        loc,
        ModelErrorCode.InvalidSchedule,
        `A ${raw.type} interval runs on a day of the month or on an nth weekday: give day or weekday.`,
        'E.g. day: 1, or weekday: { week: first, day: Monday }.',
        'key',
      );
      return undefined;
    }
    return raw.day !== undefined
      ? { day: raw.day }
      : raw.weekday === undefined
        ? undefined
        : { weekday: raw.weekday };
  };
  switch (raw.type) {
    case 'Minutes': {
      const every = raw.every ?? 1;
      if (60 % every !== 0)
        return fail(
          'every',
          `Every ${every} minutes does not divide the hour.`,
          'Use a divisor of 60: 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60.',
        );
      const offset = raw.offset ?? 0;
      if (offset >= every && every !== 60)
        return fail(
          'offset',
          `The offset ${offset} is not below the interval of ${every} minutes.`,
          `Use 0 to ${every - 1}.`,
        );
      return { type: 'Minutes', every, offset };
    }
    case 'Hourly': {
      const every = raw.every ?? 1;
      if (24 % every !== 0)
        return fail(
          'every',
          `Every ${every} hours does not divide the day.`,
          'Use a divisor of 24: 1, 2, 3, 4, 6, 8, 12 or 24.',
        );
      return { type: 'Hourly', every, minute: raw.minute ?? 0 };
    }
    case 'Daily':
      return { type: 'Daily', time: parseTime(raw.time) };
    case 'Weekly': {
      const days = [...new Set(raw.days ?? [])] as Weekday[];
      return { type: 'Weekly', days, time: parseTime(raw.time) };
    }
    case 'Monthly': {
      const every = raw.every ?? 1;
      if (12 % every !== 0)
        return fail('every', `Every ${every} months does not divide the year.`, 'Use 1, 2, 3, 4, 6 or 12.');
      const on = dayOrWeekday();
      return on === undefined ? undefined : { type: 'Monthly', every, on, time: parseTime(raw.time) };
    }
    case 'Yearly': {
      const month = raw.month ?? 1;
      const on = dayOrWeekday();
      if (on === undefined) return undefined;
      if ('day' in on && on.day > (DAYS_IN_MONTH[month - 1] ?? 31)) {
        return fail('day', `Month ${month} has no day ${on.day}.`, 'Choose a day that exists.');
      }
      return { type: 'Yearly', month, on, time: parseTime(raw.time) };
    }
  }
}

/** Scheduled events. */
export function compileScheduledEvents(ctx: Context): void {
  for (const elem of ctx.elements.scheduledEvents.values()) {
    const raw = elem.raw;
    const microflow = ctx.resolve('microflows', raw.microflow, elem.module, at(elem.loc, 'microflow'));
    const signature = microflow === undefined ? undefined : ctx.microflowSignatures.get(microflow);
    let ok = microflow !== undefined;
    if (signature !== undefined && signature.parameters.length > 0) {
      ok = false;
      ctx.diag.error(
        at(elem.loc, 'microflow'),
        ModelErrorCode.InvalidArguments,
        `Scheduled microflow ${microflow ?? ''} must have no parameters.`,
        'A scheduled event passes nothing; retrieve what it needs inside.',
      );
    }
    if ((raw.interval === undefined) === (raw.cron === undefined)) {
      ctx.diag.error(
        elem.loc,
        ModelErrorCode.InvalidSchedule,
        'A scheduled event needs either an interval or a cron expression.',
        'Give exactly one of interval and cron.',
        'key',
      );
      continue;
    }
    let schedule: ScheduledEvent['schedule'] | undefined;
    if (raw.interval !== undefined) {
      const interval = compileInterval(ctx, raw.interval, at(elem.loc, 'interval'));
      if (interval !== undefined) schedule = { kind: 'interval', interval };
    } else if (raw.cron !== undefined) {
      const parsed = parseCron(raw.cron);
      if (parsed.ok) {
        schedule = { kind: 'cron', cron: parsed.schedule };
      } else {
        const cronLoc = at(elem.loc, 'cron');
        const position = cronLoc.file.positionInScalar(cronLoc.path, parsed.problem.offset);
        ctx.diag.errors.push({
          code: ModelErrorCode.InvalidSchedule,
          file: cronLoc.file.path,
          line: position.line,
          column: position.column,
          path: modelPath(cronLoc),
          message: parsed.problem.message,
          hint: "E.g. '0 2 * * *' runs at 02:00 every day.",
        });
      }
    }
    if (!ok || schedule === undefined || microflow === undefined) continue;
    ctx.scheduledEvents.set(elem.qname, {
      name: elem.qname,
      module: elem.module,
      shortName: elem.name,
      documentation: raw.documentation ?? '',
      source: elementSource(elem.loc),
      id: raw.id ?? `${ctx.modules.get(elem.module)?.id ?? elem.module}.${elem.name}`,
      microflow,
      enabled: raw.enabled ?? true,
      schedule,
      timeZone: raw.timeZone ?? 'UTC',
      overlap: raw.overlap ?? 'skip',
    });
  }
}

/** Location prefixes the runtime itself serves. */
const RESERVED_LOCATIONS = ['api-doc', 'rest-doc', 'odata-doc', 'ws-doc', 'xas', 'p', 'reload', 'file', 'ws'];

function pathParameters(template: string): string[] {
  return [...template.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1] ?? '');
}

const PRIMITIVE_PARAMETER_KINDS = new Set([
  'String',
  'Integer',
  'Long',
  'Decimal',
  'Boolean',
  'DateTime',
  'Enumeration',
]);

/** Published REST services. */
export function compileRestServices(ctx: Context): void {
  const locations = new Map<string, Loc>();
  for (const elem of ctx.elements.restServices.values()) {
    const raw = elem.raw;
    const errorsBefore = ctx.diag.count;
    const location = (raw.location ?? `rest/${elem.name.toLowerCase()}/v1`).replace(/^\/+|\/+$/g, '');
    const locationLoc = raw.location === undefined ? elem.loc : at(elem.loc, 'location');
    const firstSegment = location.split('/')[0] ?? '';
    if (location === '' || RESERVED_LOCATIONS.includes(firstSegment)) {
      ctx.diag.error(
        locationLoc,
        ModelErrorCode.InvalidRest,
        `Location '${location}' is ${location === '' ? 'empty' : `under /${firstSegment}/, which the runtime serves itself`}.`,
        'Use a path like rest/<service>/v1.',
        raw.location === undefined ? 'key' : 'value',
      );
    } else if (!/^[A-Za-z0-9_.~\-/{}]+$/.test(location) || location.includes('{')) {
      ctx.diag.error(
        locationLoc,
        ModelErrorCode.InvalidRest,
        `Location '${location}' is not a plain URL path.`,
        'Use letters, digits, - _ . ~ and /.',
      );
    }
    const previous = locations.get(location);
    if (previous !== undefined) {
      ctx.diag.error(
        locationLoc,
        ModelErrorCode.InvalidRest,
        `Another REST service is already at '${location}' (${modelPath(previous)}).`,
        'Give each service its own location.',
        raw.location === undefined ? 'key' : 'value',
      );
    }
    locations.set(location, locationLoc);
    const authentication = [...new Set<'none' | 'basic' | 'session'>(raw.authentication ?? ['none'])];
    if (authentication.includes('none') && authentication.length > 1) {
      ctx.diag.error(
        at(elem.loc, 'authentication'),
        ModelErrorCode.InvalidRest,
        "'none' cannot be combined with other authentication methods.",
        "Remove 'none', or keep only it.",
      );
    }
    const allowedRoles = ctx.resolveModuleRoles(raw.allowedRoles, elem.module, at(elem.loc, 'allowedRoles'));
    if (authentication.includes('none') && allowedRoles.length > 0) {
      ctx.diag.error(
        at(elem.loc, 'allowedRoles'),
        ModelErrorCode.InvalidRest,
        'Allowed roles need authentication: without it there is no user whose roles to check.',
        'Add basic or session authentication, or remove allowedRoles.',
        'key',
      );
    }
    if (!authentication.includes('none') && allowedRoles.length === 0) {
      ctx.diag.error(
        at(elem.loc, 'authentication'),
        ModelErrorCode.InvalidRest,
        'With authentication on, give the module roles that may call the service.',
        'Add allowedRoles.',
        'key',
      );
    }
    const operations: RestOperation[] = [];
    const seen = new Map<string, string>();
    for (const [resourceName, resource] of entries(raw.resources)) {
      const resourceLoc = at(elem.loc, 'resources', resourceName);
      const compiled =
        resource.entity !== undefined
          ? compileCrudResource(ctx, elem, resourceName, resource, resourceLoc)
          : compileMicroflowResource(ctx, elem, resourceName, resource, resourceLoc);
      for (const [operation, loc] of compiled) {
        const key = `${operation.method} ${operation.path.replace(/\{[^{}]*\}/g, '{}')}`;
        const clash = seen.get(key);
        if (clash !== undefined) {
          ctx.diag.error(
            loc,
            ModelErrorCode.InvalidRest,
            `${operation.method} ${operation.path} is also served by operation '${clash}'.`,
            'Each method and path may be served once per service.',
            'key',
          );
          continue;
        }
        seen.set(key, operation.name);
        operations.push(operation);
      }
    }
    if (ctx.diag.count !== errorsBefore) continue;
    ctx.restServices.set(elem.qname, {
      name: elem.qname,
      module: elem.module,
      shortName: elem.name,
      documentation: raw.documentation ?? '',
      source: elementSource(elem.loc),
      id: raw.id ?? `${ctx.modules.get(elem.module)?.id ?? elem.module}.${elem.name}`,
      location,
      version: raw.version ?? '1.0.0',
      description: raw.description ?? '',
      authentication,
      allowedRoles,
      operations,
    });
  }
}

function compileMicroflowResource(
  ctx: Context,
  elem: Elem<{ resources: unknown }>,
  resourceName: string,
  resource: RawRestResource,
  loc: Loc,
): [RestOperation, Loc][] {
  const result: [RestOperation, Loc][] = [];
  for (const [name, raw] of entries<RawRestOperation>(resource.operations)) {
    const opLoc = at(loc, 'operations', name);
    const subPath = (raw.path ?? '').replace(/^\/+|\/+$/g, '');
    const path = subPath === '' ? resourceName : `${resourceName}/${subPath}`;
    const templateParams = pathParameters(path);
    const badParam = templateParams.find((p) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(p));
    if (badParam !== undefined) {
      ctx.diag.error(
        at(opLoc, 'path'),
        ModelErrorCode.InvalidRest,
        `Path parameter '{${badParam}}' is not a name.`,
        'Use {name} with letters, digits and underscores.',
      );
      continue;
    }
    const microflow = ctx.resolve('microflows', raw.microflow, elem.module, at(opLoc, 'microflow'));
    const signature = microflow === undefined ? undefined : ctx.microflowSignatures.get(microflow);
    if (microflow === undefined || signature === undefined) continue;
    const explicit = new Map(
      entries(raw.parameters).map(
        ([p, source]) => [p, typeof source === 'string' ? { source } : source] as const,
      ),
    );
    let ok = true;
    for (const key of explicit.keys()) {
      if (!signature.parameters.some((p) => p.name === key)) {
        ok = false;
        ctx.diag.error(
          at(opLoc, 'parameters', key),
          ModelErrorCode.UnknownParameter,
          `Microflow ${microflow} has no parameter '${key}'.`,
          didYouMean(
            key,
            signature.parameters.map((p) => p.name),
          ),
          'key',
        );
      }
    }
    const parameters: RestParameter[] = [];
    const usedPathParams = new Set<string>();
    for (const parameter of signature.parameters) {
      const given = explicit.get(parameter.name);
      const paramLoc = given === undefined ? at(opLoc, 'microflow') : at(opLoc, 'parameters', parameter.name);
      const type = parameter.type;
      let source: RestParameter['source'];
      if (given !== undefined) source = given.source;
      else if (type.kind === 'Object' && type.entity === 'System.HttpRequest') source = 'request';
      else if (type.kind === 'Object' && type.entity === 'System.HttpResponse') source = 'response';
      else if (templateParams.includes(parameter.name)) source = 'path';
      else if (type.kind === 'Object' || type.kind === 'List') source = 'body';
      else source = 'query';
      const key = given?.name ?? parameter.name;
      if (
        (source === 'path' || source === 'query' || source === 'header') &&
        !PRIMITIVE_PARAMETER_KINDS.has(type.kind)
      ) {
        ok = false;
        ctx.diag.error(
          paramLoc,
          ModelErrorCode.InvalidRest,
          `Parameter '${parameter.name}' is ${type.kind === 'Object' || type.kind === 'List' ? 'an object' : type.kind}; a ${source} parameter must be a simple value.`,
          'Take objects from the body.',
        );
        continue;
      }
      if (source === 'path') {
        if (!templateParams.includes(key)) {
          ok = false;
          ctx.diag.error(
            paramLoc,
            ModelErrorCode.InvalidRest,
            `The path '${path}' has no {${key}}.`,
            `Add {${key}} to the path, or take '${parameter.name}' from the query.`,
          );
          continue;
        }
        usedPathParams.add(key);
      }
      if (source === 'body' && (raw.method === 'GET' || raw.method === 'HEAD' || raw.method === 'DELETE')) {
        ok = false;
        ctx.diag.error(
          paramLoc,
          ModelErrorCode.InvalidRest,
          `A ${raw.method} request has no body for parameter '${parameter.name}'.`,
          'Use POST, PUT or PATCH, or take the value from the path or query.',
        );
        continue;
      }
      parameters.push({
        parameter: parameter.name,
        type,
        source,
        key,
        required: source === 'path' ? true : (given?.required ?? false),
      });
    }
    if (parameters.filter((p) => p.source === 'body').length > 1) {
      ok = false;
      ctx.diag.error(
        at(opLoc, 'microflow'),
        ModelErrorCode.InvalidRest,
        `Microflow ${microflow} takes more than one parameter from the request body.`,
        'A request has one body; take the others from the path or query.',
      );
    }
    for (const p of templateParams) {
      if (!usedPathParams.has(p)) {
        ok = false;
        ctx.diag.error(
          at(opLoc, 'path'),
          ModelErrorCode.InvalidRest,
          `Path parameter {${p}} is not a parameter of microflow ${microflow}.`,
          `Add a parameter '${p}' to the microflow, or map one to it under parameters.`,
        );
      }
    }
    if (!ok) continue;
    result.push([
      {
        name,
        method: raw.method,
        path,
        pathParameters: templateParams,
        summary: raw.summary ?? '',
        target: { kind: 'microflow', microflow, parameters },
      },
      opLoc,
    ]);
  }
  return result;
}

const KEY_KINDS = new Set(['String', 'Integer', 'Long', 'AutoNumber', 'Enumeration']);

function compileCrudResource(
  ctx: Context,
  elem: Elem<{ resources: unknown }>,
  resourceName: string,
  resource: RawRestResource,
  loc: Loc,
): [RestOperation, Loc][] {
  const entityName = ctx.resolve('entities', resource.entity ?? '', elem.module, at(loc, 'entity'));
  const entity = entityName === undefined ? undefined : ctx.entities.get(entityName);
  if (entity === undefined) return [];
  let ok = true;
  if (!entity.persistable) {
    ctx.diag.error(
      at(loc, 'entity'),
      ModelErrorCode.InvalidRest,
      `${entity.name} is not persistable: there is nothing to list or store.`,
      'Publish a persistable entity, or map operations to microflows.',
    );
    return [];
  }
  const known = (name: string, where: Loc): boolean => {
    if (entity.allAttributes.has(name)) return true;
    ctx.diag.error(
      where,
      ModelErrorCode.UnknownAttribute,
      `Entity ${entity.name} has no attribute '${name}'.`,
      didYouMean(name, entity.allAttributes.keys()),
    );
    return false;
  };
  let key: string | undefined;
  if (resource.key !== undefined && known(resource.key, at(loc, 'key'))) {
    const attribute = entity.allAttributes.get(resource.key);
    const unique =
      attribute?.kind === 'AutoNumber' ||
      entity.validationRules.some((r) => r.rule === 'unique' && r.attribute === resource.key) ||
      [...ctx.entities.values()].some(
        (e) =>
          entity.generalizations.includes(e.name) &&
          e.validationRules.some((r) => r.rule === 'unique' && r.attribute === resource.key),
      );
    if (attribute !== undefined && !KEY_KINDS.has(attribute.kind)) {
      ok = false;
      ctx.diag.error(
        at(loc, 'key'),
        ModelErrorCode.InvalidRest,
        `${attribute.kind} attribute '${attribute.name}' cannot identify objects in a URL.`,
        'Use a String, Integer, Long, AutoNumber or Enumeration attribute.',
      );
    } else if (!unique) {
      ok = false;
      ctx.diag.error(
        at(loc, 'key'),
        ModelErrorCode.InvalidRest,
        `'${resource.key}' is not unique, so it cannot identify an object.`,
        `Add a unique validation rule for it on ${entity.name}, or use an AutoNumber.`,
      );
    } else {
      key = resource.key;
    }
  } else if (resource.key !== undefined) {
    ok = false;
  }
  const members: string[] = [];
  const memberNames =
    resource.members ??
    [...entity.allAttributes.values()]
      .filter((a) => a.kind !== 'HashedString' && a.kind !== 'Binary')
      .map((a) => a.name);
  memberNames.forEach((name, i) => {
    const where = resource.members === undefined ? at(loc, 'entity') : at(loc, 'members', i);
    if (!known(name, where)) {
      ok = false;
      return;
    }
    const kind = entity.allAttributes.get(name)?.kind;
    if (kind === 'HashedString' || kind === 'Binary') {
      ok = false;
      ctx.diag.error(
        where,
        ModelErrorCode.InvalidRest,
        `${kind} attribute '${name}' cannot be exposed.`,
        kind === 'Binary' ? 'Serve file contents through a microflow.' : 'Hashed values are never sent out.',
      );
      return;
    }
    members.push(name);
  });
  const subset = (field: 'sortable' | 'filterable'): string[] => {
    const names = resource[field] ?? [];
    return names.filter((name, i) => {
      const where = at(loc, field, i);
      if (!known(name, where)) {
        ok = false;
        return false;
      }
      if (!members.includes(name)) {
        ok = false;
        ctx.diag.error(
          where,
          ModelErrorCode.InvalidRest,
          `'${name}' is not among the exposed members.`,
          'Add it to members.',
        );
        return false;
      }
      if (entity.allAttributes.get(name)?.calculatedBy !== undefined) {
        ok = false;
        ctx.diag.error(
          where,
          ModelErrorCode.InvalidRest,
          `Calculated attribute '${name}' cannot be ${field === 'sortable' ? 'sorted' : 'filtered'} on.`,
          '',
        );
        return false;
      }
      return true;
    });
  };
  const sortable = subset('sortable');
  const filterable = subset('filterable');
  const pageSize = resource.pageSize ?? 20;
  const maxPageSize = resource.maxPageSize ?? Math.max(100, pageSize);
  if (pageSize > maxPageSize) {
    ok = false;
    ctx.diag.error(
      at(loc, 'pageSize'),
      ModelErrorCode.InvalidRest,
      `pageSize ${pageSize} is above maxPageSize ${maxPageSize}.`,
      'Lower pageSize or raise maxPageSize.',
    );
  }
  if (!ok) return [];
  const keyParam = key ?? 'id';
  const item = `${resourceName}/{${keyParam}}`;
  const routes = {
    list: ['GET', resourceName],
    get: ['GET', item],
    create: ['POST', resourceName],
    update: ['PATCH', item],
    delete: ['DELETE', item],
  } as const;
  const result: [RestOperation, Loc][] = [];
  const crud = [...new Set(resource.crud ?? [])];
  crud.forEach((action, i) => {
    const [method, path] = routes[action];
    result.push([
      {
        name: `${action}${resourceName.replace(/(^|[-_.~])(\w)/g, (_m, _s: string, c: string) => c.toUpperCase())}`,
        method,
        path,
        pathParameters: path === item ? [keyParam] : [],
        summary: `${action[0]?.toUpperCase() ?? ''}${action.slice(1)} ${entity.shortName} objects`,
        target: {
          kind: 'entity',
          action,
          entity: entity.name,
          key,
          members,
          pageSize,
          maxPageSize,
          sortable,
          filterable,
        },
      },
      at(loc, 'crud', i),
    ]);
  });
  return result;
}
