// Owns the composition root: builds every long-lived part once from the config and hands them down.
import { mkdirSync } from 'node:fs';
import type { Config } from './config.js';
import { openStore, type Store } from './db/open.js';
import { createLogger, type Logger } from './log.js';
import { systemClock, type Clock } from './clock.js';
import { resolveSecrets } from './secrets.js';
import { createMessenger } from './mail/create-messenger.js';
import type { Messenger } from './mail/messenger.js';
import { setHeapGrowth } from './heap.js';
import { createSelector, type Selector } from './digest/select.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR, type Renderer } from './render/renderer.js';
import { cachedMjml } from './render/mjml-cache.js';
import { createDigestSource } from './delivery/digest-source.js';
import type { DigestSource } from './delivery/ports.js';
import { readerLinks } from './delivery/reader-links.js';

/** The config with its secrets resolved: both are always present once the app is built. */
export type AppConfig = Config & { ADMIN_TOKEN: string; SECRET_KEY: string };

export interface App {
  config: AppConfig;
  store: Store;
  log: Logger;
  clock: Clock;
  /** How mail leaves: the embedded outbox or SMTP, per config. Made on first use, closed by close(). */
  readonly messenger: Messenger;
  close(): Promise<void>;
}

export function createApp(baseConfig: Config, opts: { log?: Logger; clock?: Clock } = {}): App {
  // Process-wide, so here at the root: every entry point (npm start, each CLI command) builds exactly one app.
  setHeapGrowth(baseConfig.HEAP_GROWTH_PERCENT);
  mkdirSync(baseConfig.DATA_DIR, { recursive: true });
  const config: AppConfig = { ...baseConfig, ...resolveSecrets(baseConfig) };
  const store = openStore(config.DATABASE_PATH);
  const log = opts.log ?? createLogger(config.LOG_LEVEL, config.LOG_FORMAT);
  if (store.search.setAside) log.warn({ file: store.search.setAside }, 'the search index file was unreadable: moved aside and built again from the corpus');
  const clock = opts.clock ?? systemClock;
  let messenger: Messenger | null = null;
  return {
    config,
    store,
    log,
    clock,
    get messenger() {
      return (messenger ??= createMessenger(config, log, clock));
    },
    async close() {
      await messenger?.close();
      store.close();
    },
  };
}

/** The renderer every part of the app uses: MJML's output remembered in the ledger (render/mjml-cache.ts). */
export function appRenderer(app: Pick<App, 'store' | 'clock' | 'config'>): Renderer {
  return createRenderer({ config: app.config, templatesDir: DEFAULT_TEMPLATES_DIR, compileMjml: cachedMjml(app.store, app.clock) });
}

/**
 * Delivery's digest from the real selector, renderer and signed links. The service passes the selector and renderer
 * it shares with its pages; otherwise they are made here (templates compiled once per source).
 */
export function digestSourceFor(app: Pick<App, 'store' | 'clock' | 'config'>, shared: { selector?: Selector; renderer?: Renderer } = {}): DigestSource {
  const { store, clock, config } = app;
  return createDigestSource({
    selector: shared.selector ?? createSelector({ store, clock }),
    renderer: shared.renderer ?? appRenderer(app),
    links: (id) => readerLinks(config, config.SECRET_KEY, id),
  });
}
