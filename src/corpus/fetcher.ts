// Owns one fetch: asking the configured paper sources (daily-papers, arXiv) for their papers, merging each answer as
// it arrives (fetch-merge.ts), and recording each source's outcome in `fetch_runs` for the dashboard.
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { mergeFetched, type MergeReport } from './fetch-merge.js';
import { FetchError, createPacer, defaultHttpDeps, type FetchErrorKind, type HttpDeps, type Pacer } from './sources/http.js';
import { DAILY_PAPERS, fetchDailyPapersDay } from './sources/daily-papers.js';
import { ARXIV, ARXIV_INTERVAL_MS, fetchArxiv } from './sources/arxiv.js';
import type { SourceWarning } from './sources/paper.js';

export const SOURCES = [DAILY_PAPERS, ARXIV] as const;
export type SourceName = (typeof SOURCES)[number];
export type FetchTrigger = 'start' | 'cron' | 'cli';

export type FetchConfig = Pick<
  Config,
  'DAILY_PAPERS_URL' | 'ARXIV_API_URL' | 'ARXIV_CATEGORIES' | 'FETCH_DAYS' | 'FETCH_TIMEOUT_SECONDS' | 'FETCH_RETRIES' | 'ARXIV_MAX_RESULTS'
>;

export interface FetcherDeps {
  store: Store;
  clock: Clock;
  config: FetchConfig;
  /** Timeouts, backoff, sleep and fetch itself, for tests (defaults: http.ts). */
  http?: Partial<HttpDeps>;
  /** Between two arXiv requests (arXiv asks for 3 s; tests shrink it). */
  arxivIntervalMs?: number;
  /** Items per daily-papers request. */
  dailyPageSize?: number;
  /** Papers per merge transaction. */
  mergeChunk?: number;
}

export interface FetchProgress {
  source: SourceName;
  /** Steps (a date's answer, an arXiv page) done and planned so far. */
  done: number;
  total: number;
  label: string;
}

export interface FetchRequest {
  trigger: FetchTrigger;
  /** The daily-papers listing dates to read (YYYY-MM-DD); default: the last FETCH_DAYS days up to today. */
  dates?: string[];
  sources?: readonly SourceName[];
  signal?: AbortSignal;
  onProgress?: (p: FetchProgress) => void;
}

export interface SourceReport extends MergeReport {
  source: SourceName;
  status: 'ok' | 'failed';
  error: string | null;
  errorKind: FetchErrorKind | null;
  /** What was asked, as the dashboard shows it. */
  asked: string;
  requests: number;
  skipped: number;
  warnings: SourceWarning[];
}

export interface FetchReport {
  sources: SourceReport[];
}

const DAY_MS = 86_400_000;
const DAILY_PAGE_SIZE = 100;
const DAILY_MAX_PAGES = 50;
const ARXIV_PAGE_SIZE = 100;

export const dayOf = (t: Date) => t.toISOString().slice(0, 10);

/** Every date from `from` to `to` (YYYY-MM-DD, inclusive), oldest first. */
export function datesBetween(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(from + 'T00:00:00Z'); t <= Date.parse(to + 'T00:00:00Z'); t += DAY_MS) out.push(dayOf(new Date(t)));
  return out;
}

/** The dates a scheduled fetch reads: the listing fills during its day and votes keep coming for days after. */
export function recentDates(now: Date, days: number): string[] {
  return datesBetween(dayOf(new Date(now.getTime() - (days - 1) * DAY_MS)), dayOf(now));
}

export function categoriesOf(config: Pick<Config, 'ARXIV_CATEGORIES'>): string[] {
  return config.ARXIV_CATEGORIES.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
}

/** The sources the config turns on: daily-papers unless DAILY_PAPERS_URL is `off`, arXiv when categories are set. */
export function enabledSources(config: Pick<Config, 'DAILY_PAPERS_URL' | 'ARXIV_CATEGORIES'>): SourceName[] {
  const out: SourceName[] = [];
  if (config.DAILY_PAPERS_URL !== 'off') out.push(DAILY_PAPERS);
  if (categoriesOf(config).length > 0) out.push(ARXIV);
  return out;
}

function emptyReport(source: SourceName, asked: string): SourceReport {
  return {
    source,
    asked,
    status: 'ok',
    error: null,
    errorKind: null,
    requests: 0,
    received: 0,
    skipped: 0,
    added: 0,
    updated: 0,
    unchanged: 0,
    removed: 0,
    addedIds: [],
    updatedIds: [],
    warnings: [],
  };
}

function addMerge(r: SourceReport, m: MergeReport): void {
  r.received += m.received;
  r.added += m.added;
  r.updated += m.updated;
  r.unchanged += m.unchanged;
  r.removed += m.removed;
  for (const id of m.addedIds) r.addedIds.push(id);
  for (const id of m.updatedIds) r.updatedIds.push(id);
  if (m.walCheckpoint) {
    const before = r.walCheckpoint;
    r.walCheckpoint = Promise.all([before, m.walCheckpoint]);
    r.walCheckpoint.catch(() => {});
  }
}

