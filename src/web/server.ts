// Owns the HTTP server: fastify with forms, rate limits, security headers, the shared pages and the error pages.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import type { Config } from '../config.js';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { SubscriptionService } from '../subscriptions/service.js';
import { loadViews, type PageData, type Views } from './views.js';
import { registerSubscribeRoutes } from './routes/subscribe.js';
import { registerConfirmRoutes } from './routes/confirm.js';
import { registerManageRoutes } from './routes/manage.js';
import { parseMultipartFields } from './multipart.js';

const MESSAGES = {
  notFound: { title: 'Page not found', heading: 'Page not found', lines: ['There is nothing at this address. Check the link, or start from the home page.'] },
  tooMany: { title: 'Slow down', heading: 'Too many tries', lines: ['You have sent this form several times in a short while. Please wait a minute and try again.'] },
  badRequest: { title: 'Something is off', heading: 'We could not read that request', lines: ['Please go back and try again.'] },
  server: { title: 'Something went wrong', heading: 'Something went wrong on our side', lines: ['Please try again in a moment. If it keeps happening, let the person who runs this site know.'] },
} as const;

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

export function renderError(reply: FastifyReply, status: number, m: { title: string; heading: string; lines: readonly string[] }) {
  return reply.page('error', { ...m, lines: [...m.lines], narrow: true }, status);
}

/**
 * Node checks request timeouts on a timer (every 30 s by default), so a short timeout would be enforced late; and
 * its 60 s headersTimeout would let headers trickle in for longer than the whole request may take.
 */
function httpServerOptions(requestTimeoutMs: number): { connectionsCheckingInterval?: number; headersTimeout?: number } {
  if (requestTimeoutMs === 0) return {};
  return {
    connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(requestTimeoutMs / 4))),
    headersTimeout: Math.min(60_000, requestTimeoutMs),
  };
}

export async function buildServer(
  input: Omit<WebDeps, 'views'> & { views?: Views; routes?: RoutePlugin[] },
): Promise<FastifyInstance> {
  const deps: WebDeps = { ...input, views: input.views ?? loadViews() };
  const { config, views } = deps;
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // One log line per request is noise here; routes log what matters (subscribe, confirm, unsubscribe).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.TRUST_PROXY,
    bodyLimit: 64 * 1024,
    return503OnClosing: true,
    // requestTimeout bounds the whole request (headers and body) however slowly it trickles in; connectionTimeout
    // is the socket's idle time, so a client sending a byte every few seconds beats it and only requestTimeout ends it.
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.HTTP_CONNECTION_TIMEOUT_MS,
    http: httpServerOptions(config.HTTP_REQUEST_TIMEOUT_MS),
  });

  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // RFC 8058 lets mail providers send the one-click POST as multipart; only small flat fields are needed.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 16 * 1024 }, (req, body, done) => {
    done(null, parseMultipartFields(String(body), String(req.headers['content-type'] ?? '')));
  });
  // Limits apply only to routes that opt in (subscribe, resubscribe), keyed by client IP.
  await app.register(rateLimit, { global: false });

  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    `script-src ${views.scriptHashes.join(' ') || "'none'"}`,
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  app.addHook('onSend', async (_req, reply) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    // Page URLs carry tokens; never leak them to the sites papers link to.
    reply.header('Referrer-Policy', 'no-referrer');
    reply.header('X-Frame-Options', 'DENY');
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('Content-Security-Policy', csp);
      reply.header('Cache-Control', 'no-store');
    }
  });

  app.decorateReply('page', function (this: FastifyReply, name: string, data: PageData, status = 200) {
    return this.code(status).type('text/html; charset=utf-8').send(views.render(name, { senderLine: config.SENDER_ADDRESS_LINE, ...data }));
  });

  app.get('/static/style.css', async (_req, reply) =>
    reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=86400').send(views.css),
  );
  app.get('/healthz', async () => ({ ok: true }));

  await registerSubscribeRoutes(app, deps);
  await registerConfirmRoutes(app, deps);
  await registerManageRoutes(app, deps);
  for (const routes of input.routes ?? []) await routes(app, deps);

  app.setNotFoundHandler((_req, reply) => renderError(reply, 404, MESSAGES.notFound));
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 429) return renderError(reply, 429, MESSAGES.tooMany);
    if (status >= 400 && status < 500) return renderError(reply, status, MESSAGES.badRequest);
    req.log.error({ err, url: req.url }, 'request failed');
    return renderError(reply, 500, MESSAGES.server);
  });
  return app;
}
