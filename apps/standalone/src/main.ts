import { standaloneConfig } from '@runplane/config';
import { runProcess } from '@runplane/service-host';
import { startStandalone } from './standalone.js';

await runProcess({
  service: 'standalone',
  config: standaloneConfig,
  start: async (ctx) => {
    const running = await startStandalone(ctx);
    ctx.logger.info(
      { url: running.url },
      'Runplane is running in standalone mode (for trying models, not for production)',
    );
    process.stdout.write(
      `\nRunplane is running at ${running.url}  (standalone mode: not for production; Ctrl-C stops it)\n\n`,
    );
    return running;
  },
});
