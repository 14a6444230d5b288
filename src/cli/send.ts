// Owns `paperboy send`: plan and send digests by hand, with a progress bar and a summary.
import { keepMjmlLoaded } from '../render/mjml.js';
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import { DigestKind } from '../delivery/ports.js';
import { createDeliveryService, RunError, type DeliveryDeps, type RunRequest, type RunSummary } from '../delivery/send-runs.js';
import type { Decision } from '../delivery/planner.js';
import type { RunMode } from '../delivery/status.js';
import { checkEmail } from '../subscriptions/email.js';
import { UserError } from './context.js';

const MESSAGES = {
  exclusive: 'use only one of --to, --test-address and --force',
  frequencyAlone: '--frequency chooses among all subscribers: it does not go with --to or --test-address',
  started: (id: string) => `run ${id}`,
  dryHeader: 'dry run: nothing is written or sent',
  decision: (d: Decision) =>
    `${d.subscriber.email}  ${d.slot.frequency} ${d.slot.period}  ${d.skip ? `skip: ${d.skip}` : `${d.papers!.length} paper(s): ${d.papers!.join(', ')}`}`,
  more: (n: number) => `… and ${n} more`,
  dryTotals: (s: RunSummary) =>
    `would send ${s.plan.queued}, skip ${s.plan.skipped} (nothing left to send), ${s.plan.already} already have this edition or one in flight`,
  summary: (s: RunSummary, seconds: number) =>
    [
      `run ${s.runId} finished in ${seconds.toFixed(1)} s`,
      `  sent ${s.counts.sent}, failed ${s.counts.failed}, bounced ${s.counts.bounced}, unknown ${s.counts.unknown} of the ${s.plan.queued} this run planned`,
      ...(s.drained.sent !== s.counts.sent ? [`  this process sent ${s.drained.sent} in all (deliveries left by earlier runs included)`] : []),
      `  skipped ${s.plan.skipped} (nothing left to send); ${s.plan.already} already had this edition or one in flight`,
      ...(s.plan.errors > 0 ? [`  ${s.plan.errors} subscriber(s) could not be planned (see the log); the next run tries them again`] : []),
      ...(s.counts.queued > 0 ? [`  ${s.counts.queued} waiting for a retry (the scheduler of the running server sends them)`] : []),
      ...s.waitReasons.map((w) => `  waiting because: ${w.reason} (the last try of ${w.n === 1 ? '1 message' : `${w.n} messages`})`),
      ...s.editions.map(
        (e) =>
          `  edition ${e.kind} ${e.frequency} ${e.local_date}: sent ${e.sent}, waiting ${e.waiting}` +
          (e.failed + e.bounced + e.unknown > 0 ? `, failed ${e.failed}, bounced ${e.bounced}, unknown ${e.unknown}` : ''),
      ),
      ...(s.heldBy
        ? [`  the waiting rows are being sent by another process (${s.heldBy.holder}, sending since ${s.heldBy.since ?? 'an unknown time'}); it finishes them`]
        : []),
      ...(s.outage ? ['  the mail server could not be reached: the rest stay queued with no attempt spent; the running server or the next send goes on'] : []),
    ].join('\n'),
  testSent: (to: string, response: string) => `test digest sent to ${to}: ${response}`,
  testDry: (to: string) => `would send the current digest to ${to} (the ledger is not touched)`,
  progress: (done: number, total: number, sent: number, failed: number, rate: number) =>
    `sent ${done}/${total} (delivered ${sent}, failed ${failed}, ${rate.toFixed(0)}/s)`,
} as const;

