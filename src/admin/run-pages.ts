// Owns the browser side of sending: the Send page (kind, audience, dry run, confirm), the runs list and one run's page with its live progress.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Store } from '../db/open.js';
import type { Decision } from '../delivery/planner.js';
import { RunError, type DeliveryService, type RunSummary } from '../delivery/send-runs.js';
import { DigestKind } from '../delivery/ports.js';
import { checkEmail } from '../subscriptions/email.js';
import { adminRoutes, type AdminGuard } from './auth.js';
import { renderAdminPage } from './console-views.js';
import { minute, runView } from './dashboard.js';
import { startSend } from './send-routes.js';

const MESSAGES = {
  noRun: 'No such run',
  noRunDetail: 'It may have been a quiet scheduler tick, which leaves no record.',
  needAddress: 'Give the address to send the test digest to.',
  noKey: 'Start with a dry run: its page has the Confirm button.',
  badAddress: (why: string) => `That test address does not work: ${why}`,
} as const;

/** How many of a dry run's decisions the page lists; the totals count them all. */
const DRY_LIST_LIMIT = 200;
const FAILURE_LIMIT = 200;

export interface RunPagesDeps {
  service: DeliveryService;
  store: Store;
  guard: AdminGuard;
}

/** What the Send form posts. `audience` is daily, weekly or all subscribers, or one test address. */
const SendForm = z
  .object({
    kind: z.union([DigestKind, z.literal('any')]).default('any'),
    audience: z.enum(['all', 'daily', 'weekly', 'test']).default('all'),
    timing: z.enum(['now', 'due']).default('now'),
    to: z.string().trim().max(320).optional(),
    key: z.string().max(200).optional(),
  })
  // A body that is not this form (another client's JSON, a stray field) starts nothing.
  .strict();
type SendForm = z.infer<typeof SendForm>;

/** The form as POST /admin/send's body: the same run whichever way it was asked for. */
function sendBody(f: SendForm) {
  if (f.audience === 'test') return { mode: 'test' as const, to: f.to, ...(f.kind !== 'any' ? { kind: f.kind } : {}) };
  return {
    mode: f.timing === 'due' ? ('due' as const) : ('force' as const),
    ...(f.kind !== 'any' ? { kind: f.kind } : {}),
    ...(f.audience !== 'all' ? { frequency: f.audience } : {}),
  };
}

function describe(f: SendForm): string {
  const kind = f.kind === 'any' ? 'each subscriber’s own digest' : `the ${f.kind} digest`;
  if (f.audience === 'test') return `${kind === 'each subscriber’s own digest' ? 'the trending digest' : kind} to the test address ${f.to ?? ''}`;
  const who = f.audience === 'all' ? 'every active subscriber' : `every active ${f.audience} subscriber`;
  const filter = f.kind === 'any' ? '' : ` of kind ${f.kind}`;
  return `${f.timing === 'due' ? 'those due now among ' : ''}${who}${filter}, ${f.kind === 'any' ? 'each their own digest' : 'their digest'}${f.timing === 'now' ? ', now, whatever their delivery hour (never twice in one edition)' : ''}`;
}

function formView(f: SendForm, error?: string) {
  return {
    title: 'Send',
    nav: 'send' as const,
    form: { ...f, to: f.to ?? '' },
    kinds: (['any', ...DigestKind.options] as const).map((k) => ({
      value: k,
      label: k === 'any' ? 'Their own' : `${k[0]!.toUpperCase()}${k.slice(1)}`,
      checked: f.kind === k,
    })),
    audiences: (['all', 'daily', 'weekly', 'test'] as const).map((a) => ({
      value: a,
      label: a === 'all' ? 'Everyone' : a === 'test' ? 'A test address' : `${a[0]!.toUpperCase()}${a.slice(1)} only`,
      checked: f.audience === a,
    })),
    timings: [
      { value: 'now', label: 'Send now', checked: f.timing === 'now' },
      { value: 'due', label: 'Only those due', checked: f.timing === 'due' },
    ],
    error,
  };
}

