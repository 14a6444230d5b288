// Owns the HTTP server: fastify with forms, rate limits, security headers, the shared pages and the error pages.
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import { loadViews, type PageData, type Views } from './views.js';
import { errorPageData, PageError, type ErrorMessage, type RoutePlugin, type WebDeps } from './route-context.js';
import { registerSubscribeRoutes } from './routes/subscribe.js';
import { registerConfirmRoutes } from './routes/confirm.js';
import { registerManageRoutes } from './routes/manage.js';
import { parseMultipartFields } from './multipart.js';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

const MESSAGES = {
  notFound: { title: 'Page not found', heading: 'Page not found', lines: ['There is nothing at this address. Check the link, or start from the home page.'] },
  tooMany: {
    title: 'Slow down',
    heading: 'Too many tries',
    lines: ['You have sent this form several times in a short while. Please wait a minute and try again.'],
  },
  badRequest: { title: 'Something is off', heading: 'We could not read that request', lines: ['Please go back and try again.'] },
  server: {
    title: 'Something went wrong',
    heading: 'Something went wrong on our side',
    lines: ['Please try again in a moment. If it keeps happening, let the person who runs this site know.'],
  },
  tooLarge: {
    title: 'Too large',
    heading: 'That was too large to send',
    lines: ['What you sent is larger than this site takes. Please go back, shorten it and try again.'],
  },
  unsupported: {
    title: 'Unsupported request',
    heading: 'We could not read that kind of request',
    lines: ['This site takes forms sent from its own pages. Please go back and use the form.'],
  },
  headersTooLarge: {
    title: 'Request too large',
    heading: 'Your browser sent too much with this request',
    lines: ['Its headers (usually cookies) were larger than this site takes. Clear this site’s cookies and try again.'],
  },
  timeout: {
    title: 'Too slow',
    heading: 'That request took too long to arrive',
    lines: ['The connection was too slow for this site to wait. Please try again.'],
  },
  closing: {
    title: 'Restarting',
    heading: 'The site is restarting',
    lines: ['It will be back in a moment. Please wait a few seconds and try again.'],
  },
  busy: {
    title: 'Busy',
    heading: 'We are busy, try again',
    lines: ['The site is busy for a moment and did not take your request. Please wait a few seconds and try again.'],
  },
} as const;

/** What an error answer says: the page for browsers, `error` and `message` for JSON clients. */
interface ErrorAnswer {
  status: number;
  code: string;
  page: ErrorMessage;
  /** Seconds, for 429 and 503: when to come back. */
  retryAfter?: number;
}

// Seconds a client should wait after SQLITE_BUSY: the writer holding the database is usually done by then.
const BUSY_RETRY_AFTER_SECONDS = 5;
// Seconds to wait when the server is shutting down: a restart is back about then.
const CLOSING_RETRY_AFTER_SECONDS = 5;

/**
 * Every error, whoever threw it: a route, the body parser (413, 415, 400), the rate limit (429) or the database
 * (SQLITE_BUSY, which better-sqlite3 throws with no HTTP status).
 */
function classify(err: FastifyError & { code?: string }): ErrorAnswer {
  const code = typeof err.code === 'string' ? err.code : '';
  // SQLITE_BUSY and its extended codes (SQLITE_BUSY_SNAPSHOT, …), and SQLITE_LOCKED: the same "try again" to a client.
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return { status: 503, code: 'busy', page: MESSAGES.busy, retryAfter: BUSY_RETRY_AFTER_SECONDS };
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode <= 599 ? err.statusCode : 500;
  const answer = byStatus(status);
  return err instanceof PageError ? { ...answer, page: err.page } : answer;
}

function byStatus(status: number): ErrorAnswer {
  if (status === 404) return { status, code: 'not_found', page: MESSAGES.notFound };
  if (status === 413) return { status, code: 'too_large', page: MESSAGES.tooLarge };
  if (status === 415) return { status, code: 'unsupported_media_type', page: MESSAGES.unsupported };
  if (status === 429) return { status, code: 'too_many_requests', page: MESSAGES.tooMany, retryAfter: 60 };
  if (status === 409) return { status, code: 'conflict', page: MESSAGES.badRequest };
  if (status === 410) return { status, code: 'gone', page: MESSAGES.notFound };
  if (status === 408) return { status, code: 'request_timeout', page: MESSAGES.timeout };
  if (status === 431) return { status, code: 'request_header_fields_too_large', page: MESSAGES.headersTooLarge };
  if (status === 503) return { status, code: 'unavailable', page: MESSAGES.closing, retryAfter: CLOSING_RETRY_AFTER_SECONDS };
  if (status < 500) return { status, code: 'bad_request', page: MESSAGES.badRequest };
  return { status, code: 'server_error', page: MESSAGES.server };
}

