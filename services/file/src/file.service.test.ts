import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileConfig } from '@runplane/config';
import { file } from '@runplane/proto';
import { callUnary, createClient } from '@runplane/service-host';
import { createLogger } from '@runplane/telemetry';
import { startFileService, type RunningFileService } from './index.js';

let dir: string;
let service: RunningFileService;
let client: file.FileServiceClient;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'runplane-file-'));
  const config = fileConfig.load({ RUNPLANE_FILE_DIR: dir, RUNPLANE_GRPC_LISTEN_ADDRESS: '127.0.0.1:0' });
  service = await startFileService({
    config,
    logger: createLogger({ service: 'file', nodeId: 't', level: 'silent' }),
    nodeId: 't',
  });
  client = createClient(file.FileServiceClient, service.grpcAddress);
});

afterAll(async () => {
  client.close();
  await service.stop();
  await rm(dir, { recursive: true, force: true });
});

function upload(key: string, parts: Buffer[], sizeBytes = -1n): Promise<file.UploadResponse> {
  return new Promise((resolve, reject) => {
    const call = client.upload((err, res) => {
      if (err) reject(err);
      else resolve(res);
    });
    call.write({
      part: {
        $case: 'metadata',
        value: { key, name: `${key}.bin`, contentType: 'application/octet-stream', sizeBytes },
      },
    });
    for (const p of parts) call.write({ part: { $case: 'chunk', value: p } });
    call.end();
  });
}

function download(
  key: string,
  offset = 0n,
  length = 0n,
): Promise<{ meta?: file.FileMetadata; bytes: Buffer }> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    let meta: file.FileMetadata | undefined;
    const stream = client.download({ key, offset, length });
    stream.on('data', (msg: file.DownloadResponse) => {
      if (msg.part?.$case === 'metadata') meta = msg.part.value;
      else if (msg.part?.$case === 'chunk') out.push(msg.part.value);
    });
    stream.on('end', () => {
      resolve({ meta, bytes: Buffer.concat(out) });
    });
    stream.on('error', reject);
  });
}

describe('the file service', () => {
  it('stores a file streamed in chunks and streams it back in chunks', async () => {
    const big = Buffer.alloc(300 * 1024, 7);
    const res = await upload('docs/1', [big.subarray(0, 100_000), big.subarray(100_000)], BigInt(big.length));
    expect(res.sizeBytes).toBe(BigInt(big.length));
    const { meta, bytes } = await download('docs/1');
    expect(meta?.name).toBe('docs/1.bin');
    expect(bytes.equals(big)).toBe(true);
  });

  it('serves a byte range', async () => {
    await upload('docs/2', [Buffer.from('abcdefghij')]);
    expect((await download('docs/2', 2n, 3n)).bytes.toString()).toBe('cde');
  });

  it('describes and deletes files, and reports a missing one as not found', async () => {
    await upload('docs/3', [Buffer.from('x')]);
    const stat = await callUnary(client, 'stat', { key: 'docs/3' });
    expect(stat.metadata?.sizeBytes).toBe(1n);
    expect(await callUnary(client, 'delete', { key: 'docs/3' })).toEqual({ deleted: true });
    await expect(callUnary(client, 'stat', { key: 'docs/3' })).rejects.toMatchObject({
      code: 'BLOB_NOT_FOUND',
    });
    await expect(download('docs/3')).rejects.toMatchObject({ code: 5 });
  });

  it('refuses an upload that does not start with metadata, and a bad key', async () => {
    const bad = new Promise((resolve, reject) => {
      const call = client.upload((err, res) => {
        if (err) reject(err);
        else resolve(res);
      });
      call.write({ part: { $case: 'chunk', value: Buffer.from('x') } });
      call.end();
    });
    await expect(bad).rejects.toMatchObject({ details: 'An upload must start with the file metadata' });
    await expect(upload('../escape', [Buffer.from('x')])).rejects.toMatchObject({ code: 3 });
  });
});
