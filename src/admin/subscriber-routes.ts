// Owns the admin subscriber pages: the list (search, status filter, paging), one subscriber, suppress, erase, CSV in and out.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Store } from '../db/open.js';
import type { Outbox } from '../mail/outbox.js';
import { eraseSubscriber, suppressSubscriber, unsuppressSubscriber } from '../subscriptions/admin-actions.js';
import { CsvFormatError } from '../subscriptions/csv.js';
import { exportCsvChunks } from '../subscriptions/export.js';
import { IMPORT_MESSAGES, importSubscribersCsv, type ImportSummary } from '../subscriptions/import.js';
import { defaultPreferences, WEEKDAYS } from '../subscriptions/preferences.js';
import { createSubscriberRepository, SubscriberRow, SubscriberStatus, type Subscriber } from '../subscriptions/repository.js';
import { parseMultipartFields } from '../web/multipart.js';
import { decimalInt } from '../web/params.js';
import { ADMIN_COOKIE, adminRoutes, type AdminGuard } from './auth.js';
import { ADMIN_TEMPLATES_DIR, renderAdminPage } from './console-views.js';

const MESSAGES = {
  notFound: 'No such subscriber',
  notFoundDetail: 'It may have been erased. Search the list for the address.',
  badPage: 'page must be a whole number from 1',
  badStatus: `status must be one of ${SubscriberStatus.options.join(', ')}`,
  forbidden: 'This form is out of date or came from another site. Go back, reload the page and try again.',
  suppressed: (email: string) => `${email} is suppressed: no digest or confirmation goes to it until you lift it.`,
  unsuppressed: (email: string, status: string) => `The suppression of ${email} is lifted; it is ${status} again.`,
  unchanged: (email: string, status: string) => `Nothing changed: ${email} is ${status}.`,
  erased: 'The subscriber and all their data are erased.',
  eraseMismatch: 'Type the address exactly as shown to erase it.',
  noFile: 'Choose a CSV file to import.',
  emptyFile: 'The file is empty: nothing was imported.',
  notMultipart: 'Send the import form (multipart/form-data with a file).',
  badCsv: (detail: string) => `The file could not be read: ${detail}`,
} as const;

/** The filters the list offers: the four statuses the table has, and complaints (a flag, not a status). */
const FILTERS = [
  { key: '', label: 'All' },
  { key: 'pending', label: 'Pending' },
  { key: 'active', label: 'Active' },
  { key: 'unsubscribed', label: 'Unsubscribed' },
  { key: 'bounced', label: 'Suppressed' },
  { key: 'complained', label: 'Complained' },
] as const;
type FilterKey = (typeof FILTERS)[number]['key'];

const PER_PAGE = 50;
const DETAIL_ROWS = 100;
const PROBLEMS_SHOWN = 200;
// A list moved from another tool can be large; 10 MiB is about 100,000 rows of the export's columns.
const IMPORT_MAX_BYTES = 10 * 1024 * 1024;
const PageNumber = decimalInt(1, 1_000_000, MESSAGES.badPage);
const SubscriberId = decimalInt(1, Number.MAX_SAFE_INTEGER);

const CSS_FILE = join(ADMIN_TEMPLATES_DIR, 'subscribers.css');
export const SUBSCRIBERS_CSS_PATH = '/static/admin-subscribers.css';

export interface SubscriberRouteDeps {
  store: Store;
  clock: Clock;
  config: Pick<Config, 'PUBLIC_URL' | 'DIGEST_SIZE_DEFAULT' | 'DEFAULT_TIME_ZONE'>;
  /** Keys the forms' CSRF tokens (bound to the sign-in cookie). */
  secret: string;
  /** The admin guard (`requireAdmin`), shared by every admin page. */
  guard: AdminGuard;
  /** The embedded outbox: an erase removes the messages it stored for the address. */
  outbox: Pick<Outbox, 'eraseRecipient'>;
}

/** `2026-11-23T09:00:00.000Z` -> `2026-11-23 09:00` (UTC, as the pages say). */
function minute(iso: string | null | undefined): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '';
}

function cssVersion(css: string): string {
  return (
    css.length.toString(36) +
    css
      .split('')
      .reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7)
      .toString(36)
  ).slice(0, 16);
}

