import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decimal } from '@runplane/expressions';
import type { MxObject } from '@runplane/persistence';
import { MicroflowErrorCode, type MicroflowError } from './errors.js';
import {
  errorOf,
  resultOf,
  testDatabase,
  testEngine,
  testModel,
  type TestDatabase,
} from './testing/harness.js';

const DOMAIN = `module: App
moduleRoles: [Admin, Clerk]
entities:
  Echo:
    persistable: false
    attributes:
      Method: String
      Body: String
      Auth: String
      Custom: String
  Product:
    persistable: false
    attributes:
      Code: String
      Price: Decimal
      Stock: Integer
      Active: Boolean
`;

const FLOWS = `module: App
microflows:
  GetText:
    parameters: { Base: String }
    returnType: String
    start: call
    nodes:
      call:
        kind: callRest
        method: GET
        url: '{1}/text?token=secret-token'
        urlParameters: [$Base]
        response: { as: string }
        output: Text
        next: done
      done: { kind: end, value: $Text }

  PostEcho:
    parameters: { Base: String }
    returnType: Echo
    start: call
    nodes:
      call:
        kind: callRest
        method: POST
        url: '{1}/echo'
        urlParameters: [$Base]
        headers: { X-Custom: "'custom ' + toString(1 + 1)", Content-Type: "'text/plain'" }
        body: "'hello ' + 'world'"
        auth: { username: "'ann'", password: "'s3cret'" }
        response: { as: object, entity: Echo, members: { Method: method, Body: body, Auth: auth, Custom: custom } }
        output: E
        next: done
      done: { kind: end, value: $E }

  Products:
    parameters: { Base: String }
    returnType: List<Product>
    start: call
    nodes:
      call:
        kind: callRest
        method: GET
        url: '{1}/products'
        urlParameters: [$Base]
        response: { as: list, entity: Product, members: { Code: code, Price: price, Stock: stock, Active: active } }
        output: Items
        next: done
      done: { kind: end, value: $Items }

  Status:
    parameters: { Base: String }
    returnType: String
    start: call
    nodes:
      call:
        kind: callRest
        method: GET
        url: '{1}/text'
        urlParameters: [$Base]
        response: { as: httpResponse }
        output: R
        next: done
      done: { kind: end, value: "toString($R/StatusCode) + ' ' + $R/Content" }

  Missing:
    parameters: { Base: String }
    returnType: String
    start: call
    nodes:
      call:
        kind: callRest
        method: GET
        url: '{1}/missing'
        urlParameters: [$Base]
        response: { as: string }
        output: Text
        next: done
        onError: { handling: customWithoutRollback, next: failed }
      done: { kind: end, value: $Text }
      failed: { kind: end, value: "toString($latestHttpResponse/StatusCode) + ' ' + $latestHttpResponse/Content + ' / ' + $latestError/Message" }

  MissingUnhandled:
    parameters: { Base: String }
    start: call
    nodes:
      call:
        kind: callRest
        method: DELETE
        url: '{1}/missing'
        urlParameters: [$Base]
        response: { as: none }
        next: done
      done: { kind: end }

  Slow:
    parameters: { Base: String }
    start: call
    nodes:
      call:
        kind: callRest
        method: GET
        url: '{1}/slow?apiKey=do-not-log'
        urlParameters: [$Base]
        timeoutMs: 100
        response: { as: none }
        next: done
      done: { kind: end }
`;

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      resolve(body);
    });
  });
}

const model = testModel({ 'App/domain.yaml': DOMAIN, 'App/flows.yaml': FLOWS });
const { engine } = testEngine(model);
let database: TestDatabase;
let server: Server;
let base: string;
const seenUrls: string[] = [];

beforeAll(async () => {
  database = await testDatabase(model, 'rest');
  server = createServer((request, response) => {
    seenUrls.push(request.url ?? '');
    void readBody(request).then((body) => {
      const path = (request.url ?? '').split('?')[0];
      if (path === '/text') {
        response.writeHead(200, { 'content-type': 'text/plain' }).end('plain text');
      } else if (path === '/echo') {
        response.writeHead(201, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            method: request.method,
            body,
            auth: request.headers.authorization,
            custom: request.headers['x-custom'],
          }),
        );
      } else if (path === '/products') {
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify([
            { code: 'A-1', price: 12.5, stock: 3, active: true, ignored: 'x' },
            { code: 'B-2', price: '0.10', stock: null, active: false },
          ]),
        );
      } else if (path === '/slow') {
        // Never answers: the call must time out.
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' }).end('no such thing');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  await database.drop();
});

describe('call REST service', () => {
  it('fills the URL template and returns the response as a string', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.GetText',
      arguments: { Base: base },
    });
    expect(result).toBe('plain text');
    expect(seenUrls).toContain('/text?token=secret-token');
  });

  it('sends the method, headers, body and basic authentication, and maps a JSON response to an object', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.PostEcho',
      arguments: { Base: base },
    });
    const echo = result as MxObject;
    expect(echo.entity).toBe('App.Echo');
    expect(echo.get('Method')).toBe('POST');
    expect(echo.get('Body')).toBe('hello world');
    expect(echo.get('Auth')).toBe(`Basic ${Buffer.from('ann:s3cret').toString('base64')}`);
    expect(echo.get('Custom')).toBe('custom 2');
  });

  it('maps a JSON array to a list of objects, converting each field to its attribute’s type', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Products',
      arguments: { Base: base },
    });
    const items = result as MxObject[];
    expect(items.map((p) => p.get('Code'))).toEqual(['A-1', 'B-2']);
    expect((items[0]?.get('Price') as Decimal).toString()).toBe('12.5');
    expect((items[1]?.get('Price') as Decimal).toString()).toBe('0.1');
    expect(items.map((p) => p.get('Stock'))).toEqual([3n, null]);
    expect(items.map((p) => p.get('Active'))).toEqual([true, false]);
  });

  it('returns the response as a System.HttpResponse', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Status',
      arguments: { Base: base },
    });
    expect(result).toBe('200 plain text');
  });

  it('goes to the error flow on a status outside 2xx, with $latestHttpResponse and $latestError', async () => {
    const { result } = await resultOf(engine, database.db, {
      microflow: 'App.Missing',
      arguments: { Base: base },
    });
    expect(result).toMatch(
      /^404 no such thing \/ The REST call GET http:\/\/127\.0\.0\.1:\d+\/missing failed with status 404/,
    );
  });

  it('fails with the status and body in the details when the error is not handled', async () => {
    const error = (await errorOf(engine, database.db, {
      microflow: 'App.MissingUnhandled',
      arguments: { Base: base },
    })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.RestStatus);
    expect(error.details['statusCode']).toBe(404);
    expect(error.details['body']).toBe('no such thing');
  });

  it('times out with an error naming the URL but not its query', async () => {
    const error = (await errorOf(engine, database.db, {
      microflow: 'App.Slow',
      arguments: { Base: base },
    })) as MicroflowError;
    expect(error.code).toBe(MicroflowErrorCode.RestTimeout);
    expect(error.status).toBe('timeout');
    expect(error.message).toContain(`${base}/slow`);
    expect(error.message).not.toContain('do-not-log');
    expect(JSON.stringify(error.details)).not.toContain('do-not-log');
  });
});
