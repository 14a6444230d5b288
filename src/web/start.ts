// Owns starting the web app for `paperboy serve` / `npm start`: server + confirmation worker, stopped in order.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Messenger } from '../mail/messenger.js';
import { createSubscriptions, type Subscriptions } from '../subscriptions/subscription-wiring.js';
import { buildServer } from './server.js';
import type { RoutePlugin } from './route-context.js';

export interface RunningWeb {
  server: FastifyInstance;
  subscriptions: Subscriptions;
  /** The address it listens on, e.g. http://127.0.0.1:3000. */
  address: string;
  /** Stops taking requests, then lets the worker finish the send in flight. The messenger is the caller's to close. */
  stop(): Promise<void>;
}

/** What the web app needs of the composition root (src/app.ts passes itself). */
export interface WebAppDeps {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
}

export async function startWeb(
  app: WebAppDeps,
  messenger: Messenger,
  opts: {
    routes?: RoutePlugin[];
    port?: number;
    onListenError?: (err: unknown) => unknown;
    /** Called after a subscriber's choices change through the pages (their reader model refits). */
    onPreferencesChanged?: (subscriberId: number) => void;
  } = {},
): Promise<RunningWeb> {
  const { config, store, clock, log } = app;
  const secret = config.SECRET_KEY;
  if (!secret) throw new Error('SECRET_KEY must be resolved before the web app starts (createApp does this)');
  const subscriptions = await createSubscriptions({
    config,
    store,
    clock,
    log,
    messenger,
    secret,
    ...(opts.onPreferencesChanged ? { onPreferencesChanged: opts.onPreferencesChanged } : {}),
  });
  const server = await buildServer({
    config,
    store,
    clock,
    log,
    secret,
    subscriptions: subscriptions.service,
    ...(opts.routes ? { routes: opts.routes } : {}),
  });
  let address: string;
  try {
    address = await server.listen({ port: opts.port ?? config.PORT, host: config.HOST });
  } catch (err) {
    await server.close();
    throw opts.onListenError ? opts.onListenError(err) : err;
  }
  subscriptions.worker.start();
  log.info({ address, publicUrl: config.PUBLIC_URL }, 'web app listening');
  return {
    server,
    subscriptions,
    address,
    async stop() {
      await server.close();
      await subscriptions.worker.stop();
    },
  };
}
