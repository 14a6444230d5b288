// Owns fetching on its own: once at start and on FETCH_SCHEDULE (node-cron), one fetch at a time, each failure
// logged once per spell of failures (the dashboard shows every one), and nothing that fails ever thrown at the service.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';
import { formatSourceWarning, type FetchReport, type FetchTrigger, type Fetcher, type SourceName } from './fetcher.js';

export interface FetchScheduler {
  /** Starts a fetch now (or joins the one running); resolves with its report, or null if it could not run at all. */
  fetchNow(trigger?: FetchTrigger): Promise<FetchReport | null>;
  /** Stops the schedule and any fetch in flight (its retries are cut short), then waits for it. */
  stop(): Promise<void>;
}

export interface FetchSchedulerOptions {
  /** A cron expression, or 'off' for no schedule. */
  schedule: string;
  /** Fetch once right away (in the background: the service does not wait for it). */
  atStart: boolean;
}

/** At most this many skipped items are logged one by one per fetch; the rest are counted. */
const WARNINGS_LOGGED = 10;

export function startFetchScheduler(fetcher: Fetcher, log: Logger, opts: FetchSchedulerOptions): FetchScheduler {
  const abort = new AbortController();
  const failing = new Set<SourceName>();
  let running: Promise<FetchReport | null> | null = null;

  function logReport(report: FetchReport): void {
    for (const r of report.sources) {
      if (r.status === 'failed') {
        // Once per spell: a source that stays unreachable does not fill the log twice a day.
        const what = r.errorKind === 'unreachable' ? 'source unreachable' : 'fetch failed';
        if (!failing.has(r.source)) {
          log.warn(
            { source: r.source, asked: r.asked, error: r.error, added: r.added },
            `${r.source}: ${what} (${r.error}); digests go out from the stored corpus, and the next scheduled fetch tries again (the admin dashboard shows each attempt)`,
          );
          failing.add(r.source);
        } else log.debug({ source: r.source, error: r.error }, `${r.source}: ${what} again`);
      } else {
        if (failing.delete(r.source)) log.info({ source: r.source }, `${r.source}: reachable again`);
        log.info({ source: r.source, asked: r.asked, received: r.received, added: r.added, updated: r.updated, skipped: r.skipped }, `${r.source}: fetched`);
      }
      for (const w of r.warnings.slice(0, WARNINGS_LOGGED)) log.warn(formatSourceWarning(r.source, w));
      if (r.warnings.length > WARNINGS_LOGGED) log.warn(`${r.source}: ${r.warnings.length - WARNINGS_LOGGED} more items skipped`);
    }
  }

  function fetchNow(trigger: FetchTrigger = 'cron'): Promise<FetchReport | null> {
    if (running) return running;
    if (abort.signal.aborted) return Promise.resolve(null);
    running = fetcher
      .run({ trigger, signal: abort.signal })
      .then((report) => {
        if (!abort.signal.aborted) logReport(report);
        return report;
      })
      .catch((err: unknown) => {
        // Only a fault of paperboy's own gets here (the store, a bug): still never the service's end.
        log.error({ err }, 'fetch failed');
        return null;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  let task: ScheduledTask | null = null;
  if (opts.schedule !== 'off') {
    task = cron.schedule(opts.schedule, () => void fetchNow('cron'), { name: 'paperboy-fetch', noOverlap: true, unref: true, timezone: 'UTC' });
  }
  if (opts.atStart) void fetchNow('start');

  return {
    fetchNow,
    async stop() {
      await task?.destroy();
      abort.abort();
      await running;
    },
  };
}
