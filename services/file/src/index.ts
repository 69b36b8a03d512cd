/** The file service: FileDocument contents, streamed in chunks. */
export { startFileService, type FileServiceDependencies, type RunningFileService } from './file.service.js';
