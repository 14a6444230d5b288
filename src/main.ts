// Owns `npm start`: read the config once, build the app, run the service until a signal stops it.
import { ConfigError, loadConfig, readEnvironment } from './config.js';
import { createApp } from './app.js';
import { startService } from './serve.js';

try {
  const app = createApp(loadConfig(readEnvironment()));
  const service = await startService(app);
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
