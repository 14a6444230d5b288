// Owns `npm start`: read the config once, build the app, run the service until a signal stops it.
import { ConfigError, loadConfig, readEnvironment } from './config.js';
import { createApp } from './app.js';
import { serveUntilSignal } from './cli/serve.js';
import { PortUnavailableError } from './port-check.js';

try {
  const app = createApp(loadConfig(readEnvironment()));
  await serveUntilSignal(app);
  await app.close();
  process.exit(0);
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(err.message + '\n');
    process.exit(2);
  }
  if (err instanceof PortUnavailableError) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
