/**
 * `/api-doc`: the published REST services' documentation, as Mendix serves it — an index, the
 * OpenAPI 3.1 document of each service, and a readable HTML page per service rendered here
 * (self-contained: no scripts, no CDN, one inline style allowed by its hash).
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { CompiledModel, RestService } from '@runplane/model';
import type { Json } from './openapi.js';

/** Where the documentation is served. */
export const API_DOC_PATH = '/api-doc';

const STYLE = `
body{font:15px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
main{max-width:960px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:20px;margin:32px 0 8px;border-bottom:1px solid #d9dde3;padding-bottom:4px}
h3{font-size:16px;margin:0}p{margin:6px 0}a{color:#1b5fc1}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef0f3;padding:1px 4px;border-radius:3px}
.meta{color:#5a6372}.op{background:#fff;border:1px solid #d9dde3;border-radius:6px;margin:12px 0;padding:12px 16px}
.m{display:inline-block;min-width:64px;text-align:center;font:600 12px/22px ui-monospace,monospace;color:#fff;border-radius:4px;margin-right:8px}
.GET{background:#2f7d32}.POST{background:#1b5fc1}.PUT{background:#a35c00}.PATCH{background:#6d4aa8}.DELETE{background:#b3261e}.HEAD,.OPTIONS{background:#5a6372}
table{border-collapse:collapse;width:100%;margin:8px 0;font-size:14px}th,td{text-align:left;border-bottom:1px solid #e6e9ee;padding:4px 8px;vertical-align:top}
th{color:#5a6372;font-weight:600}ul{margin:4px 0;padding-left:20px}
`;
const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');
/** The page's policy: its one style by hash, nothing else. */
const PAGE_CSP = `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`;

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A text member of a document object; '' for anything else. */
function textOf(value: unknown): string {
  return typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : '';
}

/** A schema in a few words, with links to component schemas. */
function typeText(schema: unknown): string {
  if (!isRecord(schema)) return '';
  if (typeof schema.$ref === 'string') {
    const name = schema.$ref.split('/').pop() ?? '';
    return `<a href="#schema-${escapeHtml(name)}">${escapeHtml(name)}</a>`;
  }
  if (Array.isArray(schema.anyOf)) return schema.anyOf.map(typeText).join(' | ');
  const types = Array.isArray(schema.type)
    ? (schema.type as string[])
    : typeof schema.type === 'string'
      ? [schema.type]
      : [];
  let text = types
    .map((t) => (t === 'array' ? `array of ${typeText(schema.items)}` : escapeHtml(t)))
    .join(' | ');
  if (typeof schema.format === 'string') text += ` (${escapeHtml(schema.format)})`;
  if (Array.isArray(schema.enum)) {
    text += `: ${schema.enum
      .filter((v) => v !== null)
      .map((v) => `<code>${escapeHtml(String(v))}</code>`)
      .join(', ')}`;
  }
  return text;
}

function operationHtml(base: string, path: string, method: string, op: Record<string, unknown>): string {
  const parameters = Array.isArray(op.parameters) ? op.parameters.filter(isRecord) : [];
  const body = isRecord(op.requestBody) ? op.requestBody : undefined;
  const responses = isRecord(op.responses) ? op.responses : {};
  const security = Array.isArray(op.security) ? op.security.filter(isRecord) : [];
  const auth =
    security.length === 0
      ? 'none'
      : security
          .map((s) => (Object.keys(s).length === 0 ? 'anonymous' : Object.keys(s).join(' + ')))
          .join(' or ');
  const rows = parameters
    .map(
      (p) =>
        `<tr><td><code>${escapeHtml(textOf(p.name))}</code></td><td>${escapeHtml(textOf(p.in))}</td><td>${p.required === true ? 'yes' : 'no'}</td><td>${typeText(p.schema)}</td><td>${escapeHtml(textOf(p.description))}</td></tr>`,
    )
    .join('');
  const bodySchema =
    body && isRecord(body.content) && isRecord(body.content['application/json'])
      ? body.content['application/json'].schema
      : undefined;
  const answers = Object.entries(responses)
    .map(([code, r]) => {
      const ref = isRecord(r) && typeof r.$ref === 'string' ? r.$ref : undefined;
      const content =
        isRecord(r) && isRecord(r.content) && isRecord(r.content['application/json'])
          ? r.content['application/json'].schema
          : undefined;
      const description =
        isRecord(r) && typeof r.description === 'string'
          ? r.description
          : ref === undefined
            ? ''
            : 'An error: { code, message, details }.';
      return `<li><code>${escapeHtml(code)}</code> ${escapeHtml(description)}${content === undefined ? '' : ` — ${typeText(content)}`}</li>`;
    })
    .join('');
  return `<section class="op" id="${escapeHtml(textOf(op.operationId))}">
<h3><span class="m ${escapeHtml(method.toUpperCase())}">${escapeHtml(method.toUpperCase())}</span><code>${escapeHtml(base + path)}</code></h3>
<p>${escapeHtml(textOf(op.summary))}</p>${typeof op.description === 'string' ? `<p class="meta">${escapeHtml(op.description)}</p>` : ''}
<p class="meta">Authentication: ${escapeHtml(auth)}</p>
${rows === '' ? '' : `<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Type</th><th></th></tr>${rows}</table>`}
${bodySchema === undefined ? '' : `<p>Body (application/json): ${typeText(bodySchema)}</p>`}
<ul>${answers}</ul></section>`;
}

