// Owns rendering the admin pages: the templates under templates/admin/, their stylesheet and script, and the CSP they run under.
import Handlebars from 'handlebars';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

const here = dirname(fileURLToPath(import.meta.url));
export const ADMIN_TEMPLATES_DIR = join(here, '..', '..', 'templates', 'admin');

/**
 * Every admin page: its stylesheet and script come from this server, nothing inline, so no 'unsafe-inline' is needed.
 * An email is shown in a frame loaded from its own URL (see EMAIL_FRAME_CSP), hence frame-src 'self'.
 */
export const ADMIN_PAGE_CSP = [
  "default-src 'none'",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "frame-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * An email's HTML as the admin frames it: its own inline styles and remote images, as an inbox shows them, and no
 * script (the sandbox directive applies even when the URL is opened outside the frame). Only our own pages may frame it.
 */
export const EMAIL_FRAME_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'; sandbox";

// A private instance: helpers and partials here do not leak into the email or public page renderers.
const hbs = Handlebars.create();
const cache = new Map<string, Handlebars.TemplateDelegate>();

hbs.registerHelper('isoDate', (d: unknown) => (d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString() : ''));
hbs.registerHelper('shortDate', (d: unknown) =>
  d instanceof Date && !Number.isNaN(d.getTime()) ? d.toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : '—',
);
hbs.registerHelper('bytes', (n: unknown) => {
  const v = Number(n);
  if (!Number.isFinite(v)) return '';
  return v < 1024 ? `${v} B` : v < 1024 * 1024 ? `${(v / 1024).toFixed(1)} KB` : `${(v / 1024 / 1024).toFixed(1)} MB`;
});
hbs.registerHelper('eq', (a: unknown, b: unknown) => a === b);

function template(name: string): Handlebars.TemplateDelegate {
  let t = cache.get(name);
  if (!t) {
    t = hbs.compile(readFileSync(join(ADMIN_TEMPLATES_DIR, `${name}.hbs`), 'utf8'));
    cache.set(name, t);
  }
  return t;
}

interface Asset {
  body: string;
  type: string;
  version: string;
}

function asset(file: string, type: string): Asset {
  const body = readFileSync(join(ADMIN_TEMPLATES_DIR, file), 'utf8');
  return { body, type, version: createHash('sha256').update(body).digest('base64url').slice(0, 10) };
}

// The site's stylesheet comes first (its tokens and components); only its version is needed here, to bust caches.
const SITE_CSS_VERSION = createHash('sha256')
  .update(readFileSync(join(ADMIN_TEMPLATES_DIR, '..', 'web', 'style.css')))
  .digest('base64url')
  .slice(0, 10);

const ASSETS = {
  '/static/admin.css': asset('admin.css', 'text/css; charset=utf-8'),
  '/static/admin.js': asset('admin.js', 'text/javascript; charset=utf-8'),
} as const;

/** The navigation, in order; `nav` in a page's data names the current one. */
const NAV = [
  { id: 'dashboard', href: '/admin', label: 'Dashboard' },
  { id: 'send', href: '/admin/send', label: 'Send' },
  { id: 'runs', href: '/admin/runs', label: 'Runs' },
  { id: 'subscribers', href: '/admin/subscribers', label: 'Subscribers' },
  { id: 'preview', href: '/admin/preview', label: 'Preview' },
  { id: 'outbox', href: '/admin/outbox', label: 'Outbox' },
] as const;

export type AdminNav = (typeof NAV)[number]['id'];

/**
 * Renders `name` inside the admin layout. Every value is escaped by `{{ }}`; the templates never use `{{{ }}}`.
 * `nav` marks the current page; `signedIn: false` (the sign-in page) hides the navigation.
 */
export function renderAdminPage(name: string, data: Record<string, unknown> & { nav?: AdminNav; signedIn?: boolean }): string {
  const body = template(name)(data);
  return template('admin-layout')({
    ...data,
    signedIn: data.signedIn ?? true,
    navItems: NAV.map((n) => ({ ...n, current: n.id === data.nav })),
    siteCssVersion: SITE_CSS_VERSION,
    cssVersion: ASSETS['/static/admin.css'].version,
    jsVersion: ASSETS['/static/admin.js'].version,
    body: new hbs.SafeString(body),
  });
}

const emailFrames = new WeakSet<FastifyReply>();

/** Sends an email's HTML to be framed by an admin page, under EMAIL_FRAME_CSP instead of the admin pages' policy. */
export function sendEmailFrame(reply: FastifyReply, html: string): FastifyReply {
  emailFrames.add(reply);
  return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html);
}

/**
 * The admin pages' headers, for an admin route context. An onSend hook of a child context runs after the app's, so
 * this policy replaces the site's for these pages (and only these).
 */
export function useAdminHeaders(scope: FastifyInstance): void {
  scope.addHook('onSend', async (_req, reply) => {
    const type = String(reply.getHeader('content-type') ?? '');
    if (!type.startsWith('text/html')) return;
    reply.header('cache-control', 'no-store');
    if (emailFrames.has(reply)) {
      reply.header('content-security-policy', EMAIL_FRAME_CSP);
      // The app says DENY for every page; this one is meant to be framed, by our own pages only.
      reply.header('x-frame-options', 'SAMEORIGIN');
    } else {
      reply.header('content-security-policy', ADMIN_PAGE_CSP);
    }
  });
}

/** GET /static/admin.css and /static/admin.js, public (the sign-in page needs them), cached as /static/style.css is. */
export async function registerAdminAssets(app: FastifyInstance): Promise<void> {
  await app.register(async (scope) => {
    for (const [path, a] of Object.entries(ASSETS)) {
      scope.get(path, async (_req, reply) => reply.type(a.type).header('Cache-Control', 'public, max-age=86400').send(a.body));
    }
  });
}
