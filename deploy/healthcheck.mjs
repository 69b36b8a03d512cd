// @ts-check
/**
 * The container health check of every Runplane service.
 *
 *   node deploy/healthcheck.mjs grpc <host:port> [service]
 *     exits 0 when `grpc.health.v1.Health/Check` answers SERVING (for `service`, default:
 *     the whole server), 1 otherwise.
 *   node deploy/healthcheck.mjs http <url>
 *     exits 0 when a GET answers 2xx, 1 otherwise.
 *
 * A wildcard host (0.0.0.0, ::) is probed on the loopback interface. Every probe gives up
 * after 2 s. Prints one line saying what it saw; Docker keeps it in `docker inspect`.
 *
 * Plain JavaScript with no dependencies on purpose: Docker runs it every few seconds in
 * every container, and started by plain `node` it costs ~50 ms of CPU where the same
 * check through tsx, grpc-js and the generated clients costs ~800 ms. The gRPC call is
 * small enough to speak directly: one unary call over HTTP/2 with a protobuf message of
 * one string field, answered by a message of one enum field.
 */
import http from 'node:http';
import http2 from 'node:http2';

const TIMEOUT_MS = 2000;
const STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

/**
 * Splits `host:port`, with IPv6 hosts in brackets; maps wildcard hosts to loopback.
 * @param {string} address
 * @returns {{ host: string, port: number }}
 */
function parseAddress(address) {
  const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(address);
  if (!match?.[1] || !match[2]) throw new Error(`not a host:port address: ${JSON.stringify(address)}`);
  const port = Number(match[2]);
  if (port < 1 || port > 65535) throw new Error(`port out of range: ${port}`);
  let host = match[1];
  if (host === '0.0.0.0') host = '127.0.0.1';
  if (host === '[::]') host = '[::1]';
  return { host, port };
}

/**
 * A protobuf varint at `offset`: its value and the offset after it.
 * @param {Buffer} bytes
 * @param {number} offset
 * @returns {[number, number]}
 */
function readVarint(bytes, offset) {
  let value = 0;
  let shift = 0;
  let i = offset;
  for (;;) {
    const byte = bytes[i];
    if (byte === undefined) throw new Error('truncated varint in the health answer');
    value += (byte & 0x7f) * 2 ** shift;
    i += 1;
    if ((byte & 0x80) === 0) return [value, i];
    shift += 7;
    if (shift > 63) throw new Error('varint too long in the health answer');
  }
}

/**
 * The `status` (field 1) of an encoded `grpc.health.v1.HealthCheckResponse`; 0 when absent.
 * @param {Buffer} message
 * @returns {number}
 */
function decodeHealthStatus(message) {
  let status = 0;
  let offset = 0;
  while (offset < message.length) {
    const [tag, next] = readVarint(message, offset);
    offset = next;
    const wireType = tag & 7;
    if (wireType === 0) {
      const [value, after] = readVarint(message, offset);
      offset = after;
      if (tag >>> 3 === 1) status = value;
    } else if (wireType === 2) {
      const [length, after] = readVarint(message, offset);
      offset = after + length;
    } else if (wireType === 1) {
      offset += 8;
    } else if (wireType === 5) {
      offset += 4;
    } else {
      throw new Error(`unexpected wire type ${wireType} in the health answer`);
    }
  }
  return status;
}

/**
 * One gRPC message frame: the uncompressed flag, the length, the message.
 * @param {Buffer} message
 * @returns {Buffer}
 */
function frame(message) {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/**
 * Calls grpc.health.v1.Health/Check and resolves with the answer's status name.
 * @param {string} address
 * @param {string} service
 * @returns {Promise<string>}
 */
function checkGrpc(address, service) {
  const { host, port } = parseAddress(address);
  const name = Buffer.from(service, 'utf8');
  if (name.length > 127) throw new Error('service name too long');
  const request =
    name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://${host}:${port}`);
    const timer = setTimeout(() => {
      session.destroy();
      reject(new Error(`no answer from ${host}:${port} within ${TIMEOUT_MS} ms`));
    }, TIMEOUT_MS);
    const finish = (/** @type {Error | undefined} */ error, /** @type {string} */ status = '') => {
      clearTimeout(timer);
      session.close();
      if (error) reject(error);
      else resolve(status);
    };
    session.on('error', (error) => {
      finish(error);
    });
    const stream = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    /** @type {Buffer[]} */
    const chunks = [];
    /** @type {string | undefined} */
    let grpcStatus;
    /** @type {string | undefined} */
    let grpcMessage;
    const readStatus = (/** @type {http2.IncomingHttpHeaders} */ headers) => {
      const code = headers['grpc-status'];
      if (typeof code === 'string') grpcStatus = code;
      const message = headers['grpc-message'];
      if (typeof message === 'string') grpcMessage = decodeURIComponent(message);
    };
    stream.on('response', readStatus);
    stream.on('trailers', readStatus);
    stream.on('data', (/** @type {Buffer} */ chunk) => chunks.push(chunk));
    stream.on('error', (error) => {
      finish(error);
    });
    stream.on('end', () => {
      if (grpcStatus !== '0') {
        finish(new Error(`gRPC status ${grpcStatus ?? '(none)'}${grpcMessage ? `: ${grpcMessage}` : ''}`));
        return;
      }
      const body = Buffer.concat(chunks);
      if (body.length < 5 || body[0] !== 0) {
        finish(new Error('malformed health answer'));
        return;
      }
      const length = body.readUInt32BE(1);
      const status = decodeHealthStatus(body.subarray(5, 5 + length));
      finish(undefined, STATUS_NAMES[status] ?? `status ${status}`);
    });
    stream.end(frame(request));
  });
}

/**
 * GETs `url` and resolves with the HTTP status code.
 * @param {string} url
 * @returns {Promise<number>}
 */
function checkHttp(url) {
  const target = new URL(url);
  if (target.protocol !== 'http:') throw new Error(`only http:// URLs are probed, not ${target.protocol}`);
  if (target.hostname === '0.0.0.0') target.hostname = '127.0.0.1';
  return new Promise((resolve, reject) => {
    const request = http.get(target, { timeout: TIMEOUT_MS }, (response) => {
      response.resume();
      response.on('end', () => {
        resolve(response.statusCode ?? 0);
      });
    });
    request.on('timeout', () => {
      request.destroy(new Error(`no answer from ${target.host} within ${TIMEOUT_MS} ms`));
    });
    request.on('error', reject);
  });
}

/**
 * @param {readonly string[]} args
 * @returns {Promise<boolean>}
 */
async function main(args) {
  const [kind, target, service = ''] = args;
  if (kind === 'grpc' && target) {
    const status = await checkGrpc(target, service);
    process.stdout.write(`${target}${service ? ` (${service})` : ''}: ${status}\n`);
    return status === 'SERVING';
  }
  if (kind === 'http' && target) {
    const code = await checkHttp(target);
    process.stdout.write(`${target}: HTTP ${code}\n`);
    return code >= 200 && code < 300;
  }
  if (kind === 'grpc') {
    process.stdout.write(
      'unhealthy: no gRPC address (the image probes RUNPLANE_GRPC_LISTEN_ADDRESS; set it)\n',
    );
    return false;
  }
  process.stdout.write('usage: healthcheck.mjs grpc <host:port> [service] | http <url>\n');
  return false;
}

main(process.argv.slice(2)).then(
  (healthy) => {
    process.exitCode = healthy ? 0 : 1;
  },
  (/** @type {unknown} */ error) => {
    process.stdout.write(`unhealthy: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