/** The readable page of one service's OpenAPI document. */
export function serviceHtml(service: RestService, document: Json): string {
  const base = `/${service.location}`;
  const paths = isRecord(document.paths) ? document.paths : {};
  const info = isRecord(document.info) ? document.info : {};
  const ops = Object.entries(paths)
    .flatMap(([path, item]) =>
      isRecord(item)
        ? Object.entries(item).flatMap(([method, op]) =>
            isRecord(op) ? [operationHtml(base, path, method, op)] : [],
          )
        : [],
    )
    .join('\n');
  const components = isRecord(document.components) ? document.components : {};
  const schemas = isRecord(components.schemas) ? components.schemas : {};
  const schemaHtml = Object.entries(schemas)
    .map(([name, schema]) => {
      const props = isRecord(schema) && isRecord(schema.properties) ? schema.properties : {};
      const rows = Object.entries(props)
        .map(
          ([prop, s]) =>
            `<tr><td><code>${escapeHtml(prop)}</code></td><td>${typeText(s)}</td><td>${escapeHtml(isRecord(s) && typeof s.description === 'string' ? s.description : '')}</td></tr>`,
        )
        .join('');
      const description =
        isRecord(schema) && typeof schema.description === 'string' ? schema.description : '';
      return `<section class="op" id="schema-${escapeHtml(name)}"><h3>${escapeHtml(name)}</h3><p class="meta">${escapeHtml(description)}</p><table><tr><th>Member</th><th>Type</th><th></th></tr>${rows}</table></section>`;
    })
    .join('\n');
  const json = `${API_DOC_PATH}/${encodeURIComponent(service.name)}/openapi.json`;
  return page(
    `${service.shortName} ${service.version}`,
    `<p><a href="${API_DOC_PATH}/">All services</a></p>
<h1>${escapeHtml(service.shortName)} <span class="meta">${escapeHtml(service.version)}</span></h1>
<p>${escapeHtml(textOf(info.description))}</p>
<p class="meta">Base URL <code>${escapeHtml(base)}</code> · Authentication: ${escapeHtml(service.authentication.join(', '))} · OpenAPI 3.1: <a href="${escapeHtml(json)}">openapi.json</a></p>
<p class="meta">Errors answer <code>{ "code", "message", "details" }</code>; every answer carries <code>X-Request-Id</code>.</p>
<h2>Operations</h2>
${ops}
<h2>Schemas</h2>
${schemaHtml}`,
  );
}

/** The index page of every service. */
export function indexHtml(services: readonly RestService[]): string {
  const rows = services
    .map((s) => {
      const base = `${API_DOC_PATH}/${encodeURIComponent(s.name)}`;
      return `<tr><td><a href="${escapeHtml(base)}/">${escapeHtml(s.shortName)}</a></td><td>${escapeHtml(s.version)}</td><td><code>/${escapeHtml(s.location)}</code></td><td>${escapeHtml(s.description)}</td><td><a href="${escapeHtml(base)}/openapi.json">openapi.json</a></td></tr>`;
    })
    .join('');
  return page(
    'API documentation',
    `<h1>API documentation</h1><p class="meta">The app’s published REST services, each with its OpenAPI 3.1 document. The client API is described at <a href="/xas/schema">/xas/schema</a>.</p>
<table><tr><th>Service</th><th>Version</th><th>Location</th><th>Description</th><th>OpenAPI</th></tr>${rows}</table>`,
  );
}

function sendHtml(reply: FastifyReply, html: string): FastifyReply {
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('content-security-policy', PAGE_CSP)
    .header('cache-control', 'no-cache')
    .send(html);
}

/**
 * Registers `/api-doc/` (index, HTML), `/api-doc/index.json`, `/api-doc/<service>/` (HTML),
 * `/api-doc/<service>/openapi.json`, and Mendix's `/rest-doc/<location>/openapi.json`. The
 * documents are built once, at start.
 */
export function registerApiDoc(
  app: FastifyInstance,
  model: CompiledModel,
  documentOf: (service: RestService) => Json,
): void {
  const services = [...model.restServices.values()].sort((a, b) => a.name.localeCompare(b.name));
  const documents = new Map(services.map((s) => [s.name, documentOf(s)] as const));
  const index = indexHtml(services);
  const pages = new Map(services.map((s) => [s.name, serviceHtml(s, documents.get(s.name) ?? {})] as const));
  const json = (reply: FastifyReply, body: unknown): FastifyReply =>
    reply.header('cache-control', 'no-cache').send(body);

  app.get(API_DOC_PATH, async (_request, reply) => reply.redirect(`${API_DOC_PATH}/`));
  app.get(`${API_DOC_PATH}/`, async (_request, reply) => sendHtml(reply, index));
  app.get(`${API_DOC_PATH}/index.json`, async (_request, reply) =>
    json(reply, {
      services: services.map((s) => ({
        name: s.name,
        version: s.version,
        location: `/${s.location}`,
        description: s.description,
        openapi: `${API_DOC_PATH}/${encodeURIComponent(s.name)}/openapi.json`,
        html: `${API_DOC_PATH}/${encodeURIComponent(s.name)}/`,
      })),
    }),
  );
  app.get('/rest-doc', async (_request, reply) => reply.redirect(`${API_DOC_PATH}/`));
  app.get('/rest-doc/', async (_request, reply) => reply.redirect(`${API_DOC_PATH}/`));
  for (const service of services) {
    const base = `${API_DOC_PATH}/${encodeURIComponent(service.name)}`;
    const document = documents.get(service.name) ?? {};
    const html = pages.get(service.name) ?? '';
    app.get(base, async (_request, reply) => reply.redirect(`${base}/`));
    app.get(`${base}/`, async (_request, reply) => sendHtml(reply, html));
    app.get(`${base}/openapi.json`, async (_request, reply) => json(reply, document));
    app.get(`/rest-doc/${service.location}/openapi.json`, async (_request, reply) => json(reply, document));
    app.get(`/rest-doc/${service.location}/`, async (_request, reply) => reply.redirect(`${base}/`));
  }
}
