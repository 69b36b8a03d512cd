import { sessionConfig } from '@runplane/config';
import { runProcess } from '@runplane/service-host';
import { startSessionService } from './session.service.js';

await runProcess({ service: 'session', config: sessionConfig, start: (ctx) => startSessionService(ctx) });
