import { executorConfig } from '@runplane/config';
import { runProcess } from '@runplane/service-host';
import { startExecutor } from './executor.service.js';

await runProcess({
  service: 'microflow-executor',
  config: executorConfig,
  start: (ctx) => startExecutor(ctx),
});
