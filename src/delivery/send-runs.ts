// Owns send runs: record one (idempotently), plan it into the ledger, drain as it plans, report; shared by the scheduler, the CLI and HTTP.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Store } from '../db/open.js';
import type { Config } from '../config.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Messenger } from '../mail/messenger.js';
import { DeliverySubscriber, type DigestKind, type DigestSource } from './ports.js';
import { createPlanner, type Decision, type PlanResult } from './planner.js';
import { Sender, emptyDrainStats, type DrainStats } from './sender.js';
import { newHolderId } from './lease.js';
import { createLeaderDrain } from './leader-drain.js';
import { createRunRecords } from './run-records.js';
import { sendTestDigest, NothingToSendError } from './test-send.js';
import { RunRow, type EditionState, emptyCounts, type DeliveryCounts, type RunMode, type RunTrigger } from './status.js';

export { SENDER_LEASE } from './leader-drain.js';

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
  /** Only daily or only weekly subscribers (due and force runs); everyone when absent. */
  frequency?: 'daily' | 'weekly' | undefined;
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
  /** Why the run's queued rows wait: the last reply or connection error they got (e.g. ECONNREFUSED), commonest first. */
  waitReasons: { reason: string; n: number }[];
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
  let closed = false;
  const leader = createLeaderDrain({ store, clock, config, log, sender, holder, leaseMs });
  const drain = () => leader.drain();
  const { editionStates, otherHolder, counts, getRun, runEditions, runReport } = createRunRecords(store, clock, holder);

  async function testSend(req: RunRequest, runId: string): Promise<string> {
    try {
      return await sendTestDigest(deps, req.target!, req.kind ?? 'trending', runId);
    } catch (err) {
      throw err instanceof NothingToSendError ? new RunError(err.message) : err;
    }
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
      runId,
      plan: { queued: 0, skipped: 0, already: 0, errors: 0, editions: [] },
      counts: emptyCounts(),
      drained: emptyDrainStats(),
      editions: [],
      heldBy: null,
      outage: false,
      waitReasons: [],
      dryRun,
    };
    if (req.mode === 'test') {
      if (!dryRun) summary.testResponse = await testSend(req, runId);
      return summary;
    }
    const subscriber = req.mode === 'to' ? targetSubscriber(req.target) : undefined;
    const planner = createPlanner(store, clock, deps.digest);
    const planned = { ...req, mode: req.mode };
    return leader.collect(summary.drained, () => executePlanned(planned, runId, summary, subscriber, planner));
  }

  async function executePlanned(
    req: RunRequest & { mode: Exclude<RunMode, 'test'> },
    runId: string,
    summary: RunSummary,
    subscriber: DeliverySubscriber | undefined,
    planner: ReturnType<typeof createPlanner>,
  ): Promise<RunSummary> {
    const dryRun = summary.dryRun;
    let planning = true;
    // The early drain naps between passes until the planner writes new rows (or pollMs passes, for another
    // process's rows): a fixed sleep would leave the connections idle while the next page waits.
    let newRows = false;
    let wake = new AbortController();
    // Called for every decision: abort() builds its DOMException (with a stack) before it looks whether the signal
    // is aborted already, 1.3% of a send's CPU when called each time.
    const kick = () => {
      newRows = true;
      if (!wake.signal.aborted) wake.abort();
    };
    const nap = async () => {
      if (newRows) return;
      wake = new AbortController();
      await sleep(pollMs, undefined, { signal: wake.signal }).catch(() => {});
    };
    const planned = planner.plan({
      mode: req.mode,
      runId: dryRun ? null : runId,
      kind: req.kind,
      frequency: req.frequency,
      subscriber,
      dryRun,
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
    if (!dryRun)
      store
        .q('run-set-planned')
        .run({ id: runId, planned: summary.plan.queued, skipped: summary.plan.skipped, editions: JSON.stringify(summary.plan.editions) });
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
    if (summary.counts.queued > 0) summary.waitReasons = store.q('run-wait-reasons').all(runId);
    // The editions it met, and any other with rows still waiting (e.g. for a hung process that holds the sender).
    const waiting = store
      .q('editions-waiting')
      .all()
      .map((r) => r.edition_id);
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
      id: runId,
      trigger: req.trigger,
      mode: req.mode,
      kind: req.kind ?? null,
      target: req.target ?? null,
      dry_run: req.dryRun ? 1 : 0,
      idempotency_key: req.idempotencyKey ?? null,
      request_hash: req.requestHash ?? null,
      frequency: req.frequency ?? null,
      now: clock.now().toISOString(),
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
        runId: prior.id,
        plan: { queued: run.planned, skipped: run.skipped, already: 0, errors: 0, editions: runEditions(run) },
        counts: counts(prior.id),
        drained: emptyDrainStats(),
        editions,
        heldBy: otherHolder(editions),
        outage: false,
        waitReasons: store.q('run-wait-reasons').all(prior.id),
        dryRun: run.dry_run === 1,
      };
    })();
    return { runId: prior.id, existing: true, done };
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
    recentRuns: (limit = 20) =>
      store
        .q('runs-recent')
        .all(limit)
        .map((r) => RunRow.parse(r)),
    /** Stops waiting loops; in-flight sends finish on their own. */
    async close() {
      closed = true;
      await leader.close();
    },
  };
}
export type DeliveryService = ReturnType<typeof createDeliveryService>;
