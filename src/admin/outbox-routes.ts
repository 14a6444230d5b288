// Owns the admin outbox pages: list the embedded transport's messages and show one, safely.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { adminRoutes, type AdminGuard } from './auth.js';
import { renderAdminPage, sendEmailFrame } from './console-views.js';
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
 * GET /admin/outbox, /admin/outbox/:id, /admin/outbox/:id/html, /admin/outbox/:id/raw — all behind the admin token,
 * in their own context (`adminRoutes`), whose onSend sets the admin pages' CSP over the app-wide one.
 */
export async function registerOutboxRoutes(app: FastifyInstance, deps: OutboxRouteDeps): Promise<void> {
  const perPage = deps.perPage ?? 25;
  const page = (name: string, data: Record<string, unknown>) => renderAdminPage(name, { nav: 'outbox', ...data });

  await adminRoutes(app, deps.guard, (scope) => {
    // The pages' policy is the admin's (adminRoutes); the .eml download gets one that runs nothing.
    scope.addHook('onSend', async (_req, reply) => {
      reply.header('Cache-Control', 'no-store');
      if (String(reply.getHeader('content-type') ?? '').startsWith('message/rfc822')) reply.header('Content-Security-Policy', RAW_CSP);
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

    // The HTML part on its own, for the message page's frame: under the email's own policy, so its inline styles apply.
    scope.get('/admin/outbox/:id/html', async (req, reply) => {
      const { id } = req.params as { id: string };
      const message = await deps.outbox.read(id);
      if (!message?.html) return reply.code(404).type('text/plain; charset=utf-8').send(MESSAGES.notFound);
      return sendEmailFrame(reply, message.html);
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
