// Owns `paperboy fetch`: read the live sources now, with a progress bar on a terminal (plain progress lines
// otherwise, on stderr), and print what was added and updated.
import { InvalidArgumentError, type Command } from 'commander';
import cliProgress from 'cli-progress';
import type { App } from '../app.js';
import {
  createFetcher,
  datesBetween,
  dayOf,
  enabledSources,
  categoriesOf,
  formatSourceWarning,
  SOURCES,
  type FetchReport,
  type FetcherDeps,
  type SourceName,
} from '../corpus/fetcher.js';
import { isIsoDay } from '../digest/select.js';
import { CommandFailed, UserError, type GetApp } from './context.js';

/** Names shown per source for the papers added and updated; the rest are counted. */
const NAMED = 20;
/** --since reaches back at most this far (one request per day and page). */
const MAX_DAYS = 366;

export interface FetchIo {
  out(text: string): void;
  err(text: string): void;
  /** Where the progress bar draws; null for plain progress lines on `err`. */
  progressStream: NodeJS.WriteStream | null;
}
const stdio: FetchIo = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  progressStream: process.stderr.isTTY ? process.stderr : null,
};

export interface FetchOptions {
  date?: string;
  since?: string;
  source?: SourceName;
}

function isoDate(value: string): string {
  if (!isIsoDay(value)) throw new InvalidArgumentError('expected a date such as 2026-03-10');
  return value;
}

function sourceArg(value: string): SourceName {
  if (!(SOURCES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${SOURCES.join(', ')}`);
  return value as SourceName;
}

/** Runs one fetch as the command does; exported for tests, which pass their own deps and io. Returns the exit code. */
export async function runFetchCommand(deps: FetcherDeps & Pick<App, 'clock'>, o: FetchOptions, io: FetchIo = stdio): Promise<number> {
  if (o.date && o.since) throw new UserError('use only one of --date and --since');
  const today = dayOf(deps.clock.now());
  const from = o.date ?? o.since;
  if (from && from > today) throw new UserError(`${from} is in the future: the listing of a day is read on or after it`);
  const dates = o.date ? [o.date] : o.since ? datesBetween(o.since, today) : undefined;
  if (dates && dates.length > MAX_DAYS) throw new UserError(`--since reaches back at most ${MAX_DAYS} days`);
  const sources = o.source ? [o.source] : enabledSources(deps.config);
  if (o.source === 'arxiv' && categoriesOf(deps.config).length === 0) throw new UserError('ARXIV_CATEGORIES is empty: set it (e.g. cs.LG,cs.CL) to read arXiv');
  if (sources.length === 0) throw new UserError('no source is on: DAILY_PAPERS_URL is off and ARXIV_CATEGORIES is empty');

  let bar: cliProgress.SingleBar | null = null;
  const report: FetchReport = await createFetcher(deps).run({
    trigger: 'cli',
    ...(dates ? { dates } : {}),
    sources,
    onProgress: (p) => {
      if (!io.progressStream) return io.err(`${p.source} ${p.label} (${p.done}/${p.total})\n`);
      if (!bar) {
        bar = new cliProgress.SingleBar(
          { format: ' {source} {bar} {value}/{total} | {label}', stream: io.progressStream, hideCursor: true },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total, 0, { source: p.source, label: p.label });
      }
      bar.setTotal(p.total);
      bar.update(p.done, { source: p.source, label: p.label });
      if (p.done >= p.total) {
        bar.stop();
        bar = null;
      }
    },
  });
  (bar as cliProgress.SingleBar | null)?.stop();

  const title = (id: number) => deps.store.q('get-paper').get(id)?.title ?? '(removed)';
  let failed = false;
  for (const r of report.sources) {
    for (const w of r.warnings) io.out(`warning: ${formatSourceWarning(r.source, w)}\n`);
    for (const [label, ids] of [
      ['added', r.addedIds],
      ['updated', r.updatedIds],
    ] as const) {
      for (const id of ids.slice(0, NAMED)) io.out(`${label} ${id}: ${title(id)}\n`);
      if (ids.length > NAMED) io.out(`… and ${ids.length - NAMED} more ${label}\n`);
    }
    io.out(
      `${r.source} ${r.asked}: ${r.status === 'ok' ? 'ok' : 'FAILED'}, requests: ${r.requests}, papers: ${r.received}, ` +
        `added: ${r.added}, updated: ${r.updated}, unchanged: ${r.unchanged}, skipped: ${r.skipped}\n`,
    );
    if (r.status === 'failed') {
      failed = true;
      io.err(`error: ${r.source}: ${r.error}\n`);
    }
  }
  return failed ? 1 : 0;
}

export function registerFetchCommand(program: Command, getApp: GetApp): void {
  program
    .command('fetch')
    .description('read the live sources now (daily-papers, and arXiv when ARXIV_CATEGORIES is set) and merge their papers into the corpus')
    .option('--date <date>', 'the daily-papers listing of this day (YYYY-MM-DD)', isoDate)
    .option('--since <date>', 'every listing from this day to today', isoDate)
    .option('--source <source>', `only this source (${SOURCES.join(', ')})`, sourceArg)
    .action(async (o: FetchOptions) => {
      const app = getApp();
      const code = await runFetchCommand({ store: app.store, clock: app.clock, config: app.config }, o);
      if (code !== 0) throw new CommandFailed(code);
    });
}
