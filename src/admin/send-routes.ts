// Owns the admin HTTP side of delivery: POST /admin/send (idempotency key), GET /admin/send/:id (a run) and the GET /admin dashboard.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { deliverabilityWarnings } from '../mail/deliverability.js';
import { DigestKind } from '../delivery/ports.js';
import { RunError, type DeliveryService } from '../delivery/send-runs.js';
import type { DeliveryCounts, RunMode, RunRow } from '../delivery/status.js';
import { renderAdminPage } from './console-views.js';
import { adminRoutes, type AdminGuard } from './auth.js';

const MESSAGES = {
  badBody: 'the request body does not describe a send',
  badKey: 'Idempotency-Key must be 1 to 200 visible characters',
  noTarget: (mode: string) => `mode "${mode}" needs an email address in "to"`,
  notFound: 'no run with this id',
  badTo: '"to" must be one email address, with no line breaks, spaces or other control characters',
} as const;

const CHART_DAYS = 30;

export interface AdminSendDeps {
  service: DeliveryService;
  store: Store;
  clock: Clock;
  config: Config;
  /** The admin guard (`requireAdmin`: bearer token or login cookie), shared by every admin page. */
  guard: AdminGuard;
}

const SendBody = z
  .object({
    mode: z.enum(['due', 'force', 'to', 'test']).default('due'),
    kind: DigestKind.optional(),
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

/** `2026-11-23T09:00:00.000Z` -> `2026-11-23 09:00` (UTC, as the header says). */
function minute(iso: string | null): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '';
}

/** A run as the pages show it: its counts, a status pill, failures with bounces counted in. */
function runView(r: RunRow, counts: DeliveryCounts) {
  return {
    ...r,
    counts,
    started: minute(r.started_at),
    finished: minute(r.finished_at),
    dry: r.dry_run === 1,
    failedCount: counts.failed + counts.bounced,
    statusClass: r.status === 'failed' ? 'bad' : r.status === 'running' ? 'run' : 'ok',
  };
}

function chart(rows: { day: string; n: number }[], today: Date) {
  const days: { day: string; n: number }[] = [];
  const byDay = new Map(rows.map((r) => [r.day, r.n]));
  for (let i = CHART_DAYS - 1; i >= 0; i--) {
    const day = new Date(today.getTime() - i * 86_400_000).toISOString().slice(0, 10);
    days.push({ day, n: byDay.get(day) ?? 0 });
  }
  const width = CHART_DAYS * 20;
  const height = 120;
  const plot = height;
  const max = Math.max(1, ...days.map((d) => d.n));
  return {
    width,
    height,
    max,
    first: days[0]!.day,
    last: days[days.length - 1]!.day,
    bars: days.map((d, i) => {
      const h = Math.round((d.n / max) * (plot - 4));
      return { ...d, x: i * 20 + 3, w: 14, h, y: plot - h };
    }),
  };
}

export async function registerAdminSendRoutes(app: FastifyInstance, deps: AdminSendDeps): Promise<void> {
  await adminRoutes(app, deps.guard, (scope) => addRoutes(scope, deps));
}

function addRoutes(app: FastifyInstance, deps: AdminSendDeps): void {
  const { service, store, clock, config } = deps;
  app.post('/admin/send', async (req, reply) => {
    const parsed = SendBody.safeParse(req.body ?? {});
    if (!parsed.success)
      return reply.code(400).send({
        error: parsed.error.issues.some((i) => i.path[0] === 'to') ? MESSAGES.badTo : MESSAGES.badBody,
        issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`),
      });
    const body = parsed.data;
    if ((body.mode === 'to' || body.mode === 'test') && !body.to) return reply.code(400).send({ error: MESSAGES.noTarget(body.mode) });
    const keyHeader = req.headers['idempotency-key'];
    const key = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
    if (key !== undefined && !/^[\x21-\x7e]{1,200}$/.test(key)) return reply.code(400).send({ error: MESSAGES.badKey });
    const requestHash = createHash('sha256')
      .update(JSON.stringify([body.mode, body.kind ?? null, body.to ?? null, body.dryRun]))
      .digest('hex');
    try {
      const run = service.start({
        trigger: 'http',
        mode: body.mode as RunMode,
        kind: body.kind,
        target: body.to,
        dryRun: body.dryRun,
        idempotencyKey: key,
        requestHash: key ? requestHash : undefined,
      });
      // The run goes on after the answer; its outcome is in GET /admin/send/:id and on the dashboard.
      run.done.catch((err: unknown) => req.log.warn({ err, run: run.runId }, 'admin send failed'));
      return reply.code(run.existing ? 200 : 202).send({ runId: run.runId, existing: run.existing, status: service.getRun(run.runId)?.status ?? 'running' });
    } catch (err) {
      if (err instanceof RunError) return reply.code(409).send({ error: err.message });
      throw err;
    }
  });

  app.get<{ Params: { id: string } }>('/admin/send/:id', async (req, reply) => {
    const run = service.runReport(req.params.id);
    if (!run) return reply.code(404).send({ error: MESSAGES.notFound });
    return run;
  });

  app.get('/admin', async (_req, reply) => {
    const now = clock.now();
    const since = new Date(now.getTime() - (CHART_DAYS - 1) * 86_400_000).toISOString().slice(0, 10);
    const html = renderAdminPage('dashboard', {
      title: 'Dashboard',
      nav: 'dashboard',
      now: now.toISOString().replace('T', ' ').slice(0, 16) + ' UTC',
      days: CHART_DAYS,
      subscribers: store.q('dash-subscribers-by-status').all(),
      chart: chart(store.q('dash-sends-per-day').all(since), now),
      runs: service
        .recentRuns(20)
        .map((r) => runView(r, service.counts(r.id))),
      failures: store
        .q('dash-failures')
        .all(50)
        .map((f) => ({ ...f, when: minute(f.updated_at) })),
      // Mail that is really sent gets the same warnings as the start log (src/mail/deliverability.ts).
      warnings: config.MAIL_TRANSPORT === 'smtp' ? deliverabilityWarnings(config) : [],
      softLimit: config.SOFT_BOUNCE_LIMIT,
      softDays: config.SOFT_BOUNCE_WINDOW_DAYS,
      editions: store
        .q('dash-returns-by-edition')
        .all(10)
        .map((e) => ({
          ...e,
          rate: e.sent > 0 ? `${((100 * e.complaints) / e.sent).toFixed(2)}%` : '–',
          tooMany: e.sent > 0 && e.complaints / e.sent >= 0.003,
        })),
      bounces: store
        .q('dash-bounces-recent')
        .all(50)
        .map((b) => ({ ...b, hard: b.severity === 'hard', when: minute(b.received_at) })),
      // The live corpus's health (src/corpus/fetcher.ts): each source's last fetch, and when one last worked.
      fetches: store
        .q('fetch-health')
        .all()
        .map((f) => ({
          ...f,
          started: minute(f.started_at),
          lastOk: f.last_ok_at ? minute(f.last_ok_at) : 'never',
          failed: f.status === 'failed',
          // The first line only: a fault of paperboy's own carries its stack for the log, not for this table.
          error: f.error?.split('\n')[0] ?? '',
        })),
    });
    return reply.type('text/html; charset=utf-8').send(html);
  });
}
