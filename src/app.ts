// Owns the composition root: builds every long-lived part once from the config and hands them down.
import { mkdirSync } from 'node:fs';
import type { Config } from './config.js';
import { openStore, type Store } from './db/open.js';
import { createLogger, type Logger } from './log.js';
import { systemClock, type Clock } from './clock.js';

export interface App {
  config: Config;
  store: Store;
  log: Logger;
  clock: Clock;
  close(): Promise<void>;
}

export function createApp(config: Config, opts: { log?: Logger; clock?: Clock } = {}): App {
  mkdirSync(config.DATA_DIR, { recursive: true });
  const store = openStore(config.DATABASE_PATH);
  const log = opts.log ?? createLogger(config.LOG_LEVEL);
  return {
    config,
    store,
    log,
    clock: opts.clock ?? systemClock,
    async close() {
      store.close();
    },
  };
}