export interface SendIo {
  out(text: string): void;
  /** Where --json writes its one object (stdout); set internally. */
  json?: (text: string) => void;
  /** Where the progress bar draws; null for none (not a terminal). */
  progressStream: NodeJS.WriteStream | null;
  /** Where progress goes as plain lines when there is no bar (stderr not a terminal: a log, CI, systemd). */
  progressLine?: ((line: string) => void) | null;
}
const stdio: SendIo = {
  out: (t) => void process.stdout.write(t),
  progressStream: process.stderr.isTTY ? process.stderr : null,
  progressLine: process.stderr.isTTY ? null : (l) => void process.stderr.write(l + '\n'),
};

// A progress line every 2 s or every tenth of the run, whichever comes first, and only when something moved.
const PROGRESS_LINE_MS = 2000;
const PROGRESS_LINE_STEPS = 10;

function frequencyArg(value: string): 'daily' | 'weekly' {
  if (value !== 'daily' && value !== 'weekly') throw new InvalidArgumentError('expected one of daily, weekly');
  return value;
}

function kindArg(value: string) {
  const r = DigestKind.safeParse(value);
  if (!r.success) throw new InvalidArgumentError(`expected one of ${DigestKind.options.join(', ')}`);
  return r.data;
}

interface SendOptions {
  dryRun?: boolean;
  kind?: DigestKind;
  frequency?: 'daily' | 'weekly';
  to?: string;
  testAddress?: string;
  force?: boolean;
  json?: boolean;
}

export function requestFromOptions(o: SendOptions): RunRequest {
  if ([o.to, o.testAddress, o.force].filter(Boolean).length > 1) throw new RunError(MESSAGES.exclusive);
  if (o.frequency && (o.to || o.testAddress)) throw new RunError(MESSAGES.frequencyAlone);
  const mode: RunMode = o.testAddress ? 'test' : o.to ? 'to' : o.force ? 'force' : 'due';
  return { trigger: 'cli', mode, kind: o.kind, frequency: o.frequency, target: o.testAddress ?? o.to, dryRun: !!o.dryRun };
}

/** SQLite's page cache for the `send` command's connection, in KiB (SQLite's own default). */
const SEND_CACHE_KIB = 2000;

