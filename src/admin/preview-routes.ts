// Owns /admin/preview: exactly what one subscriber (or the public digest) would receive, with each paper's
// score breakdown, behind the admin guard.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Config } from '../config.js';
import { DigestKind, createSelector, isIsoDay } from '../digest/select.js';
import { buildPreview, previewFacts, type PreviewDeps } from '../render/preview-builder.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../render/renderer.js';
import { adminRoutes, type AdminGuard } from './auth.js';
import { renderAdminPage, sendEmailFrame } from './console-views.js';

export interface AdminPreviewDeps extends Omit<PreviewDeps, 'renderer' | 'selector' | 'config'> {
  config: Pick<Config, 'PUBLIC_URL' | 'DIGEST_SIZE_DEFAULT' | 'SENDER_ADDRESS_LINE'>;
  renderer?: PreviewDeps['renderer'];
  selector?: PreviewDeps['selector'];
  templatesDir?: string;
  /** The admin guard (`requireAdmin`), shared by every admin page: a browser without a session gets the login form. */
  guard: AdminGuard;
}

const MESSAGES = {
  badQuery: 'Invalid query parameters.',
} as const;

export const AdminPreviewQuery = z.object({
  as: z.string().trim().min(3, { error: 'as must be an email address' }).max(320).optional(),
  kind: DigestKind.optional(),
  date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'date must look like 2026-03-10' })
    .refine(isIsoDay, { error: 'date must be a real day' })
    .optional(),
  /** html or text: just that part, byte for byte as it would be sent. */
  part: z.enum(['html', 'text']).optional(),
});

/** Adds /admin/preview in its own encapsulated context behind the guard, under the admin pages' CSP (adminRoutes). */
export async function registerAdminPreviewRoutes(app: FastifyInstance, deps: AdminPreviewDeps): Promise<void> {
  await adminRoutes(app, deps.guard, (child) => addAdminPreviewRoutes(child, deps));
}

function addAdminPreviewRoutes(app: FastifyInstance, deps: AdminPreviewDeps): void {
  const templatesDir = deps.templatesDir ?? DEFAULT_TEMPLATES_DIR;
  const renderer = deps.renderer ?? createRenderer({ templatesDir, config: deps.config });
  const selector = deps.selector ?? createSelector({ store: deps.store, clock: deps.clock, poolMaxAgeMs: 60_000 });
  const previewDeps: PreviewDeps = { ...deps, renderer, selector };

  app.get('/admin/preview', async (req, reply) => {
    reply.header('cache-control', 'no-store');
    const q = AdminPreviewQuery.safeParse(req.query);
    if (!q.success) {
      return reply.code(400).send({ error: MESSAGES.badQuery, issues: q.error.issues.map((i) => ({ param: String(i.path[0] ?? ''), message: i.message })) });
    }
    const r = await buildPreview(previewDeps, q.data);
    if (r.status === 'unknown-subscriber') return reply.code(404).send({ error: r.message });
    if (q.data.part) {
      if (r.status !== 'ready') return reply.code(404).send({ error: r.message });
      // The HTML part is what the page frames: under the email's own policy, so its inline styles apply.
      return q.data.part === 'html' ? sendEmailFrame(reply, r.html) : reply.header('content-type', 'text/plain; charset=utf-8').send(r.text);
    }
    const frame = new URLSearchParams({
      ...(q.data.as ? { as: q.data.as } : {}),
      ...(q.data.kind ? { kind: q.data.kind } : {}),
      ...(q.data.date ? { date: q.data.date } : {}),
      part: 'html',
    });
    const html = renderAdminPage('preview', {
      nav: 'preview',
      query: q.data,
      htmlSrc: `/admin/preview?${frame}`,
      title: r.subscriber ? `Preview for ${r.subscriber.email}` : 'Preview of the public digest',
      preview: {
        facts: previewFacts(r),
        rows: r.status === 'ready' ? r.rows : [],
        html: r.status === 'ready' ? r.html : '',
        text: r.status === 'ready' ? r.text : '',
      },
    });
    return reply.header('content-type', 'text/html; charset=utf-8').send(html);
  });
}