function cookieOf(req: FastifyRequest, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * The sign-in cookie is SameSite=Strict, which already keeps other sites' forms from carrying it; a token bound to
 * that cookie is the second lock (and the one that holds where SameSite is not honoured). A request without the
 * cookie got past the guard with a Bearer header, which no browser sends on its own: it needs no token. The Origin
 * check refuses a foreign page outright; `null` is what Chromium sends for a form on a page with
 * `Referrer-Policy: no-referrer` (every page here), so it cannot be required.
 */
function csrfGuard(secret: string, publicUrl: string) {
  const tokenFor = (req: FastifyRequest): string => {
    const session = cookieOf(req, ADMIN_COOKIE);
    return session ? createHmac('sha256', secret).update(`paperboy-admin-csrf:${session}`).digest('base64url') : '';
  };
  const ownOrigins = (req: FastifyRequest) => new Set([new URL(publicUrl).origin, `${req.protocol}://${req.headers.host ?? ''}`]);
  return {
    tokenFor,
    ok(req: FastifyRequest, field: unknown): boolean {
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== 'null' && !ownOrigins(req).has(origin)) return false;
      const expected = tokenFor(req);
      if (!expected) return true;
      if (typeof field !== 'string' || field.length !== expected.length) return false;
      return timingSafeEqual(Buffer.from(field), Buffer.from(expected));
    },
  };
}

function parseFilter(v: unknown): FilterKey {
  return FILTERS.some((f) => f.key === v) ? (v as FilterKey) : '';
}

function listHref(f: { q?: string; status?: string; page?: number }): string {
  const p = new URLSearchParams();
  if (f.q) p.set('q', f.q);
  if (f.status) p.set('status', f.status);
  if (f.page && f.page > 1) p.set('page', String(f.page));
  const s = p.toString();
  return `/admin/subscribers${s ? `?${s}` : ''}`;
}

function schedule(s: Subscriber): string {
  if (s.frequency === 'weekly') return `weekly, on ${WEEKDAYS[s.weekday] ?? '?'}`;
  return s.frequency;
}

/** What a subscriber's state means for mail, in words, for the page's header. */
function stateLine(s: Subscriber): string {
  if (s.status === 'active') return 'Gets a digest at their delivery hour.';
  if (s.status === 'pending') return 'Has not confirmed yet: gets only the confirmation email.';
  if (s.status === 'unsubscribed') return `Unsubscribed${s.unsubscribed_at ? ` on ${minute(s.unsubscribed_at)} UTC` : ''}: gets nothing.`;
  return `Suppressed${s.bounced_at ? ` on ${minute(s.bounced_at)} UTC` : ''}: gets nothing${s.bounce_reason ? ` (${s.bounce_reason})` : ''}.`;
}

/** A 400 the app's error handler answers: its error page for a browser, JSON for an API client. */
function badRequest(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400 });
}

function one(v: unknown): string | undefined {
  return Array.isArray(v) ? (typeof v[0] === 'string' ? v[0] : undefined) : typeof v === 'string' ? v : undefined;
}

export async function registerSubscriberRoutes(app: FastifyInstance, deps: SubscriberRouteDeps): Promise<void> {
  const css = readFileSync(CSS_FILE, 'utf8');
  const cssHref = `${SUBSCRIBERS_CSS_PATH}?v=${cssVersion(css)}`;
  // Public, like /static/style.css: a stylesheet holds nothing secret, and the sign-in page may want it.
  app.get(SUBSCRIBERS_CSS_PATH, async (_req, reply) => reply.type('text/css; charset=utf-8').header('Cache-Control', 'public, max-age=86400').send(css));
  await adminRoutes(app, deps.guard, (scope) => addRoutes(scope, deps, cssHref));
}

