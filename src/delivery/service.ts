// Owns send runs: plan into the ledger, take the sender lease, drain, report; shared by the scheduler, the CLI and HTTP.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../db/open.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Messenger } from '../mail/messenger.js';
import { DeliverySubscriber, isNothing, type DigestKind, type DigestSource } from './ports.js';
import { createPlanner, type Decision, type PlanResult } from './planner.js';
import { Sender, headersConfig, envelopeFrom, emptyDrainStats, addDrainStats, type DrainStats } from './sender.js';
import { acquireLease, releaseLease, newHolderId, leaseHolder } from './lease.js';
import { buildTemplate, personalise } from './mime.js';
import { localDateOf } from './schedule.js';
import { RunRow, EditionState, emptyCounts, DeliveryStatus, type DeliveryCounts, type RunMode, type RunTrigger } from './status.js';

export const SENDER_LEASE = 'sender';

/** What people see when a run cannot start; the CLI and the HTTP route show these. */
export const RUN_MESSAGES = {
  noSuchSubscriber: (email: string) => `no subscriber with the address ${email}`,
  notActive: (email: string, status: string) => `${email} is ${status}, not active: nothing sent`,
  idempotencyMismatch: 'this Idempotency-Key was used for a different request',
} as const;

export class RunError extends Error {}

export interface DeliveryDeps {
  config: Config;
  store: Store;
  clock: Clock;
  log: Logger;
  messenger: Messenger;
  digest: DigestSource;
}

export interface RunRequest {
  trigger: RunTrigger;
  mode: RunMode;
  kind?: DigestKind | undefined;
  /** `to`: the subscriber's email; `test`: any address. */
  target?: string | undefined;
  dryRun?: boolean | undefined;
  idempotencyKey?: string | undefined;
  requestHash?: string | undefined;
  onDecision?: ((d: Decision) => void) | undefined;
}

export interface RunSummary {
  runId: string;
  plan: PlanResult;
  /** The run's own rows (the ones it planned), by status. */
  counts: DeliveryCounts;
  /** What this process sent while the run went on, whoever planned the rows (e.g. an edition a crash left half sent). */
  drained: DrainStats;
  /** Each edition the run met, as a whole: sent, still waiting, failed... */
  editions: EditionState[];
  /** Another process holds the sender lease while rows wait: who, and since when. */
  heldBy: { holder: string; since: string | null } | null;
  /** The run stopped because the mail server stayed unreachable for SEND_OUTAGE_MAX_SECONDS. */
  outage: boolean;
  dryRun: boolean;
  /** For test sends: the server's reply. */
  testResponse?: string;
}

export interface StartedRun {
  runId: string;
  /** True when the idempotency key named an earlier run: nothing new was started. */
  existing: boolean;
  done: Promise<RunSummary>;
}

export interface DeliveryServiceOptions {
  /** How long the sender lease lasts without renewal; a crashed holder on another host blocks sending this long. */
  leaseMs?: number;
  maxInFlight?: number;
  holderId?: string;
  /** How often a run waiting on another process's sender looks again. */
  pollMs?: number;
}

