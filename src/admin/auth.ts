// Owns who is an admin over HTTP: `Authorization: Bearer ADMIN_TOKEN`, or a login form that sets a signed cookie.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import { systemClock } from '../clock.js';
import { ADMIN_PAGE_CSP, registerAdminAssets, renderAdminPage, useAdminHeaders } from './console-views.js';

/** Every message the login flow shows, in one place. */
const MESSAGES = {
  wrongToken: 'That token is not right. It is the ADMIN_TOKEN the server printed at start (or set in .env).',
  disabled: 'The admin pages are off because ADMIN_TOKEN is not set.',
  unauthorizedJson: 'unauthorized: send Authorization: Bearer <ADMIN_TOKEN>',
  lockedOutJson: (seconds: number) => `too many wrong admin tokens from this address: try again in ${seconds} s`,
  lockedOut: (minutes: number) => `Too many wrong tokens from this address. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
} as const;

export const ADMIN_COOKIE = 'paperboy_admin';
const SESSION_HOURS = 12;

export interface AdminAuthDeps {
  config: Pick<Config, 'ADMIN_TOKEN' | 'PUBLIC_URL'> & Partial<Pick<Config, 'ADMIN_LOGIN_MAX_FAILURES' | 'ADMIN_LOGIN_LOCKOUT_MINUTES'>>;
  /** Overrides config.ADMIN_TOKEN (e.g. a token generated at start when none is configured). */
  adminToken?: string;
  clock?: Clock;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Constant time whatever the lengths: both sides are hashed to 32 bytes first. */
export function tokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(expected));
}

/** `<expiry ms>.<hmac>`: proves a login happened without putting the token itself in the browser. */
function sessionValue(token: string, expires: number): string {
  return `${expires}.${createHmac('sha256', token).update(`paperboy-admin-session:${expires}`).digest('base64url')}`;
}

function cookieOf(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sessionValid(value: string | undefined, token: string, now: number): boolean {
  if (!value) return false;
  const m = /^(\d{1,16})\.[A-Za-z0-9_-]{43}$/.exec(value);
  if (!m) return false;
  const expires = Number(m[1]);
  return expires > now && tokenMatches(value, sessionValue(token, expires));
}

/** Only paths inside the admin area: no `//host`, no scheme, so the login cannot bounce anyone elsewhere. */
function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/admin(?:[/?#]|$)/.test(next) && !next.includes('\\') && !/[\x00-\x1f]/.test(next) ? next : '/admin';
}

function wantsHtml(req: FastifyRequest): boolean {
  return (req.headers.accept ?? '').includes('text/html');
}

async function deny(req: FastifyRequest, reply: FastifyReply, token: string | undefined): Promise<FastifyReply> {
  reply.code(token ? 401 : 503);
  if (token) reply.header('WWW-Authenticate', 'Bearer realm="paperboy admin"');
  if (!wantsHtml(req)) return reply.send({ error: token ? MESSAGES.unauthorizedJson : MESSAGES.disabled });
  const html = renderAdminPage('admin-login', {
    title: 'Admin sign in',
    signedIn: false,
    next: safeNext(req.url),
    error: token ? undefined : MESSAGES.disabled,
    disabled: !token,
  });
  return reply.type('text/html; charset=utf-8').send(html);
}

/**
 * Is this request an admin's? A Bearer header (API, curl) or the login cookie (browser). A wrong header is
 * refused even when a good cookie is also present: the caller said who it is. The only credential check:
 * `requireAdmin` is built on it.
 */
export function adminCheck(deps: AdminAuthDeps): (req: FastifyRequest) => boolean {
  const token = deps.adminToken ?? deps.config.ADMIN_TOKEN;
  const clock = deps.clock ?? systemClock;
  return (req) => {
    if (!token) return false;
    const auth = req.headers.authorization;
    if (auth !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
      return !!m && tokenMatches(m[1], token);
    }
    return sessionValid(cookieOf(req, ADMIN_COOKIE), token, clock.now().getTime());
  };
}

type LoginLimiter = ReturnType<typeof createLoginLimiter>;
const limiters = new WeakMap<object, LoginLimiter>();

/**
 * One count of wrong tokens per client for the sign-in form and for Bearer headers alike: with a count of its own
 * behind the form only, a client sending wrong Bearer tokens to any admin URL was never slowed (60 in a row, all 401).
 * Keyed by the config object, which the guard and the sign-in routes of one server share.
 */
function limiterFor(deps: AdminAuthDeps): LoginLimiter {
  let l = limiters.get(deps.config);
  if (!l) {
    l = createLoginLimiter(deps.config.ADMIN_LOGIN_MAX_FAILURES ?? 5, (deps.config.ADMIN_LOGIN_LOCKOUT_MINUTES ?? 15) * 60_000, deps.clock ?? systemClock);
    limiters.set(deps.config, l);
  }
  return l;
}

/** Only a client that asks for JSON and not HTML: the sign-in form's answers stay HTML for curl and browsers. */
function asksForJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

/** 429 with Retry-After: the sign-in form (saying how long) for a browser, JSON for an API client. */
function lockedOut(req: FastifyRequest, reply: FastifyReply, waitMs: number, next: string, token: string | undefined, json: boolean): FastifyReply {
  const seconds = Math.ceil(waitMs / 1000);
  req.log.warn({ ip: req.ip }, 'admin sign-in locked out');
  reply.code(429).header('Retry-After', String(seconds));
  if (json) return reply.send({ error: 'too_many_requests', message: MESSAGES.lockedOutJson(seconds) });
  return reply.type('text/html; charset=utf-8').send(
    renderAdminPage('admin-login', {
      title: 'Admin sign in',
      signedIn: false,
      next,
      disabled: !token,
      error: MESSAGES.lockedOut(Math.ceil(waitMs / 60_000)),
    }),
  );
}

/** The admin guard: a preHandler that answers 401 (the login form for browsers), or 503 without ADMIN_TOKEN. */
export type AdminGuard = preHandlerAsyncHookHandler;

/** The one guard in front of every admin route (dashboard, runs, sends, outbox, preview): see `adminRoutes`. */
export function requireAdmin(deps: AdminAuthDeps): AdminGuard {
  const token = deps.adminToken ?? deps.config.ADMIN_TOKEN;
  const isAdmin = adminCheck(deps);
  const limiter = limiterFor(deps);
  return async function adminOnly(req, reply) {
    // A Bearer header is a try at the token, like the form: refused while locked out (even when right), counted when
    // wrong. A session cookie is not: it proves an earlier sign-in, and an expired one is no guess.
    const bearer = req.headers.authorization !== undefined;
    if (bearer && token) {
      const wait = limiter.lockedFor(req.ip);
      if (wait > 0) return lockedOut(req, reply, wait, safeNext(req.url), token, !wantsHtml(req));
    }
    if (isAdmin(req)) return;
    if (bearer && token) {
      limiter.fail(req.ip);
      req.log.warn({ ip: req.ip }, 'admin request with a wrong token');
    }
    return deny(req, reply, token);
  };
}

/**
 * How every admin route module registers: in its own encapsulated context with the guard as that context's
 * preHandler hook, so a route added there, now or later, cannot be reached without it (a per-route preHandler
 * would have to be remembered on each one). Only /admin/login and /admin/logout live outside.
 */
export async function adminRoutes(app: FastifyInstance, guard: AdminGuard, routes: (scope: FastifyInstance) => void | Promise<void>): Promise<void> {
  await app.register(async (scope) => {
    useAdminHeaders(scope);
    scope.addHook('preHandler', guard);
    await routes(scope);
  });
}

/**
 * Wrong tokens per client address: after `max` failures the address is locked out until `lockoutMs` after the
 * last one, so guessing the token costs the lockout per handful of tries. In memory: a restart forgives, which
 * is fine for a token of 16+ random characters.
 */
export function createLoginLimiter(max: number, lockoutMs: number, clock: Clock) {
  const failures = new Map<string, { count: number; last: number }>();
  const sweep = (now: number) => {
    for (const [k, v] of failures) if (now - v.last >= lockoutMs) failures.delete(k);
  };
  return {
    /** Milliseconds this address must still wait, or 0 when it may try. */
    lockedFor(addr: string): number {
      const f = failures.get(addr);
      if (!f || f.count < max) return 0;
      const left = f.last + lockoutMs - clock.now().getTime();
      if (left <= 0) failures.delete(addr);
      return Math.max(0, left);
    },
    fail(addr: string): void {
      const now = clock.now().getTime();
      if (failures.size > 10_000) sweep(now);
      const f = failures.get(addr);
      failures.set(addr, { count: (f && now - f.last < lockoutMs ? f.count : 0) + 1, last: now });
    },
    succeed(addr: string): void {
      failures.delete(addr);
    },
  };
}

/** GET/POST /admin/login and POST /admin/logout, in their own context with their own CSP. Register once per server. */
export async function registerAdminLogin(app: FastifyInstance, deps: AdminAuthDeps): Promise<void> {
  const token = deps.adminToken ?? deps.config.ADMIN_TOKEN;
  const clock = deps.clock ?? systemClock;
  const secure = deps.config.PUBLIC_URL.startsWith('https:');
  const limiter = limiterFor(deps);
  const cookie = (value: string, maxAge: number) =>
    `${ADMIN_COOKIE}=${value}; Path=/admin; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;

  await registerAdminAssets(app);
  await app.register(async (scope) => {
    if (!scope.hasContentTypeParser('application/x-www-form-urlencoded')) await scope.register(formbody);
    scope.addHook('onSend', async (_req, reply) => {
      reply.header('Cache-Control', 'no-store');
      reply.header('Content-Security-Policy', ADMIN_PAGE_CSP);
      reply.header('X-Content-Type-Options', 'nosniff');
    });

    scope.get('/admin/login', async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      return reply.type('text/html; charset=utf-8').send(
        renderAdminPage('admin-login', {
          title: 'Admin sign in',
          signedIn: false,
          next: safeNext(q.next),
          disabled: !token,
          error: token ? undefined : MESSAGES.disabled,
        }),
      );
    });

    scope.post('/admin/login', async (req, reply) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const next = safeNext(body.next);
      const given = typeof body.token === 'string' ? body.token.trim() : undefined;
      // Checked before the token, so a locked-out address learns nothing, not even from a right guess.
      const wait = limiter.lockedFor(req.ip);
      if (wait > 0) return lockedOut(req, reply, wait, next, token, asksForJson(req));
      if (!token || !tokenMatches(given, token)) {
        if (token) {
          limiter.fail(req.ip);
          req.log.warn({ ip: req.ip }, 'admin login with a wrong token');
        }
        return reply
          .code(token ? 401 : 503)
          .type('text/html; charset=utf-8')
          .send(
            renderAdminPage('admin-login', {
              title: 'Admin sign in',
              signedIn: false,
              next,
              disabled: !token,
              error: token ? MESSAGES.wrongToken : MESSAGES.disabled,
            }),
          );
      }
      limiter.succeed(req.ip);
      const expires = clock.now().getTime() + SESSION_HOURS * 3600_000;
      reply.header('Set-Cookie', cookie(sessionValue(token, expires), SESSION_HOURS * 3600));
      return reply.redirect(next, 303);
    });

    scope.post('/admin/logout', async (_req, reply) => {
      reply.header('Set-Cookie', cookie('', 0));
      return reply.redirect('/admin/login', 303);
    });
  });
}
