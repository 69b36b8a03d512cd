/**
 * Call REST service: method, URL template, headers, body, timeout, basic authentication; the
 * response as nothing, a string, a `System.HttpResponse`, or JSON mapped to objects. A status
 * outside 2xx is an error (its status and body in the details, `$latestHttpResponse` set for
 * the error flow); so is a timeout, which names the URL without its query or credentials.
 */
import { context as otelContext, propagation } from '@opentelemetry/api';
import { ErrorKind, ErrorStatus } from '@runplane/errors';
import { Decimal, toStringValue, type MxValue } from '@runplane/expressions';
import type { Attribute, CompiledModel } from '@runplane/model';
import type { MxObject, UnitOfWork } from '@runplane/persistence';
import { engineError, MicroflowErrorCode } from '../errors.js';
import { evaluateAll, evaluator, templateRenderer } from '../runtime/evaluate.js';
import type { Frame } from '../runtime/state.js';
import type { NodeBuilder, NodeOf } from './context.js';

/** Longest response body kept in an error's details. */
const MAX_ERROR_BODY_CHARS = 2_000;

/** The URL as errors and spans show it: scheme, host and path; no credentials, no query. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  } catch {
    return '(an invalid URL)';
  }
}

type RestNode = NodeOf<'callRest'>;

export const callRestNode: NodeBuilder<'callRest'> = (node, step, ctx) => {
  const url = templateRenderer(node.url);
  const headerNames = [...node.headers.keys()];
  const headerValues = [...node.headers.values()].map(evaluator);
  const body = node.body === undefined ? undefined : evaluator(node.body);
  const username = node.auth === undefined ? undefined : evaluator(node.auth.username);
  const password = node.auth === undefined ? undefined : evaluator(node.auth.password);
  const mapping = responseMapping(node, ctx.model);
  return async (frame) => {
    const target = await url(frame);
    const headers: Record<string, string> = {};
    const values = await evaluateAll(headerValues, frame);
    headerNames.forEach((name, i) => {
      const value = values[i];
      if (value !== null && value !== undefined) headers[name] = toStringValue(value);
    });
    if (username !== undefined && password !== undefined) {
      const user = toStringValue(await username(frame));
      const secret = toStringValue(await password(frame));
      headers['Authorization'] = `Basic ${Buffer.from(`${user}:${secret}`, 'utf8').toString('base64')}`;
    }
    propagation.inject(otelContext.active(), headers);
    const payload = body === undefined ? undefined : ((await body(frame)) as string | null);
    frame.vars.set('latestHttpResponse', null);
    const shown = displayUrl(target);
    let response: Response;
    try {
      response = await frame.run.engine.fetch(target, {
        method: node.method,
        headers,
        ...(payload === undefined || payload === null ? {} : { body: payload }),
        signal: AbortSignal.timeout(node.timeoutMs),
      });
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === 'TimeoutError';
      throw engineError(
        timedOut ? MicroflowErrorCode.RestTimeout : MicroflowErrorCode.RestUnreachable,
        timedOut
          ? `The REST call ${node.method} ${shown} got no response within ${node.timeoutMs} ms.`
          : `The REST call ${node.method} ${shown} could not reach the server.`,
        {
          kind: ErrorKind.Operational,
          status: timedOut ? ErrorStatus.Timeout : ErrorStatus.Unavailable,
          details: { method: node.method, url: shown, timeoutMs: node.timeoutMs },
          cause: timedOut ? undefined : error,
        },
      );
    }
    const text = node.method === 'HEAD' ? '' : await response.text();
    const httpResponse = await httpResponseObject(frame.run.systemUow, response, text);
    frame.vars.set('latestHttpResponse', httpResponse);
    if (!response.ok) {
      throw engineError(
        MicroflowErrorCode.RestStatus,
        `The REST call ${node.method} ${shown} failed with status ${response.status} ${response.statusText}.`,
        {
          kind: ErrorKind.Operational,
          status: ErrorStatus.Unavailable,
          details: {
            method: node.method,
            url: shown,
            statusCode: response.status,
            body: text.length > MAX_ERROR_BODY_CHARS ? `${text.slice(0, MAX_ERROR_BODY_CHARS)}…` : text,
          },
        },
      );
    }
    if (node.output !== undefined) {
      frame.vars.set(node.output, await mapping(frame, text, httpResponse, shown));
    }
    return step.next;
  };
};

/** A `System.HttpResponse` with its headers as `System.HttpHeader` objects. */
async function httpResponseObject(uow: UnitOfWork, response: Response, text: string): Promise<MxObject> {
  const object = await uow.instantiate('System.HttpResponse');
  object.set('StatusCode', BigInt(response.status));
  object.set('ReasonPhrase', response.statusText);
  object.set('HttpVersion', 'HTTP/1.1');
  object.set('Content', text);
  for (const [key, value] of response.headers) {
    const header = await uow.instantiate('System.HttpHeader');
    header.set('Key', key);
    header.set('Value', value);
    header.setReference('System.HttpHeaders', object.id);
  }
  return object;
}