/** Runs one send with the bar; exported for tests, which pass their own deps and io. */
export async function runSendCommand(deps: DeliveryDeps, o: SendOptions, io: SendIo = stdio): Promise<RunSummary> {
  const req = requestFromOptions(o);
  const service = createDeliveryService(deps);
  const started = Date.now();
  let shown = 0;
  const LIMIT = 100;
  if (req.dryRun && req.mode !== 'test') {
    io.out(MESSAGES.dryHeader + '\n');
    req.onDecision = (d) => {
      if (shown++ < LIMIT) io.out(MESSAGES.decision(d) + '\n');
    };
  }
  const run = service.start(req);
  // --json: stdout carries the summary object and nothing else (no progress bar, no lines).
  if (o.json) io = { out: () => {}, progressStream: null, progressLine: io.progressLine ?? null, json: io.out };
  io.out(MESSAGES.started(run.runId) + '\n');
  let bar: cliProgress.SingleBar | null = null;
  let lastLine = { at: started, done: 0 };
  // The counts read the run's index (a million entries at a million subscribers) on the thread that also sends:
  // after a count that took t, the next waits 20 t, so counting never takes more than a twentieth of the time.
  let nextCount = 0;
  const poll = setInterval(() => {
    if (!io.progressStream && !io.progressLine) return;
    const t0 = Date.now();
    if (t0 < nextCount) return;
    const row = service.getRun(run.runId);
    if (!row) return;
    const c = service.counts(run.runId);
    nextCount = Date.now() + 20 * (Date.now() - t0);
    const done = c.sent + c.failed + c.bounced + c.unknown;
    const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
    if (!io.progressStream) {
      // Sending starts while planning goes on: until the plan is done, the total is what is planned so far.
      const total = row.planned || c.total - c.skipped;
      if (total === 0) return;
      const step = Math.max(1, Math.ceil(total / PROGRESS_LINE_STEPS));
      if (done === lastLine.done || (Date.now() - lastLine.at < PROGRESS_LINE_MS && Math.floor(done / step) === Math.floor(lastLine.done / step))) return;
      lastLine = { at: Date.now(), done };
      io.progressLine!(MESSAGES.progress(done, total, c.sent, c.failed + c.bounced, rate));
      return;
    }
    if (row.planned === 0) return;
    if (!bar) {
      bar = new cliProgress.SingleBar(
        { format: ' {bar} {value}/{total} | sent {sent} failed {failed} | {rate}/s | {eta_formatted} left', stream: io.progressStream, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(row.planned, 0, { sent: 0, failed: 0, rate: '0' });
    }
    bar.update(done, { sent: c.sent, failed: c.failed + c.bounced, rate: rate.toFixed(0) });
  }, 200);
  try {
    const summary = await run.done;
    if (bar) {
      const b = bar as cliProgress.SingleBar;
      b.update(summary.counts.sent + summary.counts.failed + summary.counts.bounced + summary.counts.unknown);
      b.stop();
    }
    if (req.mode === 'test') io.out((req.dryRun ? MESSAGES.testDry(req.target!) : MESSAGES.testSent(req.target!, summary.testResponse ?? '')) + '\n');
    else if (req.dryRun) {
      if (shown > LIMIT) io.out(MESSAGES.more(shown - LIMIT) + '\n');
      io.out(MESSAGES.dryTotals(summary) + '\n');
    } else io.out(MESSAGES.summary(summary, (Date.now() - started) / 1000) + '\n');
    const drained = { ...summary.drained, editions: [...summary.drained.editions] };
    io.json?.(JSON.stringify({ ...summary, drained, seconds: (Date.now() - started) / 1000 }, null, 2) + '\n');
    return summary;
  } finally {
    clearInterval(poll);
    await service.close();
  }
}

/**
 * `paperboy send [--dry-run] [--kind K] [--to EMAIL | --test-address EMAIL | --force]`.
 * `getApp` gives the parts a send needs (the app plus its Messenger and DigestSource).
 */
export function registerSendCommand(program: Command, getApp: () => DeliveryDeps | Promise<DeliveryDeps>): void {
  program
    .command('send')
    .description('send digests now: to everyone due (default), everyone (--force), one subscriber (--to), or a test address')
    .option('--dry-run', 'show who would get what; write and send nothing')
    .option('--kind <kind>', 'only subscribers of this kind (trending, new, both); for --test-address, the digest kind', kindArg)
    .option('--frequency <frequency>', 'only daily or only weekly subscribers (with the default due run or --force)', frequencyArg)
    .option('--to <email>', 'send this subscriber their digest now, whatever their delivery hour')
    .option('--test-address <email>', 'send the current digest to any address without touching the ledger')
    .option('--force', 'send every active subscriber their digest now, whatever their delivery hour (never a second in one edition)')
    .option('--json', 'print the summary as one JSON object on stdout (the run, its editions, who holds the sender)')
    .action(async (o: SendOptions) => {
      // Checked before a run is started: a typo is one line to fix, not a failed run with a stack trace.
      for (const [flag, value] of [
        ['--to', o.to],
        ['--test-address', o.testAddress],
      ] as const) {
        if (value === undefined) continue;
        const r = checkEmail(value);
        if ('error' in r) throw new UserError(`${flag} ${JSON.stringify(value)}: ${r.error}`);
      }
      const deps = await getApp();
      // A send reads each subscriber once, in id order, and appends to its ledger: SQLite's page cache, which
      // better-sqlite3 builds at 16 MB a file, gains it nothing and was 20 MB of its peak RSS (README, memory).
      deps.store.db.pragma(`cache_size = -${SEND_CACHE_KIB}`);
      // A send compiles MJML once per layout, at its start: MJML's thread (render/mjml.ts) ends as soon as it is idle.
      keepMjmlLoaded(0);
      await runSendCommand(deps, o);
    });
}