// The JSON API: these answer JSON to everyone, so their errors do too; elsewhere the Accept header decides.
const JSON_ROUTES = /^\/(?:api\/|admin\/api\/|admin\/send(?:[/?]|$)|healthz(?:[/?]|$))/;
// ...except the Send page's own forms: GET /admin/send is the page, its dry run and confirm are form posts.
const SEND_PAGES = /^(?:GET|HEAD) \/admin\/send(?:\?|$)|^POST \/admin\/send\/(?:dry-run|confirm)(?:[/?]|$)/;

/** True for a client that asked for JSON (or called the JSON API); browsers, and anyone unsure, get HTML. */
export function wantsJson(req: Pick<FastifyRequest, 'url' | 'headers'> & { method?: string }): boolean {
  if (JSON_ROUTES.test(req.url) && !SEND_PAGES.test(`${req.method ?? 'GET'} ${req.url}`)) return true;
  const accept = String(req.headers.accept ?? '');
  return accept.includes('application/json') && !accept.includes('text/html');
}

/**
 * The URL and Accept header of a request Node refused before parsing it (headers too large, too slow), read from the
 * bytes it had: enough to answer a browser with a page and an API client with JSON.
 */
export function peekRequest(raw: Buffer | undefined): { method: string; url: string; headers: { accept?: string } } {
  const text = raw ? raw.subarray(0, 64 * 1024).toString('latin1') : '';
  const line = /^([A-Z]+) (\S+) HTTP\//.exec(text);
  const accept = /\r\naccept:[ \t]*([^\r\n]*)/i.exec(text)?.[1];
  return { method: line?.[1] ?? 'GET', url: line?.[2] ?? '/', headers: accept === undefined ? {} : { accept } };
}

/**
 * Sets a header no later hook can change on this reply. An area with its own CSP (the archive, the admin sign-in)
 * sets it in an onSend hook of its context, which runs after the app's; on the site's error page that policy
 * (`style-src 'unsafe-inline'`) blocked the site's stylesheet, so the page came out unstyled.
 */
function pinHeader(reply: FastifyReply, name: string, value: string): void {
  reply.header(name, value);
  const header = reply.header.bind(reply);
  reply.header = (key: string, v: unknown) => (key.toLowerCase() === name ? reply : header(key, v));
}

type ErrorSender = (req: FastifyRequest, reply: FastifyReply, a: ErrorAnswer) => FastifyReply;

