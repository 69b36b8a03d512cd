import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileConfig } from '@runplane/config';
import { file } from '@runplane/proto';
import { callUnary, createClient } from '@runplane/service-host';
import { createLogger } from '@runplane/telemetry';
import { startFileService, type RunningFileService } from './index.js';

const logger = createLogger({ service: 'file', nodeId: 't', level: 'silent' });
let dir: string;
let s3: S3rver;
let endpoint: string;
let service: RunningFileService;
let client: file.FileServiceClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runplane-file-s3-'));
  s3 = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true });
  const { port } = await s3.run();
  endpoint = `http://127.0.0.1:${port}`;
  const config = fileConfig.load({
    RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
    RUNPLANE_S3_ENDPOINT: endpoint,
    RUNPLANE_S3_BUCKET: 'files-under-test',
    RUNPLANE_S3_ACCESS_KEY_ID: 'S3RVER',
    RUNPLANE_S3_SECRET_ACCESS_KEY: 'S3RVER',
  });
  service = await startFileService({ config, logger, nodeId: 't' });
  client = createClient(file.FileServiceClient, service.grpcAddress);
});

afterAll(async () => {
  client.close();
  await service.stop();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the file service on S3', () => {
  it('streams a file into the bucket and back out', async () => {
    const payload = Buffer.from('contents in an object store '.repeat(1000));
    const stored = await new Promise<file.UploadResponse>((resolve, reject) => {
      const call = client.upload((err, res) => {
        if (err) reject(err);
        else resolve(res);
      });
      call.write({
        part: {
          $case: 'metadata',
          value: {
            key: 'docs/s3',
            name: 'a.txt',
            contentType: 'text/plain',
            sizeBytes: BigInt(payload.length),
          },
        },
      });
      call.write({ part: { $case: 'chunk', value: payload.subarray(0, 10_000) } });
      call.write({ part: { $case: 'chunk', value: payload.subarray(10_000) } });
      call.end();
    });
    expect(stored.sizeBytes).toBe(BigInt(payload.length));
    const stat = await callUnary(client, 'stat', { key: 'docs/s3' });
    expect(stat.metadata).toMatchObject({ name: 'a.txt', contentType: 'text/plain' });
    expect(stat.sha256).toBe(stored.sha256);
    const bytes = await new Promise<Buffer>((resolve, reject) => {
      const out: Buffer[] = [];
      const stream = client.download({ key: 'docs/s3', offset: 0n, length: 0n });
      stream.on('data', (m: file.DownloadResponse) => {
        if (m.part?.$case === 'chunk') out.push(m.part.value);
      });
      stream.on('end', () => {
        resolve(Buffer.concat(out));
      });
      stream.on('error', reject);
    });
    expect(bytes.equals(payload)).toBe(true);
  });

  it('refuses to start when the object store cannot be reached', async () => {
    const config = fileConfig.load({
      RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0',
      RUNPLANE_S3_ENDPOINT: 'http://127.0.0.1:1',
    });
    await expect(startFileService({ config, logger, nodeId: 'u' })).rejects.toMatchObject({
      code: 'STORAGE_UNAVAILABLE',
    });
  });
});