type Mapping = (frame: Frame, text: string, response: MxObject, url: string) => MxValue | Promise<MxValue>;

function responseMapping(node: RestNode, model: CompiledModel): Mapping {
  const response = node.response;
  switch (response.as) {
    case 'none':
      return () => null;
    case 'string':
      return (_frame, text) => text;
    case 'httpResponse':
      return (_frame, _text, object) => object;
    case 'object':
    case 'list': {
      const entity = model.entities.get(response.entity);
      const members = [...response.members].map(([attribute, field]) => ({
        attribute,
        field,
        info: entity?.allAttributes.get(attribute),
      }));
      const single = response.as === 'object';
      return async (frame, text, _object, url) => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch (error) {
          throw mappingError(url, 'the response is not JSON', error);
        }
        const items: unknown[] = Array.isArray(json) ? json : [json];
        const objects: MxObject[] = [];
        for (const item of single ? items.slice(0, 1) : items) {
          if (typeof item !== 'object' || item === null || Array.isArray(item)) {
            throw mappingError(url, `expected a JSON object for ${response.entity}`);
          }
          const object = await frame.uow.instantiate(response.entity);
          for (const member of members) {
            const raw = (item as Record<string, unknown>)[member.field];
            if (raw === undefined || member.info === undefined) continue;
            object.set(member.attribute, jsonToValue(raw, member.info, url, member.field));
          }
          objects.push(object);
        }
        return single ? (objects[0] ?? null) : objects;
      };
    }
  }
}

function mappingError(url: string, why: string, cause?: unknown): Error {
  return engineError(
    MicroflowErrorCode.RestResponseInvalid,
    `The response of ${url} cannot be mapped: ${why}.`,
    {
      kind: ErrorKind.Operational,
      status: ErrorStatus.Unavailable,
      details: { url },
      cause,
    },
  );
}

/** A JSON value as the attribute's type holds it. */
function jsonToValue(raw: unknown, attribute: Attribute, url: string, field: string): MxValue {
  if (raw === null) return null;
  const bad = (): Error =>
    mappingError(url, `field '${field}' does not fit ${attribute.kind} attribute ${attribute.name}`);
  switch (attribute.kind) {
    case 'String':
    case 'HashedString':
      if (typeof raw === 'string') return raw;
      if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
      throw bad();
    case 'Enumeration':
      if (typeof raw !== 'string') throw bad();
      return raw;
    case 'Integer':
    case 'Long':
    case 'AutoNumber': {
      if (typeof raw === 'number' && Number.isInteger(raw)) return BigInt(raw);
      if (typeof raw === 'string' && /^-?\d+$/.test(raw.trim())) return BigInt(raw.trim());
      throw bad();
    }
    case 'Decimal':
      if (
        typeof raw === 'number' ||
        (typeof raw === 'string' && raw.trim() !== '' && !Number.isNaN(Number(raw)))
      ) {
        return new Decimal(String(raw).trim());
      }
      throw bad();
    case 'Boolean':
      if (typeof raw === 'boolean') return raw;
      if (raw === 'true' || raw === 'false') return raw === 'true';
      throw bad();
    case 'DateTime': {
      const date =
        typeof raw === 'number' ? new Date(raw) : typeof raw === 'string' ? new Date(raw) : undefined;
      if (date === undefined || Number.isNaN(date.getTime())) throw bad();
      return date;
    }
    case 'Binary':
      if (typeof raw !== 'string') throw bad();
      return new Uint8Array(Buffer.from(raw, 'base64'));
  }
}
