// Owns the admin outbox pages: list the embedded transport's messages and show one, safely.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { adminRoutes, type AdminGuard } from './auth.js';
import { renderAdminPage } from './console-views.js';
import type { Outbox } from '../mail/outbox.js';
import { decimalInt } from '../web/params.js';

const PageNumber = decimalInt(1, 1_000_000, 'page must be a whole number from 1');

export interface OutboxRouteDeps {
  config: Pick<Config, 'MAIL_TRANSPORT'>;
  outbox: Outbox;
  /** The admin guard (`requireAdmin`), shared by every admin page. */
  guard: AdminGuard;
  perPage?: number;
}

const MESSAGES = {
  notFound: 'No such message',
  notFoundDetail: 'It may have been removed from the outbox directory.',
} as const;

/**
 * The pages' own policy. The email HTML is shown in an `<iframe sandbox srcdoc>`: the srcdoc document
 * inherits this policy, so even without the sandbox no script would run; images may load so the preview
 * looks like the inbox will.
 */
const PAGE_CSP =
  "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https: http:; frame-src 'self'; " +
  "form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The downloaded .eml: nothing in it may run even if a browser decided to show it. */
const RAW_CSP = "default-src 'none'; sandbox";

function wantsJson(req: FastifyRequest): boolean {
  const accept = req.headers.accept ?? '';
  return accept.includes('application/json') && !accept.includes('text/html');
}

function html(reply: FastifyReply, body: string): FastifyReply {
  return reply.type('text/html; charset=utf-8').send(body);
}

/**
 * GET /admin/outbox, /admin/outbox/:id, /admin/outbox/:id/raw — all behind the admin token. Registered in its
 * own encapsulated context (`adminRoutes`): its onSend runs after the app-wide one and sets this area's CSP over it.
 */
export async function registerOutboxRoutes(app: FastifyInstance, deps: OutboxRouteDeps): Promise<void> {
  const perPage = deps.perPage ?? 25;
  const page = (name: string, data: Record<string, unknown>) => renderAdminPage(name, { signedIn: true, navOutbox: true, ...data });

  await adminRoutes(app, deps.guard, (scope) => {
    scope.addHook('onSend', async (_req, reply) => {
      reply.header('Cache-Control', 'no-store');
      reply.header('X-Content-Type-Options', 'nosniff');
      reply.header('Referrer-Policy', 'no-referrer');
      // Set, not "set if missing": an app-wide hook has usually put the public pages' stricter policy here,
      // which would block these pages' inline styles and the email's own.
      const type = String(reply.getHeader('content-type') ?? '');
      reply.header('Content-Security-Policy', type.startsWith('message/rfc822') ? RAW_CSP : PAGE_CSP);
    });

    scope.get('/admin/outbox', async (req, reply) => {
      const q = req.query as Record<string, unknown>;
      const requested = PageNumber.safeParse(q.page ?? '1');
      if (!requested.success) return reply.code(400).send({ error: requested.error.issues[0]?.message ?? 'bad page' });
      const list = await deps.outbox.list({ page: requested.data, perPage });
      if (wantsJson(req)) return reply.send(list);
      return html(
        reply,
        page('outbox-list', {
          title: 'Outbox',
          ...list,
          prevPage: list.page > 1 ? list.page - 1 : null,
          nextPage: list.page < list.pages ? list.page + 1 : null,
          smtpActive: deps.config.MAIL_TRANSPORT === 'smtp',
        }),
      );
    });

    scope.get('/admin/outbox/:id', async (req, reply) => {
      const { id } = req.params as { id: string };
      const message = await deps.outbox.read(id);
      if (!message) {
        if (wantsJson(req)) return reply.code(404).send({ error: 'not found' });
        return html(reply.code(404), page('admin-not-found', { title: MESSAGES.notFound, heading: MESSAGES.notFound, detail: MESSAGES.notFoundDetail }));
      }
      if (wantsJson(req)) {
        const { raw: _raw, ...rest } = message;
        return reply.send(rest);
      }
      return html(reply, page('outbox-message', { title: message.subject || '(no subject)', message }));
    });

    scope.get('/admin/outbox/:id/raw', async (req, reply) => {
      const { id } = req.params as { id: string };
      const message = await deps.outbox.read(id);
      if (!message) return reply.code(404).type('text/plain; charset=utf-8').send(MESSAGES.notFound);
      // An attachment, never rendered by the browser: the bytes are the message exactly as stored.
      return reply.type('message/rfc822').header('Content-Disposition', `attachment; filename="${message.id}.eml"`).send(message.raw);
    });
  });
}
