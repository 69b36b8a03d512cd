import type { FileConfig } from '@runplane/config';
import { file } from '@runplane/proto';
import { GrpcServer, type RunningService } from '@runplane/service-host';
import { LocalDiskBlobStore, S3BlobStore, type BlobStore } from '@runplane/storage';
import type { Logger } from '@runplane/telemetry';
import { fileServiceImplementation } from './file.handlers.js';

/** What the file service needs to run. */
export interface FileServiceDependencies {
  readonly config: FileConfig;
  readonly logger: Logger;
  readonly nodeId: string;
  /** The blob store; S3 when RUNPLANE_S3_ENDPOINT is set, else local disk under RUNPLANE_FILE_DIR. */
  readonly store?: BlobStore;
}

/** A running file service. */
export interface RunningFileService extends RunningService {
  readonly grpcAddress: string;
}

/** Starts the file service. */
export async function startFileService(deps: FileServiceDependencies): Promise<RunningFileService> {
  const { config, logger } = deps;
  const store =
    deps.store ??
    (config.s3Endpoint === undefined
      ? new LocalDiskBlobStore(config.fileDir)
      : new S3BlobStore({
          endpoint: config.s3Endpoint,
          bucket: config.s3Bucket,
          region: config.s3Region,
          accessKeyId: config.s3AccessKeyId,
          secretAccessKey: config.s3SecretAccessKey,
          forcePathStyle: config.s3ForcePathStyle,
        }));
  if (store instanceof S3BlobStore) {
    // A wrong endpoint or key should stop the start, not the first upload.
    await store.ready();
    logger.info({ endpoint: config.s3Endpoint, bucket: config.s3Bucket }, 'file contents in S3');
  }
  const grpc = new GrpcServer(config.grpcListenAddress ?? config.grpcAddress, logger);
  grpc.add(file.FileServiceService, fileServiceImplementation(store, logger));
  const grpcAddress = await grpc.start();
  return {
    grpcAddress,
    stop: () => grpc.stop(config.shutdownTimeoutMs),
  };
}
