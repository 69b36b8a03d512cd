import { gatewayConfig } from '@runplane/config';
import { runProcess } from '@runplane/service-host';
import { startGateway } from './gateway.service.js';

await runProcess({
  service: 'gateway',
  config: gatewayConfig,
  start: (ctx) => startGateway(ctx),
});
