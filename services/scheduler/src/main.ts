import { schedulerConfig } from '@runplane/config';
import { runProcess } from '@runplane/service-host';
import { startScheduler } from './scheduler.service.js';

await runProcess({ service: 'scheduler', config: schedulerConfig, start: (ctx) => startScheduler(ctx) });