function addRoutes(app: FastifyInstance, deps: SubscriberRouteDeps, cssHref: string): void {
  const { store, clock, config } = deps;
  const repo = createSubscriberRepository(store);
  const csrf = csrfGuard(deps.secret, config.PUBLIC_URL);

  // The guard again, before the body is read: an import may be megabytes, and only an admin's is worth buffering.
  app.addHook('onRequest', async function (req, reply) {
    return deps.guard.call(this, req, reply);
  });
  // The app's multipart parser takes 16 KiB of flat fields (the one-click unsubscribe); an import needs a file.
  app.removeContentTypeParser('multipart/form-data');
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: IMPORT_MAX_BYTES }, (req, body, done) => {
    done(null, parseMultipartFields(String(body), String(req.headers['content-type'] ?? '')));
  });

  const page = (req: FastifyRequest, reply: FastifyReply, name: string, data: Record<string, unknown>, status = 200) =>
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      .send(renderAdminPage(name, { signedIn: true, nav: 'subscribers', cssHref, csrf: csrf.tokenFor(req), ...data }));

  const notFound = (req: FastifyRequest, reply: FastifyReply) =>
    page(req, reply, 'subscribers-missing', { title: MESSAGES.notFound, heading: MESSAGES.notFound, detail: MESSAGES.notFoundDetail }, 404);

  const forbidden = (req: FastifyRequest, reply: FastifyReply) => {
    req.log.warn({ url: req.url, origin: req.headers.origin }, 'admin form refused: no valid CSRF token');
    return page(req, reply, 'subscribers-missing', { title: 'Refused', heading: 'Refused', detail: MESSAGES.forbidden }, 403);
  };

  const subscriberOf = (raw: unknown): Subscriber | null => {
    const id = SubscriberId.safeParse(raw);
    return id.success ? repo.byId(id.data) : null;
  };

  const counts = () => {
    const byStatus = repo.countByStatus();
    const complained = store.q('admin-subscriber-complained-count').get()!.n;
    const all = Object.values(byStatus).reduce((a, b) => a + b, 0);
    return { ...byStatus, complained, '': all } as Record<FilterKey, number>;
  };

  app.get('/admin/subscribers', async (req, reply) => {
    const query = req.query as Record<string, unknown>;
    const q = (one(query.q) ?? '').trim().slice(0, 320);
    const status = parseFilter(one(query.status));
    const requested = PageNumber.safeParse(one(query.page) ?? '1');
    if (!requested.success) throw badRequest(MESSAGES.badPage);
    const filter = {
      status: status === '' || status === 'complained' ? null : status,
      complained: status === 'complained' ? 1 : 0,
      q: q === '' ? null : q,
    };
    const total = store.q('admin-subscriber-search-count').get(filter)!.n;
    const pages = Math.max(1, Math.ceil(total / PER_PAGE));
    const current = Math.min(requested.data, pages);
    const rows = store
      .q('admin-subscriber-search')
      .all({ ...filter, limit: PER_PAGE, offset: (current - 1) * PER_PAGE })
      .map((r) => SubscriberRow.parse(r));
    const n = counts();
    const done = one(query.done);
    return page(req, reply, 'subscribers', {
      title: 'Subscribers',
      q,
      status,
      total,
      all: n[''],
      filters: FILTERS.map((f) => ({ ...f, n: n[f.key], on: f.key === status, href: listHref({ q, status: f.key }) })),
      rows: rows.map((s) => ({
        id: s.id,
        email: s.email,
        status: s.status,
        statusLabel: s.status === 'bounced' ? 'suppressed' : s.status,
        complained: s.complained_at !== null,
        schedule: schedule(s),
        kind: s.kind,
        created: minute(s.created_at).slice(0, 10),
        source: s.source,
      })),
      from: total === 0 ? 0 : (current - 1) * PER_PAGE + 1,
      to: Math.min(total, current * PER_PAGE),
      page: current,
      pages,
      prevHref: current > 1 ? listHref({ q, status, page: current - 1 }) : null,
      nextHref: current < pages ? listHref({ q, status, page: current + 1 }) : null,
      exportHref: `/admin/subscribers.csv${filter.status ? `?status=${filter.status}` : ''}`,
      exportLabel: filter.status ? `Export ${FILTERS.find((f) => f.key === filter.status)!.label.toLowerCase()} as CSV` : 'Export all as CSV',
      flash: done === 'erased' ? MESSAGES.erased : null,
    });
  });

  // The CLI's `subscribers export [--status S]`, byte for byte, as a download.
  app.get('/admin/subscribers.csv', async (req, reply) => {
    const raw = one((req.query as Record<string, unknown>).status);
    const status = raw === undefined || raw === '' ? undefined : SubscriberStatus.safeParse(raw);
    if (status && !status.success) throw badRequest(MESSAGES.badStatus);
    const day = clock.now().toISOString().slice(0, 10);
    const chunks = exportCsvChunks(repo, status?.data);
    return reply
      .type('text/csv; charset=utf-8')
      .header('Cache-Control', 'no-store')
      .header('Content-Disposition', `attachment; filename="subscribers-${status?.data ?? 'all'}-${day}.csv"`)
      .send(Readable.from(chunks));
  });

  app.get('/admin/subscribers/import', async (req, reply) => page(req, reply, 'subscribers-import', { title: 'Import subscribers' }));

  app.post('/admin/subscribers/import', async (req, reply) => {
    if (!String(req.headers['content-type'] ?? '').startsWith('multipart/form-data'))
      return page(req, reply, 'subscribers-import', { title: 'Import subscribers', error: MESSAGES.notMultipart }, 415);
    const body = (req.body ?? {}) as Record<string, string | string[]>;
    if (!csrf.ok(req, one(body.csrf))) return forbidden(req, reply);
    const confirmed = one(body.confirmed) === 'yes';
    const text = one(body.file);
    const fail = (error: string) => page(req, reply, 'subscribers-import', { title: 'Import subscribers', error, confirmed }, 400);
    if (text === undefined) return fail(MESSAGES.noFile);
    if (text.replace(/^\uFEFF/, '').trim() === '') return fail(MESSAGES.emptyFile);
    let summary: ImportSummary;
    try {
      summary = importSubscribersCsv(store, clock, text, {
        confirmed,
        defaults: defaultPreferences({ digestSize: config.DIGEST_SIZE_DEFAULT, timeZone: config.DEFAULT_TIME_ZONE }),
      });
    } catch (err) {
      // A file csv-parse cannot read to the end, or one with no address column: refused whole, nothing stored.
      if (err instanceof CsvFormatError || (err instanceof Error && err.message === IMPORT_MESSAGES.noEmailColumn)) return fail(MESSAGES.badCsv(err.message));
      throw err;
    }
    req.log.info({ rows: summary.rows, added: summary.added, skipped: summary.skipped.length, rejected: summary.rejected.length }, 'admin import');
    return page(req, reply, 'subscribers-import', {
      title: 'Import subscribers',
      confirmed,
      result: {
        ...summary,
        skippedCount: summary.skipped.length,
        rejectedCount: summary.rejected.length,
        // A page of a few hundred rows says enough; the counts above are the whole story.
        skippedShown: summary.skipped.slice(0, PROBLEMS_SHOWN),
        skippedMore: Math.max(0, summary.skipped.length - PROBLEMS_SHOWN),
        rejectedShown: summary.rejected.slice(0, PROBLEMS_SHOWN),
        rejectedMore: Math.max(0, summary.rejected.length - PROBLEMS_SHOWN),
        addedAs: confirmed ? 'active' : 'pending',
        queued: !confirmed && summary.added > 0,
      },
    });
  });

  app.get<{ Params: { id: string } }>('/admin/subscribers/:id', async (req, reply) => {
    const s = subscriberOf(req.params.id);
    if (!s) return notFound(req, reply);
    const done = one((req.query as Record<string, unknown>).done);
    const flash =
      done === 'suppressed'
        ? MESSAGES.suppressed(s.email)
        : done === 'unsuppressed'
          ? MESSAGES.unsuppressed(s.email, s.status)
          : done === 'unchanged'
            ? MESSAGES.unchanged(s.email, s.status === 'bounced' ? 'suppressed' : s.status)
            : null;
    return page(req, reply, 'subscribers-detail', { title: s.email, ...detail(s), flash });
  });

  app.post<{ Params: { id: string } }>('/admin/subscribers/:id/suppress', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const s = subscriberOf(req.params.id);
    if (!s) return notFound(req, reply);
    if (!csrf.ok(req, one(body.csrf))) return forbidden(req, reply);
    const changed = suppressSubscriber(store, s.id, one(body.note) ?? '', clock.now());
    if (changed) req.log.info({ subscriberId: s.id }, 'admin suppressed a subscriber');
    return reply.redirect(`/admin/subscribers/${s.id}?done=${changed ? 'suppressed' : 'unchanged'}`, 303);
  });

  app.post<{ Params: { id: string } }>('/admin/subscribers/:id/unsuppress', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const s = subscriberOf(req.params.id);
    if (!s) return notFound(req, reply);
    if (!csrf.ok(req, one(body.csrf))) return forbidden(req, reply);
    const changed = unsuppressSubscriber(store, s.id, clock.now());
    if (changed) req.log.info({ subscriberId: s.id }, 'admin lifted a suppression');
    return reply.redirect(`/admin/subscribers/${s.id}?done=${changed ? 'unsuppressed' : 'unchanged'}`, 303);
  });

  const erasePage = (req: FastifyRequest, reply: FastifyReply, s: Subscriber, error?: string) =>
    page(
      req,
      reply,
      'subscribers-erase',
      {
        title: `Erase ${s.email}`,
        id: s.id,
        email: s.email,
        deliveries: store.q('admin-subscriber-delivery-count').get(s.id)!.n,
        bounces: store.q('admin-subscriber-bounces').all(s.id, 1_000_000).length,
        complaints: store.q('admin-subscriber-complaints').all(s.id, 1_000_000).length,
        feedback: store.q('feedback-by-subscriber').all(s.id, 1_000_000).length,
        error,
      },
      error ? 400 : 200,
    );

  app.get<{ Params: { id: string } }>('/admin/subscribers/:id/erase', async (req, reply) => {
    const s = subscriberOf(req.params.id);
    return s ? erasePage(req, reply, s) : notFound(req, reply);
  });

  app.post<{ Params: { id: string } }>('/admin/subscribers/:id/erase', async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const s = subscriberOf(req.params.id);
    if (!s) return notFound(req, reply);
    if (!csrf.ok(req, one(body.csrf))) return forbidden(req, reply);
    // The confirm step: the address typed again, so a slip of the finger on the wrong row erases nothing.
    if ((one(body.confirm_email) ?? '').trim().toLowerCase() !== s.email.toLowerCase()) return erasePage(req, reply, s, MESSAGES.eraseMismatch);
    const { outboxMessages } = await eraseSubscriber(store, deps.outbox, s);
    req.log.info({ subscriberId: s.id, outboxMessages }, 'admin erased a subscriber and their data');
    return reply.redirect('/admin/subscribers?done=erased', 303);
  });

  function detail(s: Subscriber) {
    const pending = s.pending_preferences ? safeJson(s.pending_preferences) : null;
    const deliveries = store.q('admin-subscriber-deliveries').all(s.id, DETAIL_ROWS);
    const lastSent = deliveries.find((d) => d.sent_at !== null)?.sent_at;
    const at = s.email.lastIndexOf('@');
    return {
      s,
      // The heading may break before the @ (a <wbr> there) rather than one letter from the end.
      local: s.email.slice(0, at),
      domain: s.email.slice(at),
      statusLabel: s.status === 'bounced' ? 'suppressed' : s.status,
      stateLine: stateLine(s),
      canSuppress: s.status === 'active' || s.status === 'pending',
      canUnsuppress: s.status === 'bounced',
      unsuppressTo: s.complained_at ? 'unsubscribed (they complained)' : s.confirmed_at ? 'active' : 'pending',
      prefs: [
        { k: 'Schedule', v: schedule(s) },
        { k: 'Kind', v: s.kind },
        { k: 'Papers per digest', v: String(s.digest_size) },
        { k: 'Delivery', v: `${String(s.delivery_hour).padStart(2, '0')}:00 ${s.time_zone}` },
        { k: 'Selection', v: s.selection_mode === 'threshold' ? `above ${s.relevance_bar}% relevance, up to ${s.digest_size}` : `top ${s.digest_size}` },
        { k: 'Trend ↔ my topics', v: `${s.trend_weight}% trend` },
        { k: 'Only papers with code', v: s.only_with_code ? 'yes' : 'no' },
      ],
      topics: s.topics,
      muted: s.muted_topics,
      followed: s.followed_authors,
      pending: pending ? JSON.stringify(pending) : null,
      dates: [
        { k: 'Joined', v: minute(s.created_at), extra: `via ${s.source}` },
        { k: 'Confirmed', v: minute(s.confirmed_at) },
        { k: 'Last confirmation email', v: minute(s.last_confirmation_sent_at) },
        { k: 'Last digest sent', v: minute(lastSent) },
        { k: 'Unsubscribed', v: minute(s.unsubscribed_at) },
        { k: 'Suppressed', v: minute(s.bounced_at), extra: s.bounce_reason ?? '' },
        { k: 'Complained', v: minute(s.complained_at) },
      ].filter((d) => d.v !== ''),
      deliveries: deliveries.map((d) => ({
        ...d,
        when: minute(d.sent_at ?? d.updated_at),
        bad: d.status === 'failed' || d.status === 'bounced' || d.status === 'unknown',
        reply: d.smtp_response ?? d.skip_reason ?? '',
      })),
      deliveryTotal: store.q('admin-subscriber-delivery-count').get(s.id)!.n,
      confirmations: repo.confirmationsFor(s.id).map((c) => ({ ...c, when: minute(c.sent_at ?? c.updated_at) })),
      bounces: store
        .q('admin-subscriber-bounces')
        .all(s.id, DETAIL_ROWS)
        .map((b) => ({ ...b, when: minute(b.received_at), hard: b.severity === 'hard' })),
      complaints: store
        .q('admin-subscriber-complaints')
        .all(s.id, DETAIL_ROWS)
        .map((c) => ({ ...c, when: minute(c.received_at) })),
      feedback: store
        .q('feedback-by-subscriber')
        .all(s.id, DETAIL_ROWS)
        .map((f) => ({ ...f, when: minute(f.created_at), more: f.signal === 1 })),
    };
  }
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}
