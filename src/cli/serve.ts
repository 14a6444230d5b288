// Owns `paperboy serve`: the same service as `npm start`, running until SIGINT or SIGTERM.
import type { Command } from 'commander';
import type { GetApp } from './context.js';
import type { App } from '../app.js';
import type { Service } from '../service-runner.js';

export function startBanner(app: App, service: Service): string {
  const { config } = app;
  return (
    `\npaperboy is running at ${config.PUBLIC_URL}  (listening on ${service.web.address})\n` +
    `  admin:        ${config.PUBLIC_URL}/admin  (token: ${config.ADMIN_TOKEN})\n` +
    `  mail:         ${config.MAIL_TRANSPORT === 'outbox' ? `embedded outbox in ${config.OUTBOX_DIR}, shown at ${config.PUBLIC_URL}/admin/outbox` : 'SMTP'}\n` +
    (service.inboundPort !== null ? `  inbound mail: subscribe@${config.MAIL_DOMAIN} on ${config.INBOUND_SMTP_HOST}:${service.inboundPort}\n` : '') +
    `  stop with Ctrl-C\n\n`
  );
}

/** Starts the service and resolves once a signal has stopped it. */
export async function serveUntilSignal(app: App): Promise<void> {
  // The handlers first: a SIGTERM while the service starts (a supervisor giving up, a test under load) stops it
  // once it is up, rather than killing it half way through opening the database or its ports.
  let stop: ((signal: string) => void) | null = null;
  let early: string | null = null;
  const on = (signal: string) => (stop ? stop(signal) : (early ??= signal));
  process.once('SIGINT', () => on('SIGINT'));
  process.once('SIGTERM', () => on('SIGTERM'));
  // Loaded here, not at the top: the web server, the mail listener and their parsers (~30 MB) are for serving
  // only, and every other command (`send` above all) would otherwise carry them.
  const { startService } = await import('../service-runner.js');
  const service = await startService(app);
  // Printed plainly (not as a log line) because it is what a newcomer needs to see first.
  process.stdout.write(startBanner(app, service));
  await new Promise<void>((resolve) => {
    stop = (signal: string) => {
      app.log.info({ signal }, 'stopping');
      void service.stop().then(resolve, resolve);
    };
    if (early) stop(early);
  });
}

export function registerServeCommand(program: Command, getApp: GetApp): void {
  program
    .command('serve')
    .description('run the web app, the mail listener and the scheduler (what `npm start` runs)')
    .action(async () => {
      await serveUntilSignal(getApp());
    });
}