function html(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

export async function registerRunPages(app: FastifyInstance, deps: RunPagesDeps): Promise<void> {
  await adminRoutes(app, deps.guard, (scope) => addRoutes(scope, deps));
}

function addRoutes(app: FastifyInstance, deps: RunPagesDeps): void {
  const { service, store } = deps;
  const titles = new Map<number, string>();
  const title = (id: number) => {
    let t = titles.get(id);
    if (t === undefined) {
      t = store.q('get-paper').get(id)?.title ?? `paper ${id}`;
      if (titles.size > 5000) titles.clear();
      titles.set(id, t);
    }
    return t;
  };

  /** Form input, checked; a test send needs a usable address. */
  const readForm = (body: unknown): { form: SendForm; error?: string } => {
    const parsed = SendForm.safeParse(body ?? {});
    const form = parsed.success ? parsed.data : SendForm.parse({});
    if (!parsed.success) return { form, error: 'That form could not be read; choose again.' };
    if (form.audience === 'test') {
      if (!form.to) return { form, error: MESSAGES.needAddress };
      const r = checkEmail(form.to);
      if ('error' in r) return { form, error: MESSAGES.badAddress(r.error) };
    }
    return { form };
  };

  app.get('/admin/send', async (_req, reply) => html(reply, renderAdminPage('send', formView(SendForm.parse({})))));

  // The dry run: the planner the CLI's `send --dry-run` uses, nothing written or sent; then a Confirm with a fresh key.
  app.post('/admin/send/dry-run', async (req, reply) => {
    const { form, error } = readForm(req.body);
    if (error) return html(reply, renderAdminPage('send', formView(form, error)), 400);
    const decisions: Decision[] = [];
    let total = 0;
    const body = sendBody(form);
    let summary: RunSummary;
    try {
      summary = await service.start({
        trigger: 'http',
        mode: body.mode,
        kind: body.kind,
        frequency: 'frequency' in body ? body.frequency : undefined,
        target: 'to' in body ? body.to : undefined,
        dryRun: true,
        onDecision: (d) => {
          if (total++ < DRY_LIST_LIMIT) decisions.push(d);
        },
      }).done;
    } catch (err) {
      if (err instanceof RunError) return html(reply, renderAdminPage('send', formView(form, err.message)), 409);
      throw err;
    }
    const rows = decisions.map((d) => ({
      email: d.subscriber.email,
      slot: `${d.slot.frequency} ${d.slot.period}`,
      kind: d.subscriber.kind,
      skip: d.skip,
      count: d.papers?.length ?? 0,
    }));
    // What goes out: each distinct selection once, with how many of the listed subscribers get it.
    const groups = new Map<string, { n: number; kind: string; papers: string[] }>();
    for (const d of decisions) {
      if (!d.papers) continue;
      const key = `${d.subscriber.kind}|${d.papers.join(',')}`;
      const g = groups.get(key) ?? { n: 0, kind: d.subscriber.kind, papers: d.papers.map(title) };
      g.n++;
      groups.set(key, g);
    }
    const selections = [...groups.values()].sort((a, b) => b.n - a.n).slice(0, 8);
    return html(
      reply,
      renderAdminPage('send-dry-run', {
        title: 'Dry run',
        nav: 'send',
        what: describe(form),
        test: form.audience === 'test',
        form,
        plan: summary.plan,
        rows,
        selections,
        moreSelections: Math.max(0, groups.size - selections.length),
        hidden: total > rows.length ? total - rows.length : 0,
        // One key per dry run: pressing Confirm twice (or reloading its answer) names the same run, which starts once.
        key: `admin-send-${randomBytes(12).toString('base64url')}`,
        nothing: form.audience !== 'test' && summary.plan.queued === 0,
      }),
    );
  });

  // Confirm: the same path as POST /admin/send, the Idempotency-Key from the hidden field.
  app.post('/admin/send/confirm', async (req, reply) => {
    const { form, error } = readForm(req.body);
    if (error) return html(reply, renderAdminPage('send', formView(form, error)), 400);
    // A confirm comes from a dry run's page, which carries the key; without one a repeated post would send again.
    if (!form.key) return html(reply, renderAdminPage('send', formView(form, MESSAGES.noKey)), 400);
    const answer = startSend(service, sendBody(form), form.key || undefined, req.log);
    if (!('runId' in answer)) return html(reply, renderAdminPage('send', formView(form, answer.body.error)), answer.status);
    return reply.redirect(`/admin/runs/${encodeURIComponent(answer.runId)}`, 303);
  });

  app.get('/admin/runs', async (_req, reply) => {
    const runs = service.recentRuns(100).map((r) => runView(r, service.counts(r.id)));
    return html(reply, renderAdminPage('runs', { title: 'Runs', nav: 'runs', runs }));
  });

  app.get<{ Params: { id: string } }>('/admin/runs/:id', async (req, reply) => {
    const report = service.runReport(req.params.id);
    if (!report) {
      return html(
        reply,
        renderAdminPage('admin-not-found', {
          title: MESSAGES.noRun,
          nav: 'runs',
          heading: MESSAGES.noRun,
          detail: MESSAGES.noRunDetail,
          backHref: '/admin/runs',
          backLabel: 'Back to the runs',
        }),
        404,
      );
    }
    const run = runView(service.getRun(report.id)!, report.counts);
    const running = report.status === 'running';
    const done = report.counts.sent + report.counts.failed + report.counts.bounced + report.counts.unknown;
    // `planned` is written once planning ends; until then the run's rows in the ledger so far are what it will send.
    const expected = report.planned || Math.max(0, report.counts.total - report.counts.skipped);
    return html(
      reply,
      renderAdminPage('run', {
        title: `Run ${report.id}`,
        nav: 'runs',
        run,
        running,
        // Without script the page reloads itself while the run goes on; with it, admin.js updates the figures.
        liveRun: running,
        refreshSeconds: running ? 2 : undefined,
        progress: { value: done, max: Math.max(1, expected), expected },
        editions: report.editions,
        heldBy: report.heldBy,
        failures: store
          .q('run-failures')
          .all(report.id, FAILURE_LIMIT)
          .map((f) => ({ ...f, when: minute(f.updated_at) })),
      }),
    );
  });
}