/** An error answer written straight to a socket (Node refused the request before Fastify saw it). */
function rawErrorResponse(views: Views, config: WebDeps['config'], csp: string, a: ErrorAnswer, json: boolean): string {
  const body = json
    ? JSON.stringify({ error: a.code, message: a.page.lines.join(' ') })
    : views.render('error', { senderLine: config.SENDER_ADDRESS_LINE, ...errorPageData(a.status, a.page) });
  const head = [
    `HTTP/1.1 ${a.status} ${STATUS_CODES[a.status] ?? 'Error'}`,
    `Content-Type: ${json ? 'application/json' : 'text/html'}; charset=utf-8`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    'X-Content-Type-Options: nosniff',
    'Referrer-Policy: no-referrer',
    'Cache-Control: no-store',
    ...(json ? [] : [`Content-Security-Policy: ${csp}`, 'X-Frame-Options: DENY']),
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}

/** Answers an error: JSON for a JSON client, else the site's error page (rendered here, not with reply.page: the
 * reply Fastify makes for a URL that does not decode is not decorated). */
function errorSender(views: Views, config: WebDeps['config'], csp: string): ErrorSender {
  return (req, reply, a) => {
    // A 429's Retry-After is the rate limit's own (seconds until its window ends), set before it threw; keep it.
    if (a.retryAfter !== undefined && !reply.hasHeader('retry-after')) reply.header('Retry-After', String(a.retryAfter));
    if (wantsJson(req)) {
      return reply
        .code(a.status)
        .type('application/json; charset=utf-8')
        .send({ error: a.code, message: a.page.lines.join(' ') });
    }
    pinHeader(reply, 'content-security-policy', csp);
    return reply
      .code(a.status)
      .type('text/html; charset=utf-8')
      .send(views.render('error', { senderLine: config.SENDER_ADDRESS_LINE, ...errorPageData(a.status, a.page) }));
  };
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

export async function buildServer(input: Omit<WebDeps, 'views'> & { views?: Views; routes?: RoutePlugin[] }): Promise<FastifyInstance> {
  const deps: WebDeps = { ...input, views: input.views ?? loadViews() };
  const { config, views } = deps;
  const csp = [
    "default-src 'none'",
    "style-src 'self'",
    `script-src ${views.scriptHashes.join(' ') || "'none'"}`,
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  const sendError = errorSender(views, config, csp);
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // One log line per request is noise here; routes log what matters (subscribe, confirm, unsubscribe).
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: config.TRUST_PROXY,
    bodyLimit: 64 * 1024,
    // Our own 503 while closing (onRequest below): Fastify's is bare JSON, even to a browser.
    return503OnClosing: false,
    // requestTimeout bounds the whole request (headers and body) however slowly it trickles in; connectionTimeout
    // is the socket's idle time, so a client sending a byte every few seconds beats it and only requestTimeout ends it.
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    connectionTimeout: config.HTTP_CONNECTION_TIMEOUT_MS,
    http: httpServerOptions(config.HTTP_REQUEST_TIMEOUT_MS),
    // A URL that does not decode ('/%c0') never reaches a route or the error handler; without this it got Fastify's
    // bare JSON (with its FST_ERR code) even in a browser.
    frameworkErrors: (err, req, reply) => {
      req.log.debug({ url: req.url, code: err.code }, 'request refused');
      return sendError(req, reply, classify(err));
    },
    // Requests Node refuses before Fastify sees them: headers too large (431), too slow (408), unparsable (400).
    // Fastify's own handler answers bare JSON, even to a browser.
    clientErrorHandler(e, socket: Socket) {
      const err = e as unknown as { code?: string; rawPacket?: Buffer };
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const answer = byStatus(status);
      deps.log.debug({ code: err.code, status }, 'request refused before parsing');
      if (socket.writable) socket.write(rawErrorResponse(views, config, csp, answer, wantsJson(peekRequest(err.rawPacket))));
      socket.destroy();
    },
  });

  // Fastify's return503OnClosing, as the site's error page for a browser and JSON for the API. Set on the root before
  // anything is registered, so every area's routes (and the 404 handler) get it.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (req, reply) => {
    if (!closing) return;
    reply.header('Connection', 'close');
    return sendError(req, reply, byStatus(503));
  });

  // Set before anything is registered: a plugin context (every area's routes live in one) takes the handlers its
  // parent has when it is created, so handlers set last reached only the root's own routes and the rest got
  // Fastify's bare JSON for a 413, 415, 429 or a busy database.
  app.setNotFoundHandler((req, reply) => {
    // Not logged as a warning: scanners probe many addresses, and a 404 needs nobody's attention.
    req.log.debug({ url: req.url, method: req.method }, 'not found');
    return sendError(req, reply, classify(Object.assign(new Error('not found'), { statusCode: 404 }) as FastifyError));
  });
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const answer = classify(err);
    const entry = { err, url: req.url, method: req.method, status: answer.status, code: err.code };
    // A route's own answer (no such paper, not a date) is an ordinary outcome, like a 404.
    if (err instanceof PageError) req.log.debug({ url: req.url, method: req.method, status: answer.status }, 'request answered with an error page');
    else if (answer.status >= 500) req.log.error(entry, 'request failed');
    else req.log.warn(entry, 'request refused');
    return sendError(req, reply, answer);
  });

  await app.register(formbody, { bodyLimit: 64 * 1024 });
  // RFC 8058 lets mail providers send the one-click POST as multipart; only small flat fields are needed.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 16 * 1024 }, (req, body, done) => {
    done(null, parseMultipartFields(String(body), String(req.headers['content-type'] ?? '')));
  });
  // Limits apply only to routes that opt in (subscribe, resubscribe), keyed by client IP.
  await app.register(rateLimit, { global: false });

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
    return this.code(status)
      .type('text/html; charset=utf-8')
      .send(views.render(name, { senderLine: config.SENDER_ADDRESS_LINE, ...data }));
  });

  app.get('/static/style.css', async (_req, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=86400').send(views.css));
  app.get('/healthz', async () => ({ ok: true }));

  await registerSubscribeRoutes(app, deps);
  await registerConfirmRoutes(app, deps);
  await registerManageRoutes(app, deps);
  for (const routes of input.routes ?? []) await routes(app, deps);

  return app;
}
