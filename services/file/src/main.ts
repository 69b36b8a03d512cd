import { fileConfig } from '@runplane/config';
import { runProcess } from '@runplane/service-host';
import { startFileService } from './file.service.js';

await runProcess({ service: 'file', config: fileConfig, start: (ctx) => startFileService(ctx) });
