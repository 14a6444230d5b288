// Owns `npm start`: read the config once, build the app, run the service until a signal stops it.
import { ConfigError, loadConfig, readEnvironment } from './config.js';
import { createApp } from './app.js';
import { startService } from './serve.js';

try {
  const app = createApp(loadConfig(readEnvironment()));
  const service = await startService(app);
  const { config } = app;
  // Printed plainly (not as a log line) because it is what a newcomer needs to see first.
  process.stdout.write(
    `\npaperboy is running at ${config.PUBLIC_URL}  (listening on ${service.web.address})\n` +
      `  admin:        ${config.PUBLIC_URL}/admin  (token: ${config.ADMIN_TOKEN})\n` +
      `  mail:         ${config.MAIL_TRANSPORT === 'outbox' ? `embedded outbox in ${config.OUTBOX_DIR}, shown at ${config.PUBLIC_URL}/admin/outbox` : 'SMTP'}\n` +
      (service.inboundPort !== null ? `  inbound mail: subscribe@${config.MAIL_DOMAIN} on ${config.INBOUND_SMTP_HOST}:${service.inboundPort}\n` : '') +
      `  stop with Ctrl-C\n\n`,
  );
  const stop = async (signal: string) => {
    app.log.info({ signal }, 'stopping');
    await service.stop();
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(err.message + '\n');
    process.exit(2);
  }
  throw err;
}
