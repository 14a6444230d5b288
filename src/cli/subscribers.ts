// Owns `paperboy subscribers list|add|remove|export|import`: the admin's view of the list, CSV in and out.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import type { App } from '../app.js';
import { checkEmail } from '../subscriptions/email.js';
import { exportCsvChunks } from '../subscriptions/export.js';
import { eraseSubscriber } from '../subscriptions/admin-actions.js';
import { createOutbox } from '../mail/outbox.js';
import { importSubscribersCsv, type ImportProblem } from '../subscriptions/import.js';
import { defaultPreferences, fieldErrors, preferencesSchema, WEEKDAYS, type Preferences } from '../subscriptions/preferences.js';
import { createSubscriberRepository, SubscriberStatus, type Subscriber } from '../subscriptions/repository.js';
import { createSubscriptionService } from '../subscriptions/lifecycle.js';
import { pad } from './table.js';

const MESSAGES = {
  notFound: (email: string) => `no subscriber with address ${email}`,
  added: (email: string, status: string) => `added ${email} (${status})`,
  queued: 'a confirmation email is queued; the running server sends it',
  notQueued: 'no confirmation sent: one already went out in the last 24 hours',
  alreadyActive: (email: string) => `${email} is already active`,
  activated: (email: string, was: string) => `${email} is now active (was ${was})`,
  bounced: (s: Subscriber) =>
    `${s.email} bounced${s.bounced_at ? ` on ${s.bounced_at.slice(0, 10)}` : ''}${s.bounce_reason ? ` (${s.bounce_reason})` : ''}; left unchanged`,
  removed: (email: string) => `${email} unsubscribed`,
  deleted: (email: string, outboxMessages: number) =>
    `${email} deleted, with its delivery history${outboxMessages ? ` and the ${outboxMessages} message${outboxMessages === 1 ? '' : 's'} the outbox held for it` : ''}`,
  alreadyOut: (email: string, status: string) => `${email} is already ${status}`,
  exported: (n: number, file: string) => `exported ${n} subscriber(s) to ${file}`,
  more: (n: number) => `… ${n} more; use --limit 0 for all, or export`,
  importQueued: (n: number) => `confirmation emails queued: ${n} (the running server sends them)`,
} as const;

/** The flag of `subscribers add` that sets each preference field, for errors a person can act on. */
const PREFERENCE_FLAGS = {
  frequency: '--frequency',
  weekday: '--weekday',
  kind: '--kind',
  topics: '--topics',
  digest_size: '--size',
  delivery_hour: '--hour',
  time_zone: '--time-zone',
  muted_topics: '--muted',
  followed_authors: '--follow',
  only_with_code: '--only-with-code',
  selection_mode: '--mode',
  relevance_bar: '--bar',
  trend_weight: '--trend',
} as const;

export interface CliIo {
  out(text: string): void;
}
const stdio: CliIo = { out: (t) => void process.stdout.write(t) };

function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
}

function statusArg(value: string) {
  const r = SubscriberStatus.safeParse(value);
  if (!r.success) throw new InvalidArgumentError(`expected one of ${SubscriberStatus.options.join(', ')}`);
  return r.data;
}

function schedule(s: Subscriber): string {
  return s.frequency === 'weekly' ? `weekly/${WEEKDAYS[s.weekday]!.slice(0, 3)}` : s.frequency;
}

export function formatSubscriberTable(rows: Subscriber[]): string {
  const head = `${pad('ID', 7)} ${pad('EMAIL', 32)} ${pad('STATUS', 12)} ${pad('SCHEDULE', 10)} ${pad('KIND', 8)} ${pad('SIZE', 4)} ${pad('HOUR', 4)} ${pad('TIME ZONE', 20)} TOPICS`;
  const lines = rows.map((s) =>
    `${pad(String(s.id), 7)} ${pad(s.email, 32)} ${pad(s.status, 12)} ${pad(schedule(s), 10)} ${pad(s.kind, 8)} ${pad(String(s.digest_size), 4)} ${pad(String(s.delivery_hour).padStart(2, '0'), 4)} ${pad(s.time_zone, 20)} ${s.topics.join(', ')}`.trimEnd(),
  );
  return [head, ...lines].join('\n') + '\n';
}

function summariseProblems(title: string, problems: ImportProblem[], show: number): string {
  if (problems.length === 0) return '';
  const byReason = new Map<string, number>();
  for (const p of problems) byReason.set(p.reason, (byReason.get(p.reason) ?? 0) + 1);
  let text = `${title} ${problems.length}:\n`;
  for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1])) text += `  ${n} × ${reason}\n`;
  for (const p of problems.slice(0, show)) text += `    line ${p.line}: ${JSON.stringify(p.email)}: ${p.reason}\n`;
  if (problems.length > show) text += `    … and ${problems.length - show} more\n`;
  return text;
}

