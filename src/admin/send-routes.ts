// Owns the admin HTTP side of delivery: POST /admin/send (idempotency key), GET /admin/send/:id (a run) and the GET /admin dashboard.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { buildDashboard } from './dashboard.js';
import { DigestKind } from '../delivery/ports.js';
import { RunError, type DeliveryService } from '../delivery/send-runs.js';
import type { RunMode } from '../delivery/status.js';
import { renderAdminPage } from './console-views.js';
import { adminRoutes, type AdminGuard } from './auth.js';

const MESSAGES = {
  badBody: 'the request body does not describe a send',
  badKey: 'Idempotency-Key must be 1 to 200 visible characters',
  noTarget: (mode: string) => `mode "${mode}" needs an email address in "to"`,
  notFound: 'no run with this id',
  badTo: '"to" must be one email address, with no line breaks, spaces or other control characters',
} as const;

export interface AdminSendDeps {
  service: DeliveryService;
  store: Store;
  clock: Clock;
  config: Config;
  /** The admin guard (`requireAdmin`: bearer token or login cookie), shared by every admin page. */
  guard: AdminGuard;
}

export const SendBody = z
  .object({
    mode: z.enum(['due', 'force', 'to', 'test']).default('due'),
    kind: DigestKind.optional(),
    frequency: z.enum(['daily', 'weekly']).optional(),
    // Checked here, not at send time: a CR/LF would otherwise be accepted (202) and only fail in the run.
    to: z
      .string()
      .trim()
      .min(3)
      .max(320)
      .regex(/^[^\s\x00-\x1f\x7f@]+@[^\s\x00-\x1f\x7f@]+$/, { error: MESSAGES.badTo })
      .optional(),
    // JSON true/false, or "true"/"false" from a form post.
    dryRun: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(false),
  })
  .strict();

export type SendAnswer =
  | { status: 200 | 202; runId: string; body: { runId: string; existing: boolean; status: string } }
  | { status: 400 | 409; body: { error: string; issues?: string[] } };

/**
 * The one way a send starts over HTTP: POST /admin/send (JSON, Idempotency-Key header) and the Send page's confirm
 * (a form, the key in a hidden field) both come here, so both make the same run the CLI makes.
 */
export function startSend(service: DeliveryService, input: unknown, key: string | undefined, log: FastifyBaseLogger): SendAnswer {
  const parsed = SendBody.safeParse(input ?? {});
  if (!parsed.success)
    return {
      status: 400,
      body: {
        error: parsed.error.issues.some((i) => i.path[0] === 'to') ? MESSAGES.badTo : MESSAGES.badBody,
        issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      },
    };
  const body = parsed.data;
  if ((body.mode === 'to' || body.mode === 'test') && !body.to) return { status: 400, body: { error: MESSAGES.noTarget(body.mode) } };
  if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) return { status: 400, body: { error: MESSAGES.badKey } };
  // frequency joins the hash only when set: keys used before it existed still name the same request.
  const requestHash = createHash('sha256')
    .update(JSON.stringify([body.mode, body.kind ?? null, body.to ?? null, body.dryRun, ...(body.frequency ? [body.frequency] : [])]))
    .digest('hex');
  try {
    const run = service.start({
      trigger: 'http',
      mode: body.mode as RunMode,
      kind: body.kind,
      frequency: body.frequency,
      target: body.to,
      dryRun: body.dryRun,
      idempotencyKey: key,
      requestHash: key ? requestHash : undefined,
    });
    // The run goes on after the answer; its outcome is in GET /admin/send/:id, on /admin/runs/:id and the dashboard.
    run.done.catch((err: unknown) => log.warn({ err, run: run.runId }, 'admin send failed'));
    return {
      status: run.existing ? 200 : 202,
      runId: run.runId,
      body: { runId: run.runId, existing: run.existing, status: service.getRun(run.runId)?.status ?? 'running' },
    };
  } catch (err) {
    if (err instanceof RunError) return { status: 409, body: { error: err.message } };
    throw err;
  }
}

export async function registerAdminSendRoutes(app: FastifyInstance, deps: AdminSendDeps): Promise<void> {
  await adminRoutes(app, deps.guard, (scope) => addRoutes(scope, deps));
}

function addRoutes(app: FastifyInstance, deps: AdminSendDeps): void {
  const { service, store, clock, config } = deps;
  app.post('/admin/send', async (req, reply) => {
    const keyHeader = req.headers['idempotency-key'];
    const answer = startSend(service, req.body, Array.isArray(keyHeader) ? keyHeader[0] : keyHeader, req.log);
    return reply.code(answer.status).send(answer.body);
  });

  app.get<{ Params: { id: string } }>('/admin/send/:id', async (req, reply) => {
    const run = service.runReport(req.params.id);
    if (!run) return reply.code(404).send({ error: MESSAGES.notFound });
    return run;
  });

  app.get('/admin', async (_req, reply) => {
    const html = renderAdminPage('dashboard', buildDashboard({ store, clock, config, service }));
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