export function createDeliveryService(deps: DeliveryDeps, opts: DeliveryServiceOptions = {}) {
  const { store, config, clock, log } = deps;
  const holder = opts.holderId ?? newHolderId();
  const leaseMs = opts.leaseMs ?? 30_000;
  const pollMs = opts.pollMs ?? 200;
  const sender = new Sender({ ...deps, links: (id) => deps.digest.links(id), ...(opts.maxInFlight ? { maxInFlight: opts.maxInFlight } : {}) });
  let draining: Promise<DrainStats | null> | null = null;
  let closed = false;

  /**
   * Orphans of a dead sender. Rows whose body never went to the socket (no on_wire_at) were not sent: queued again,
   * attempt given back. Only rows on the wire become `unknown`, then resent or counted as sent (RESEND_UNKNOWN).
   */
  function recoverOrphans(): { requeued: number; unknown: number } {
    return store.db
      .transaction(() => {
        const iso = clock.now().toISOString();
        const requeued = store.q('delivery-orphans-requeue').run({ now: iso }).changes;
        const unknown = store.q('delivery-orphans-to-unknown').run(iso).changes;
        if (unknown > 0) {
          if (config.RESEND_UNKNOWN) store.q('delivery-unknown-requeue').run({ now: iso, recovered_at: iso });
          else store.q('delivery-unknown-record-papers').run(iso);
        }
        return { requeued, unknown };
      })
      .immediate();
  }

  async function drainAsLeader(): Promise<DrainStats | null> {
    if (closed) return null;
    const lease = acquireLease(store, clock, SENDER_LEASE, holder, leaseMs);
    if (!lease.held) return null;
    if (lease.fresh) {
      const { requeued, unknown } = recoverOrphans();
      if (requeued > 0) log.warn({ requeued }, 'deliveries claimed by a stopped sender but never sent are queued again');
      if (unknown > 0) log.warn({ unknown, resend: config.RESEND_UNKNOWN }, 'deliveries on the wire when a sender stopped have an unknown outcome');
    }
    sender.stopRequested = false;
    const renew = setInterval(() => {
      try {
        if (!acquireLease(store, clock, SENDER_LEASE, holder, leaseMs).held) sender.stopRequested = true;
      } catch (err) {
        log.error({ err }, 'lease renewal failed');
      }
    }, Math.max(50, Math.floor(leaseMs / 3)));
    try {
      return await sender.drain();
    } finally {
      clearInterval(renew);
      releaseLease(store, SENDER_LEASE, holder);
    }
  }

  /** Runs in progress in this process: every drain's stats are added to each (a drain sends for all of them). */
  const listening = new Set<DrainStats>();

  /** Sends whatever is due, if this process can take the sender lease; concurrent callers share one drain. */
  function drain(): Promise<DrainStats | null> {
    if (!draining) {
      draining = drainAsLeader()
        .then((stats) => {
          if (stats) for (const l of listening) addDrainStats(l, stats);
          return stats;
        })
        .finally(() => {
          draining = null;
        });
    }
    return draining;
  }

  function editionStates(ids: number[]): EditionState[] {
    return ids.flatMap((id) => {
      const row = store.q('edition-state').get(id);
      return row ? [EditionState.parse(row)] : [];
    });
  }

  /** The lease holder, when it is another process and rows of these editions still wait for it. */
  function otherHolder(editions: EditionState[]): RunSummary['heldBy'] {
    const h = leaseHolder(store, clock, SENDER_LEASE);
    if (!h || h.holder === holder || !editions.some((e) => e.waiting > 0)) return null;
    return h;
  }

  function counts(runId: string): DeliveryCounts {
    const c = emptyCounts();
    for (const r of store.q('run-delivery-counts').all(runId)) {
      c[DeliveryStatus.parse(r.status)] = r.n;
      c.retrying += r.retrying ?? 0;
      c.total += r.n;
    }
    return c;
  }

  function getRun(runId: string): RunRow | undefined {
    const row = store.q('run-get').get(runId);
    return row ? RunRow.parse(row) : undefined;
  }

  async function testSend(req: RunRequest, runId: string): Promise<string> {
    const kind = req.kind ?? 'trending';
    const now = clock.now();
    const date = localDateOf(now, config.DEFAULT_TIME_ZONE);
    const digest = await deps.digest.prepare(kind, date);
    const iso = now.toISOString();
    // A stand-in subscriber with nothing sent yet: the digest a new subscriber would get today.
    const subscriber = DeliverySubscriber.parse({
      id: 0, email: req.target!, status: 'active', frequency: 'daily', weekday: 1, kind, topics: '[]',
      digest_size: config.DIGEST_SIZE_DEFAULT, delivery_hour: 0, time_zone: config.DEFAULT_TIME_ZONE, created_at: iso, confirmed_at: iso,
    });
    const selection = await digest.select(subscriber);
    if (isNothing(selection)) throw new RunError(`nothing to send: ${selection.nothing}`);
    const template = await buildTemplate(await digest.render(selection), headersConfig(config));
    const messageId = `<test.${runId}@${config.MAIL_DOMAIN}>`;
    // Not a subscriber: no signed links exist for it, so the links lead to the site (and the address is not in the ledger).
    const links = { unsubscribeUrl: `${config.PUBLIC_URL}/`, unsubscribeMailto: `mailto:unsubscribe@${config.MAIL_DOMAIN}`, manageUrl: `${config.PUBLIC_URL}/` };
    const raw = await personalise(template, { email: req.target!, messageId, links, date: now });
    const res = await deps.messenger.sendRaw({ envelope: { from: envelopeFrom(config.MAIL_FROM), to: [req.target!] }, raw, messageId });
    return res.response;
  }

  /** The one subscriber of a `to` run; throws a RunError the CLI and HTTP show as is. */
  function targetSubscriber(email: string | undefined): DeliverySubscriber {
    const row = store.q('delivery-subscriber-by-email').get(email ?? '');
    if (!row) throw new RunError(RUN_MESSAGES.noSuchSubscriber(email ?? ''));
    const subscriber = DeliverySubscriber.parse(row);
    if (subscriber.status !== 'active') throw new RunError(RUN_MESSAGES.notActive(subscriber.email, subscriber.status));
    return subscriber;
  }

  async function execute(req: RunRequest, runId: string): Promise<RunSummary> {
    const dryRun = !!req.dryRun;
    const summary: RunSummary = {
      runId, plan: { queued: 0, skipped: 0, already: 0, errors: 0, editions: [] }, counts: emptyCounts(), drained: emptyDrainStats(),
      editions: [], heldBy: null, outage: false, dryRun,
    };
    if (req.mode === 'test') {
      if (!dryRun) summary.testResponse = await testSend(req, runId);
      return summary;
    }
    const subscriber = req.mode === 'to' ? targetSubscriber(req.target) : undefined;
    const planner = createPlanner(store, clock, deps.digest);
    listening.add(summary.drained);
    try {
      return await executePlanned({ ...req, mode: req.mode }, runId, summary, subscriber, planner);
    } finally {
      listening.delete(summary.drained);
    }
  }

  async function executePlanned(
    req: RunRequest & { mode: Exclude<RunMode, 'test'> }, runId: string, summary: RunSummary, subscriber: DeliverySubscriber | undefined, planner: ReturnType<typeof createPlanner>,
  ): Promise<RunSummary> {
    const dryRun = summary.dryRun;
    let planning = true;
    // The early drain naps between passes until the planner writes new rows (or pollMs passes, for another
    // process's rows): a fixed sleep would leave the connections idle while the next page waits.
    let newRows = false;
    let wakeEarly: (() => void) | null = null;
    const kick = () => {
      newRows = true;
      const w = wakeEarly;
      wakeEarly = null;
      w?.();
    };
    const nap = () =>
      newRows
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              wakeEarly = null;
              resolve();
            }, pollMs);
            wakeEarly = () => {
              clearTimeout(t);
              resolve();
            };
          });
    const planned = planner.plan({
      mode: req.mode, runId: dryRun ? null : runId, kind: req.kind, subscriber, dryRun,
      onDecision: (d) => {
        req.onDecision?.(d);
        kick();
      },
      onError: (sub, err) => log.error({ err, subscriber: sub.id, run: runId }, 'could not select or render a digest; the next tick tries again'),
    });
    // Sending starts with the first planned page: SMTP round trips overlap the selecting and rendering of the rest.
    const early = dryRun
      ? Promise.resolve()
      : (async () => {
          while (planning && !closed) {
            newRows = false;
            await drain();
            if (planning) await nap();
          }
        })();
    try {
      summary.plan = await planned;
    } finally {
      planning = false;
      kick();
      await early;
    }
    if (!dryRun) store.q('run-set-planned').run({ id: runId, planned: summary.plan.queued, skipped: summary.plan.skipped, editions: JSON.stringify(summary.plan.editions) });
    if (dryRun) return summary;
    // Until nothing of this run is due: drain here when this process holds the lease, else let the holder do it.
    for (;;) {
      await drain();
      if (sender.outageExceeded) {
        summary.outage = true;
        break;
      }
      const left = store.q('run-due-left').get({ id: runId, now: clock.now().toISOString() })!.n;
      if (left === 0 || closed) break;
      await sleep(pollMs);
    }
    summary.counts = counts(runId);
    // The editions it met, and any other with rows still waiting (e.g. for a hung process that holds the sender).
    const waiting = store.q('editions-waiting').all().map((r) => r.edition_id);
    summary.editions = editionStates([...new Set([...summary.plan.editions, ...summary.drained.editions, ...waiting])].sort((a, b) => a - b));
    summary.heldBy = otherHolder(summary.editions);
    return summary;
  }

  /** Records a run and starts it. With an idempotency key seen before, returns that run instead (and starts nothing). */
  function start(req: RunRequest): StartedRun {
    if (req.idempotencyKey) {
      const prior = store.q('run-get-by-key').get(req.idempotencyKey);
      if (prior) return existingRun(RunRow.parse(prior), req);
    }
    // Refused before a run is recorded, so the caller hears it at once.
    if (req.mode === 'to') targetSubscriber(req.target);
    const runId = randomBytes(9).toString('base64url');
    const inserted = store.q('run-insert').run({
      id: runId, trigger: req.trigger, mode: req.mode, kind: req.kind ?? null, target: req.target ?? null, dry_run: req.dryRun ? 1 : 0,
      idempotency_key: req.idempotencyKey ?? null, request_hash: req.requestHash ?? null, now: clock.now().toISOString(),
    }).changes;
    if (inserted === 0 && req.idempotencyKey) return existingRun(RunRow.parse(store.q('run-get-by-key').get(req.idempotencyKey)), req);
    const done = execute(req, runId).then(
      (summary) => {
        const quietTick = req.trigger === 'cron' && summary.plan.queued + summary.plan.skipped === 0;
        if (quietTick) store.q('run-delete').run(runId);
        else store.q('run-finish').run({ id: runId, status: 'done', error: null, now: clock.now().toISOString() });
        return summary;
      },
      (err: unknown) => {
        store.q('run-finish').run({ id: runId, status: 'failed', error: (err as Error).message ?? String(err), now: clock.now().toISOString() });
        throw err;
      },
    );
    return { runId, existing: false, done };
  }

  function existingRun(prior: RunRow, req: RunRequest): StartedRun {
    if (prior.request_hash !== (req.requestHash ?? null)) throw new RunError(RUN_MESSAGES.idempotencyMismatch);
    const done = (async (): Promise<RunSummary> => {
      while (getRun(prior.id)?.status === 'running' && !closed) await sleep(pollMs);
      const run = getRun(prior.id)!;
      const editions = editionStates(runEditions(run));
      return {
        runId: prior.id, plan: { queued: run.planned, skipped: run.skipped, already: 0, errors: 0, editions: runEditions(run) }, counts: counts(prior.id),
        drained: emptyDrainStats(), editions, heldBy: otherHolder(editions), outage: false, dryRun: run.dry_run === 1,
      };
    })();
    return { runId: prior.id, existing: true, done };
  }

  function runEditions(run: RunRow): number[] {
    return (JSON.parse(run.editions) as unknown[]).filter((x): x is number => Number.isInteger(x));
  }

  /** A run's record with its own counts and each of its editions as a whole (GET /admin/send/:id). */
  function runReport(runId: string) {
    const run = getRun(runId);
    if (!run) return undefined;
    const editions = editionStates(runEditions(run));
    return { ...run, editions, counts: counts(runId), heldBy: otherHolder(editions) };
  }

  return {
    holder,
    start,
    runReport,
    /** Starts a run and waits for it. */
    run: (req: RunRequest) => start(req).done,
    drain,
    counts,
    getRun,
    recentRuns: (limit = 20) => store.q('runs-recent').all(limit).map((r) => RunRow.parse(r)),
    /** Stops waiting loops; in-flight sends finish on their own. */
    async close() {
      closed = true;
      sender.stopRequested = true;
      await draining;
    },
  };
}
export type DeliveryService = ReturnType<typeof createDeliveryService>;