interface PrefOptions {
  frequency?: string;
  weekday?: string;
  kind?: string;
  topics?: string;
  size?: string;
  hour?: string;
  timeZone?: string;
  muted?: string;
  follow?: string;
  onlyWithCode?: boolean;
  mode?: string;
  bar?: string;
  trend?: string;
}

export function registerSubscriberCommands(program: Command, getApp: () => App, io: CliIo = stdio): void {
  const cmd = program.command('subscribers').description('list, add, remove, export and import subscribers');
  const fail = (message: string, on: Command = cmd): never => on.error(`error: ${message}`, { exitCode: 1 });

  const defaults = (app: App) => defaultPreferences({ digestSize: app.config.DIGEST_SIZE_DEFAULT, timeZone: app.config.DEFAULT_TIME_ZONE });
  // Bad input is the subcommand's to explain: its error names the flag and is followed by its own help.
  const emailArg = (raw: string, sub: Command): string => {
    const r = checkEmail(raw);
    return 'error' in r ? fail(`${JSON.stringify(raw)}: ${r.error}`, sub) : r.email;
  };
  const prefsFrom = (app: App, o: PrefOptions, sub: Command): Preferences => {
    const input = {
      ...defaults(app),
      ...(o.frequency !== undefined && { frequency: o.frequency }),
      ...(o.weekday !== undefined && { weekday: o.weekday }),
      ...(o.kind !== undefined && { kind: o.kind }),
      ...(o.topics !== undefined && { topics: o.topics }),
      ...(o.size !== undefined && { digest_size: o.size }),
      ...(o.hour !== undefined && { delivery_hour: o.hour }),
      ...(o.timeZone !== undefined && { time_zone: o.timeZone }),
      ...(o.muted !== undefined && { muted_topics: o.muted }),
      ...(o.follow !== undefined && { followed_authors: o.follow }),
      ...(o.onlyWithCode !== undefined && { only_with_code: o.onlyWithCode }),
      ...(o.mode !== undefined && { selection_mode: o.mode }),
      ...(o.bar !== undefined && { relevance_bar: o.bar }),
      ...(o.trend !== undefined && { trend_weight: o.trend }),
    };
    const r = preferencesSchema.safeParse(input);
    if (!r.success)
      return fail(
        Object.entries(fieldErrors(r.error))
          .map(([k, m]) => `${PREFERENCE_FLAGS[k as keyof typeof PREFERENCE_FLAGS] ?? k}: ${m}`)
          .join('\nerror: '),
        sub,
      );
    return r.data;
  };

  cmd
    .command('list')
    .description('show subscribers with their status and preferences')
    .option('-s, --status <status>', 'only this status', statusArg)
    .option('-n, --limit <n>', 'how many (0 for all)', wholeNumber, 100)
    .option('--json', 'print JSON, one subscriber per line')
    .action((o: { status?: SubscriberStatus; limit: number; json?: boolean }) => {
      const repo = createSubscriberRepository(getApp().store);
      const counts = repo.countByStatus();
      const total = o.status ? counts[o.status] : Object.values(counts).reduce((a, b) => a + b, 0);
      const want = o.limit === 0 ? Infinity : o.limit;
      const rows: Subscriber[] = [];
      // Keyset pages: memory stays flat and no read is held open across the table.
      for (let after = 0; rows.length < want; ) {
        const page = repo.page(after, Math.min(1000, want - rows.length), o.status);
        if (page.length === 0) break;
        rows.push(...page);
        after = page.at(-1)!.id;
      }
      if (o.json) {
        for (const s of rows) io.out(JSON.stringify(s) + '\n');
        return;
      }
      io.out(formatSubscriberTable(rows));
      if (total > rows.length) io.out(MESSAGES.more(total - rows.length) + '\n');
      io.out(
        `total: ${Object.entries(counts)
          .map(([k, n]) => `${k} ${n}`)
          .join(', ')}\n`,
      );
    });

  cmd
    .command('add')
    .description('add one address: pending with a confirmation email, or active at once with --confirmed')
    .argument('<email>')
    .option('--confirmed', 'the person already opted in elsewhere: make them active, send nothing')
    .option('--frequency <f>', 'daily, weekly or paused')
    .option('--weekday <0-6>', 'day for weekly digests, 0 = Sunday')
    .option('--kind <k>', 'trending, new or both')
    .option('--topics <list>', 'comma-separated keywords')
    .option('--size <n>', 'papers per digest, 1 to 30')
    .option('--hour <n>', 'local delivery hour, 0 to 23')
    .option('--time-zone <tz>', 'IANA time zone, e.g. Europe/London')
    .option('--muted <list>', 'comma-separated keywords never to send')
    .option('--follow <names>', 'comma-separated author names whose new papers are always sent')
    .option('--only-with-code', 'only papers with a code link')
    .option('--mode <m>', 'top (the best --size papers) or threshold (only papers above --bar, up to --size)')
    .option('--bar <0-100>', 'relevance bar for threshold mode')
    .option('--trend <0-100>', '0 = only my topics, 100 = only trending')
    .action((raw: string, o: PrefOptions & { confirmed?: boolean }, sub: Command) => {
      const app = getApp();
      const email = emailArg(raw, sub);
      const prefs = prefsFrom(app, o, sub);
      const repo = createSubscriberRepository(app.store);
      const now = app.clock.now().toISOString();
      if (!o.confirmed) {
        const service = createSubscriptionService({
          store: app.store,
          clock: app.clock,
          log: app.log,
          config: app.config,
          secret: app.config.SECRET_KEY ?? '',
        });
        const r = service.subscribe(email, 'cli', prefs);
        if (!r.ok) return fail(r.error);
        const s = repo.byId(r.subscriberId)!;
        if (s.status === 'active') return io.out(MESSAGES.alreadyActive(email) + '\n');
        if (s.status === 'bounced') return io.out(MESSAGES.bounced(s) + '\n');
        io.out(`${MESSAGES.added(email, s.status)}; ${r.confirmationQueued ? MESSAGES.queued : MESSAGES.notQueued}\n`);
        return;
      }
      const existing = repo.byEmail(email);
      if (!existing) {
        repo.insert({ email, status: 'active', source: 'cli', preferences: prefs }, now);
        return io.out(MESSAGES.added(email, 'active') + '\n');
      }
      if (existing.status === 'active') return io.out(MESSAGES.alreadyActive(email) + '\n');
      if (existing.status === 'bounced') return io.out(MESSAGES.bounced(existing) + '\n');
      repo.setActive(existing.id, now);
      io.out(MESSAGES.activated(email, existing.status) + '\n');
    });

  cmd
    .command('remove')
    .description('unsubscribe an address (kept, so it is never mailed again), or --delete it entirely')
    .argument('<email>')
    .option('--delete', 'erase the row and its delivery history instead of unsubscribing')
    .action(async (raw: string, o: { delete?: boolean }, sub: Command) => {
      const app = getApp();
      const email = emailArg(raw, sub);
      const repo = createSubscriberRepository(app.store);
      const s = repo.byEmail(email) ?? fail(MESSAGES.notFound(email));
      if (o.delete) {
        const { outboxMessages } = await eraseSubscriber(app.store, createOutbox(app.config.OUTBOX_DIR), s);
        return io.out(MESSAGES.deleted(email, outboxMessages) + '\n');
      }
      if (!repo.unsubscribe(s.id, app.clock.now().toISOString())) return io.out(MESSAGES.alreadyOut(email, s.status) + '\n');
      io.out(MESSAGES.removed(email) + '\n');
    });

  cmd
    .command('export')
    .description('write subscribers as CSV (to FILE, or to standard output)')
    .argument('[file]')
    .option('-s, --status <status>', 'only this status', statusArg)
    .action((file: string | undefined, o: { status?: SubscriberStatus }) => {
      const repo = createSubscriberRepository(getApp().store);
      const fd = file ? openSync(file, 'w') : null;
      const write = (t: string) => (fd === null ? io.out(t) : void writeSync(fd, t));
      let n = 0;
      try {
        const chunks = exportCsvChunks(repo, o.status);
        for (let r = chunks.next(); ; r = chunks.next()) {
          if (r.done) {
            n = r.value;
            break;
          }
          write(r.value);
        }
      } finally {
        if (fd !== null) closeSync(fd);
      }
      if (file) io.out(MESSAGES.exported(n, file) + '\n');
    });

  cmd
    .command('import')
    .description('add addresses from a CSV file (an "email" column, optional preference columns as in export)')
    .argument('<file>')
    .option('--confirmed', 'the list already opted in elsewhere: make them active, send nothing')
    .option('--show <n>', 'how many skipped/rejected rows to print', wholeNumber, 20)
    .action((file: string, o: { confirmed?: boolean; show: number }) => {
      const app = getApp();
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        return fail(`cannot read ${file}: ${(err as Error).message}`);
      }
      let summary: ReturnType<typeof importSubscribersCsv>;
      try {
        summary = importSubscribersCsv(app.store, app.clock, text, { confirmed: o.confirmed === true, defaults: defaults(app) });
      } catch (err) {
        return fail(`${file}: ${(err as Error).message}`);
      }
      io.out(
        `read ${summary.rows} row(s): added ${summary.added}${o.confirmed ? ' (active)' : ' (pending)'}, skipped ${summary.skipped.length}, rejected ${summary.rejected.length}\n`,
      );
      io.out(summariseProblems('skipped', summary.skipped, o.show));
      io.out(summariseProblems('rejected', summary.rejected, o.show));
      if (!o.confirmed && summary.added > 0) io.out(MESSAGES.importQueued(summary.confirmationsQueued) + '\n');
    });
}
