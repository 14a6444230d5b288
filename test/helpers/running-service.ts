// Starts the whole service in this process as `paperboy serve` does, on a free port and a temporary data dir, offline
// (no fetch, no scheduler, no inbound mail) unless a test's settings say otherwise.
import { loadConfig } from '../../src/config.js';
import { createApp, type App } from '../../src/app.js';
import { startService, type Service, type ServiceOptions } from '../../src/service-runner.js';
import { silentLogger, type Logger } from '../../src/log.js';
import type { Clock } from '../../src/clock.js';
import { freePort } from './free-port.js';

export interface RunningService {
  app: App;
  service: Service;
  /** http://127.0.0.1:PORT, which is also PUBLIC_URL. */
  base: string;
  /** Stops the service, then closes the app (store, messenger). */
  stop(): Promise<void>;
}

/** `dir` from tempDir() at the describe's level; call `stop()` in its afterAll. */
export async function startTestService(
  dir: string,
  env: Record<string, string> = {},
  opts: { log?: Logger; clock?: Clock; service?: ServiceOptions } = {},
): Promise<RunningService> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const config = loadConfig({
    DATA_DIR: dir,
    PORT: String(port),
    PUBLIC_URL: base,
    INBOUND_SMTP_ENABLED: 'false',
    SCHEDULER_ENABLED: 'false',
    FETCH_ENABLED: 'false',
    ...env,
  });
  const app = createApp(config, { log: opts.log ?? silentLogger, ...(opts.clock ? { clock: opts.clock } : {}) });
  const service = await startService(app, opts.service);
  return {
    app,
    service,
    base,
    async stop() {
      await service.stop();
      await app.close();
    },
  };
}
