// Owns /admin/preview: exactly what one subscriber (or the public digest) would receive, with each paper's
// score breakdown, behind the admin bearer token.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { Config } from '../config.js';
import { DigestKind, createSelector, isIsoDay, todayUtc } from '../digest/select.js';
import { buildPreview, previewFacts, type PreviewDeps } from '../render/preview.js';
import { createRenderer, DEFAULT_TEMPLATES_DIR } from '../render/renderer.js';
import { createPages } from './pages.js';
import { useOwnCsp } from './routes.js';

export interface AdminPreviewDeps extends Omit<PreviewDeps, 'renderer' | 'selector' | 'config'> {
  config: Pick<Config, 'PUBLIC_URL' | 'DIGEST_SIZE_DEFAULT' | 'SENDER_ADDRESS_LINE'> & { ADMIN_TOKEN?: string };
  renderer?: PreviewDeps['renderer'];
  selector?: PreviewDeps['selector'];
  templatesDir?: string;
  /** The app's admin check when it has one (e.g. a session cookie); the bearer token otherwise. */
  authorize?: (req: FastifyRequest) => boolean;
  /** The app's admin preHandler (e.g. `requireAdmin`, which shows browsers the login form); replaces the check above. */
  guard?: preHandlerAsyncHookHandler;
}

const MESSAGES = {
  unauthorized: 'Send the admin token as "Authorization: Bearer <ADMIN_TOKEN>".',
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

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Constant-time bearer check (hashing first makes the lengths equal). */
export function bearerMatches(req: FastifyRequest, token: string | undefined): boolean {
  if (!token) return false;
  const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return !!m && timingSafeEqual(digest(m[1]!.trim()), digest(token));
}

// The page frames the email (srcdoc, sandboxed) and both use inline styles only.
const ADMIN_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-src 'self'; base-uri 'none'; form-action 'self'";

/** Adds /admin/preview in its own encapsulated context, with its own CSP (see useOwnCsp). */
export async function registerAdminPreviewRoutes(app: FastifyInstance, deps: AdminPreviewDeps): Promise<void> {
  await app.register(async (child) => {
    useOwnCsp(child, ADMIN_CSP);
    addAdminPreviewRoutes(child, deps);
  });
}

function addAdminPreviewRoutes(app: FastifyInstance, deps: AdminPreviewDeps): void {
  const templatesDir = deps.templatesDir ?? DEFAULT_TEMPLATES_DIR;
  const renderer = deps.renderer ?? createRenderer({ templatesDir, config: deps.config });
  const selector = deps.selector ?? createSelector({ store: deps.store, clock: deps.clock, poolMaxAgeMs: 60_000 });
  const pages = createPages({ templatesDir, config: deps.config, today: () => todayUtc(deps.clock) });
  const previewDeps: PreviewDeps = { ...deps, renderer, selector };

  app.get('/admin/preview', { preHandler: deps.guard ? [deps.guard] : [] }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    if (!deps.guard && !(deps.authorize ? deps.authorize(req) : bearerMatches(req, deps.config.ADMIN_TOKEN))) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="paperboy admin"').send({ error: MESSAGES.unauthorized });
    }
    const q = AdminPreviewQuery.safeParse(req.query);
    if (!q.success) {
      return reply.code(400).send({ error: MESSAGES.badQuery, issues: q.error.issues.map((i) => ({ param: String(i.path[0] ?? ''), message: i.message })) });
    }
    const r = await buildPreview(previewDeps, q.data);
    if (r.status === 'unknown-subscriber') return reply.code(404).send({ error: r.message });
    if (q.data.part) {
      if (r.status !== 'ready') return reply.code(404).send({ error: r.message });
      return q.data.part === 'html'
        ? reply.header('content-type', 'text/html; charset=utf-8').send(r.html)
        : reply.header('content-type', 'text/plain; charset=utf-8').send(r.text);
    }
    const html = pages.render({
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

/** The same route as a Fastify plugin, for `app.register(adminPreviewPlugin, deps)`. */
export async function adminPreviewPlugin(app: FastifyInstance, deps: AdminPreviewDeps): Promise<void> {
  useOwnCsp(app, ADMIN_CSP);
  addAdminPreviewRoutes(app, deps);
}
