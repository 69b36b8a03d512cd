import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { loadModelOrThrow, type CompiledModel } from '@runplane/model';
import { ModelMembers } from '../wire/objects.js';
import { serviceHtml } from './api-doc.js';
import { OpenApiGenerator, type Json } from './openapi.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', '..', '..', 'examples');
const orders = await loadModelOrThrow(join(EXAMPLES, 'orders'));
const helpdesk = await loadModelOrThrow(join(EXAMPLES, 'helpdesk'));

function documents(model: CompiledModel): Map<string, Json> {
  const generator = new OpenApiGenerator(model, new ModelMembers(model));
  return new Map([...model.restServices.values()].map((s) => [s.name, generator.document(s)]));
}

function at(doc: Json, ...path: string[]): unknown {
  let v: unknown = doc;
  for (const key of path) v = (v as Record<string, unknown> | undefined)?.[key];
  return v;
}

describe('OpenAPI documents of the published REST services', () => {
  it('are valid OpenAPI 3.1 for every service of the examples', async () => {
    const all = [...documents(orders).entries(), ...documents(helpdesk).entries()];
    expect(all.map(([name]) => name).sort()).toEqual([
      'Helpdesk.PublicApi',
      'Sales.OrderFeed',
      'Sales.OrdersApi',
    ]);
    for (const [name, doc] of all) {
      const validator = new Validator();
      const result = await validator.validate(doc);
      expect(result.errors, `${name}: ${JSON.stringify(result.errors)}`).toBeUndefined();
      expect(result.valid).toBe(true);
      expect(validator.version).toBe('3.1');
    }
  });

  it('describe paths, parameters, schemas and the service’s security', () => {
    const doc = documents(orders).get('Sales.OrdersApi') ?? {};
    expect(at(doc, 'servers')).toEqual([{ url: '/rest/orders/v1' }]);
    expect(Object.keys(at(doc, 'paths') as Json).sort()).toEqual([
      '/orders/{number}',
      '/orders/{number}/approve',
      '/products',
      '/products/{Code}',
    ]);
    expect(at(doc, 'paths', '/orders/{number}', 'get', 'parameters')).toEqual([
      { name: 'number', in: 'path', required: true, schema: { type: 'integer', format: 'int64' } },
    ]);
    expect(
      at(
        doc,
        'paths',
        '/orders/{number}',
        'get',
        'responses',
        '200',
        'content',
        'application/json',
        'schema',
      ),
    ).toEqual({
      $ref: '#/components/schemas/Sales.Order',
    });
    expect(at(doc, 'components', 'schemas', 'Sales.Order', 'properties', 'Total')).toMatchObject({
      type: ['string', 'null'],
      format: 'decimal',
    });
    expect(at(doc, 'components', 'schemas', 'Sales.Order', 'properties', 'Status', 'enum')).toEqual([
      'Draft',
      'Placed',
      'Approved',
      'Rejected',
      'Closed',
      null,
    ]);
    expect(Object.keys(at(doc, 'components', 'schemas', 'products.item', 'properties') as Json)).toEqual([
      'id',
      'Code',
      'Name',
      'Description',
      'Price',
      'Stock',
      'Active',
    ]);
    const list = at(doc, 'paths', '/products', 'get', 'parameters') as { name: string }[];
    expect(list.map((p) => p.name)).toEqual(['offset', 'limit', 'sort', 'count', 'Code', 'Name', 'Active']);
    expect(at(doc, 'components', 'securitySchemes')).toMatchObject({
      basicAuth: { type: 'http', scheme: 'basic' },
      sessionCookie: { type: 'apiKey', in: 'cookie', name: 'XASSESSIONID' },
      csrfToken: { type: 'apiKey', in: 'header', name: 'X-Csrf-Token' },
    });
    expect(at(doc, 'paths', '/products', 'get', 'security')).toEqual([
      { basicAuth: [] },
      { sessionCookie: [] },
    ]);
    expect(at(doc, 'paths', '/products', 'post', 'security')).toEqual([
      { basicAuth: [] },
      { sessionCookie: [], csrfToken: [] },
    ]);
    expect(at(doc, 'components', 'responses', 'E422', 'content', 'application/json', 'schema')).toEqual({
      $ref: '#/components/schemas/Error',
    });
  });

  it('documents a service without authentication as open, with its body object', () => {
    const doc = documents(helpdesk).get('Helpdesk.PublicApi') ?? {};
    expect(at(doc, 'security')).toEqual([]);
    expect(at(doc, 'components', 'securitySchemes')).toBeUndefined();
    expect(
      at(doc, 'paths', '/tickets', 'post', 'requestBody', 'content', 'application/json', 'schema'),
    ).toEqual({
      $ref: '#/components/schemas/Helpdesk.SubmitForm',
    });
    expect(at(doc, 'paths', '/tickets', 'post', 'responses', '401')).toBeUndefined();
  });

  it('renders a readable page per service that escapes the model’s text', () => {
    const service = orders.restServices.get('Sales.OrdersApi');
    if (service === undefined) throw new Error('no OrdersApi');
    const html = serviceHtml(service, documents(orders).get('Sales.OrdersApi') ?? {});
    expect(html).toContain('<code>/rest/orders/v1/orders/{number}</code>');
    expect(html).toContain('One order by its number.');
    expect(html).toContain('id="schema-Sales.Order"');
    expect(html).not.toMatch(/<script/i);
    const evil = serviceHtml({ ...service, shortName: '<img src=x onerror=alert(1)>' }, {});
    expect(evil).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(evil).not.toContain('<img');
  });
});
