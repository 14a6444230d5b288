// Owns what a route module gets from the web server: its deps, the plugin shape, reply.page and the error page.
// Kept apart from server.ts so routes never import the server that imports them.
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../config.js';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { SubscriptionService } from '../subscriptions/lifecycle.js';
import type { PageData, Views } from './views.js';

export type ErrorMessage = { title: string; heading: string; lines: readonly string[] };

export interface WebDeps {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  /** Link-signing key (SECRET_KEY, resolved). */
  secret: string;
  subscriptions: SubscriptionService;
  views: Views;
}

/** Another area's pages: called with the app and the same deps, after the built-in routes. */
export type RoutePlugin = (app: FastifyInstance, deps: WebDeps) => void | Promise<void>;

declare module 'fastify' {
  interface FastifyReply {
    /** Renders templates/web/<name>.hbs in the layout as this reply's HTML body. */
    page(name: string, data: PageData, status?: number): FastifyReply;
  }
}

/**
 * An error answer in a route's own words, thrown from any area's route: the web server's error handler answers it as
 * every other error (the site's error page under the site's CSP for a browser, JSON for a JSON client).
 */
export class PageError extends Error {
  constructor(
    readonly statusCode: number,
    readonly page: ErrorMessage,
  ) {
    super(page.lines.join(' '));
    this.name = 'PageError';
  }
}

/** What templates/web/error.hbs is rendered with. */
export function errorPageData(status: number, m: ErrorMessage): PageData {
  return { ...m, lines: [...m.lines], narrow: true, status };
}

/**
 * Answers a route's error in its own words, through the server's error handler: the page for a browser, JSON for a
 * JSON client (a bad or expired link answered HTML even to `Accept: application/json`).
 */
export function renderError(_reply: FastifyReply, status: number, m: ErrorMessage): never {
  throw new PageError(status, m);
}