export function createFetcher(deps: FetcherDeps) {
  const { store, clock, config } = deps;
  // One pacer for the fetcher's life: arXiv's interval holds across fetches, not only within one.
  const pacer: Pacer = createPacer(deps.arxivIntervalMs ?? ARXIV_INTERVAL_MS, deps.http?.sleep);
  const { q } = store;

  function httpFor(signal?: AbortSignal): HttpDeps {
    return defaultHttpDeps({ timeoutMs: config.FETCH_TIMEOUT_SECONDS * 1000, retries: config.FETCH_RETRIES, ...deps.http, ...(signal ? { signal } : {}) });
  }

  function record(r: SourceReport, runId: number): void {
    q('finish-fetch-run').run({
      id: runId,
      status: r.status,
      requests: r.requests,
      received: r.received,
      skipped: r.skipped,
      added: r.added,
      updated: r.updated,
      error: r.error,
      at: clock.now().toISOString(),
    });
  }

  async function daily(req: FetchRequest, dates: string[], r: SourceReport, http: HttpDeps): Promise<void> {
    let done = 0;
    for (const date of dates) {
      try {
        const day = await fetchDailyPapersDay(
          date,
          { baseUrl: config.DAILY_PAPERS_URL, pageSize: deps.dailyPageSize ?? DAILY_PAGE_SIZE, maxPages: DAILY_MAX_PAGES },
          http,
        );
        r.requests += day.requests;
        r.skipped += day.skipped;
        r.warnings.push(...day.warnings);
        addMerge(r, await mergeFetched(store, day.papers, clock, { chunk: deps.mergeChunk }));
      } catch (err) {
        fail(r, err, date);
        return;
      } finally {
        req.onProgress?.({ source: DAILY_PAPERS, done: ++done, total: dates.length, label: date });
      }
    }
  }

  async function arxiv(req: FetchRequest, since: string, r: SourceReport, http: HttpDeps): Promise<void> {
    const pages = Math.ceil(config.ARXIV_MAX_RESULTS / ARXIV_PAGE_SIZE);
    let done = 0;
    try {
      await fetchArxiv(
        { baseUrl: config.ARXIV_API_URL, categories: categoriesOf(config), pageSize: ARXIV_PAGE_SIZE, maxResults: config.ARXIV_MAX_RESULTS, since, pacer },
        http,
        async (page) => {
          r.requests += page.requests;
          r.skipped += page.skipped;
          r.warnings.push(...page.warnings);
          addMerge(r, await mergeFetched(store, page.papers, clock, { chunk: deps.mergeChunk }));
          req.onProgress?.({ source: ARXIV, done: ++done, total: Math.max(pages, done), label: `page ${done}` });
        },
      );
    } catch (err) {
      fail(r, err, null);
    }
  }

  function fail(r: SourceReport, err: unknown, what: string | null): void {
    r.status = 'failed';
    if (err instanceof FetchError) r.requests += err.attempts;
    r.errorKind = err instanceof FetchError ? err.kind : null;
    const msg = err instanceof Error ? err.message : String(err);
    r.error = what ? `${what}: ${msg}` : msg;
    // Anything but the source's own failures (a full disk, a bug) is kept whole for the log.
    if (!(err instanceof FetchError)) r.error += err instanceof Error && err.stack ? `\n${err.stack}` : '';
  }

  /**
   * Reads each source in turn and merges what it gave. Never throws for a source's failure (no network, 429, 5xx,
   * timeout, bad JSON): that source's report says `failed` with the reason, and what earlier dates gave is kept.
   */
  async function run(req: FetchRequest): Promise<FetchReport> {
    const dates = req.dates?.length ? [...req.dates].sort() : recentDates(clock.now(), config.FETCH_DAYS);
    const sources = (req.sources ?? enabledSources(config)).filter((s) => s !== ARXIV || categoriesOf(config).length > 0);
    const http = httpFor(req.signal);
    const report: FetchReport = { sources: [] };
    for (const source of sources) {
      const asked =
        source === DAILY_PAPERS ? (dates.length === 1 ? dates[0]! : `${dates[0]}..${dates.at(-1)}`) : `${categoriesOf(config).join(',')} since ${dates[0]}`;
      const r = emptyReport(source, asked);
      const runId = Number(q('start-fetch-run').run(source, req.trigger, asked, clock.now().toISOString()).lastInsertRowid);
      try {
        if (source === DAILY_PAPERS) await daily(req, dates, r, http);
        else await arxiv(req, dates[0]!, r, http);
      } finally {
        record(r, runId);
      }
      report.sources.push(r);
      if (req.signal?.aborted) break;
    }
    return report;
  }

  return { run, enabled: () => enabledSources(config) };
}
export type Fetcher = ReturnType<typeof createFetcher>;

export function formatSourceWarning(source: string, w: SourceWarning): string {
  return `${source}: ${w.what}: ${w.message}`;
}
