// Owns what the admin dashboard shows: its figures, its warnings and its charts (server-drawn SVG, no script).
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import { deliverabilityWarnings } from '../mail/deliverability.js';
import type { DeliveryService } from '../delivery/send-runs.js';
import type { DeliveryCounts, RunRow } from '../delivery/status.js';

export const CHART_DAYS = 30;
const DAY_MS = 86_400_000;
// Providers want complaints under 0.3% of mail sent (Gmail's and Yahoo's bulk-sender rules).
const COMPLAINT_LIMIT = 0.003;

/** `2026-11-23T09:00:00.000Z` -> `2026-11-23 09:00` (UTC, as the page says). */
export function minute(iso: string | null): string {
  return iso ? iso.slice(0, 16).replace('T', ' ') : '';
}

/** A run as the pages show it: its counts, a status pill, failures with bounces counted in. */
export function runView(r: RunRow, counts: DeliveryCounts) {
  return {
    ...r,
    counts,
    started: minute(r.started_at),
    finished: minute(r.finished_at),
    dry: r.dry_run === 1,
    failedCount: counts.failed + counts.bounced + counts.unknown,
    waiting: counts.queued + counts.sending,
    statusClass: r.status === 'failed' ? 'bad' : r.status === 'running' ? 'run' : 'ok',
  };
}

export interface Series {
  name: string;
  /** An SVG fill (a presentation attribute: no style attribute, so the admin CSP needs nothing inline). */
  fill: string;
  values: number[];
}

const VIEW_W = 600;

/** Bars for each day, the series stacked bottom to top; each bar's <title> gives the day and the figures. */
export function stackedBars(days: string[], series: Series[], height = 150) {
  const totals = days.map((_, i) => series.reduce((t, s) => t + (s.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const step = VIEW_W / days.length;
  const w = Math.max(2, step - 4);
  const bars: { x: number; y: number; w: number; h: number; fill: string; title: string }[] = [];
  days.forEach((day, i) => {
    let y = height;
    for (const s of series) {
      const n = s.values[i] ?? 0;
      const h = Math.round((n / max) * (height - 4));
      if (h <= 0) continue;
      y -= h;
      bars.push({ x: Math.round(i * step + 2), y, w: Math.round(w), h, fill: s.fill, title: `${day}: ${n} ${s.name}` });
    }
  });
  return { width: VIEW_W, height, max, bars, first: days[0] ?? '', last: days[days.length - 1] ?? '', legend: series.map((s) => s.name) };
}

/** The last `n` days up to today (UTC), oldest first. */
export function lastDays(now: Date, n = CHART_DAYS): string[] {
  return Array.from({ length: n }, (_, i) => new Date(now.getTime() - (n - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

const STATUS_ORDER = ['active', 'pending', 'unsubscribed', 'bounced'] as const;
const STATUS_FILL: Record<(typeof STATUS_ORDER)[number], string> = { active: '#15803d', pending: '#d97706', unsubscribed: '#9ca3af', bounced: '#b42318' };

/**
 * Each day's count by status, derived from every subscriber's dated events: created (pending), confirmed (active),
 * unsubscribed, bounced. On each day the latest event up to it decides; the status of today is the stored one from
 * its last event on (a resubscribe does not clear the old unsubscribe date).
 */
export function subscribersOverTime(
  rows: { status: string; created_at: string; confirmed_at: string | null; unsubscribed_at: string | null; bounced_at: string | null }[],
  days: string[],
): Series[] {
  const counts = Object.fromEntries(STATUS_ORDER.map((s) => [s, days.map(() => 0)])) as Record<string, number[]>;
  for (const r of rows) {
    const events: [string, string][] = [[r.created_at.slice(0, 10), 'pending']];
    if (r.confirmed_at) events.push([r.confirmed_at.slice(0, 10), 'active']);
    if (r.unsubscribed_at) events.push([r.unsubscribed_at.slice(0, 10), 'unsubscribed']);
    if (r.bounced_at) events.push([r.bounced_at.slice(0, 10), 'bounced']);
    events.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const lastDay = events[events.length - 1]![0];
    let e = 0;
    let status: string | null = null;
    days.forEach((day, i) => {
      while (e < events.length && events[e]![0] <= day) status = events[e++]![1];
      if (status === null) return;
      const shown = day >= lastDay ? r.status : status;
      const bucket = counts[shown];
      if (bucket) bucket[i]!++;
    });
  }
  return STATUS_ORDER.map((s) => ({ name: s, fill: STATUS_FILL[s], values: counts[s]! }));
}

export interface DashboardWarning {
  kind: 'configuration' | 'deliverability' | 'sources';
  setting: string;
  message: string;
}

/** Settings that change what the service does on its own, each with what to change. */
export function configWarnings(config: Pick<Config, 'MAIL_TRANSPORT' | 'SCHEDULER_ENABLED' | 'FETCH_ENABLED' | 'INBOUND_SMTP_ENABLED'>): DashboardWarning[] {
  const out: DashboardWarning[] = [];
  const w = (setting: string, message: string) => out.push({ kind: 'configuration', setting, message });
  if (config.MAIL_TRANSPORT !== 'smtp') w('MAIL_TRANSPORT', 'mail is stored in the outbox, not sent: set MAIL_TRANSPORT=smtp and SMTP_URL to deliver it');
  if (!config.SCHEDULER_ENABLED) w('SCHEDULER_ENABLED', 'the scheduler is off: digests go out only when sent by hand (Send, or paperboy send)');
  if (!config.FETCH_ENABLED) w('FETCH_ENABLED', 'live sources are not fetched: digests are made from the papers already stored');
  if (config.MAIL_TRANSPORT === 'smtp' && !config.INBOUND_SMTP_ENABLED)
    w('INBOUND_SMTP_ENABLED', 'bounces and complaints are not received, so addresses that bounce are never suppressed');
  return out;
}

export function buildDashboard(deps: { store: Store; clock: Clock; config: Config; service: DeliveryService }) {
  const { store, clock, config, service } = deps;
  const now = clock.now();
  const days = lastDays(now);
  const since = days[0]!;
  const byDay = (rows: { day: string }[]) => new Map(rows.map((r) => [r.day, r]));

  const sends = byDay(store.q('dash-sends-per-day').all(since));
  const sendValues = days.map((d) => (sends.get(d) as { n: number } | undefined)?.n ?? 0);
  const returns = byDay(store.q('dash-returns-per-day').all({ since }));
  const ret = (d: string) => returns.get(d) as { hard: number; soft: number; complaints: number } | undefined;
  const returnSeries: Series[] = [
    { name: 'hard bounces', fill: '#b42318', values: days.map((d) => ret(d)?.hard ?? 0) },
    { name: 'soft bounces', fill: '#f59e0b', values: days.map((d) => ret(d)?.soft ?? 0) },
    { name: 'complaints', fill: '#7c3aed', values: days.map((d) => ret(d)?.complaints ?? 0) },
  ];
  const subscriberSeries = subscribersOverTime(store.q('dash-subscriber-history').all(), days);

  const byStatus = new Map(
    store
      .q('dash-subscribers-by-status')
      .all()
      .map((r) => [r.status, r.n]),
  );
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  const editions = store
    .q('dash-returns-by-edition')
    .all(10)
    .map((e) => ({
      ...e,
      rate: e.sent > 0 ? `${((100 * e.complaints) / e.sent).toFixed(2)}%` : '–',
      tooMany: e.sent > 0 && e.complaints / e.sent >= COMPLAINT_LIMIT,
    }));
  // The live corpus's health (src/corpus/fetcher.ts): each source's last fetch, and when one last worked.
  const fetches = store
    .q('fetch-health')
    .all()
    .map((f) => ({
      ...f,
      started: minute(f.started_at),
      lastOk: f.last_ok_at ? minute(f.last_ok_at) : 'never',
      failed: f.status === 'failed',
      // The first line only: a fault of paperboy's own carries its stack for the log, not for this table.
      error: f.error?.split('\n')[0] ?? '',
    }));

  const warnings: DashboardWarning[] = [
    ...configWarnings(config),
    // Mail that is really sent gets the same warnings as the start log (src/mail/deliverability.ts).
    ...(config.MAIL_TRANSPORT === 'smtp' ? deliverabilityWarnings(config).map((w) => ({ kind: 'deliverability' as const, ...w })) : []),
    ...editions
      .filter((e) => e.tooMany)
      .slice(0, 1)
      .map((e) => ({
        kind: 'deliverability' as const,
        setting: `edition ${e.local_date}`,
        message: `${e.rate} of the ${e.frequency} ${e.kind} edition complained (providers want under 0.3%): check the content and who signed up`,
      })),
    ...fetches
      .filter((f) => f.failed)
      .map((f) => ({
        kind: 'sources' as const,
        setting: f.source,
        message: `the last fetch failed (${f.error || 'no reason given'}); last worked: ${f.lastOk}`,
      })),
  ];

  return {
    title: 'Dashboard',
    nav: 'dashboard' as const,
    now: `${minute(now.toISOString())} UTC`,
    days: CHART_DAYS,
    stats: [
      ...STATUS_ORDER.map((s) => ({
        label: s,
        value: byStatus.get(s) ?? 0,
        tone: s === 'active' ? 'ok' : s === 'bounced' && (byStatus.get(s) ?? 0) > 0 ? 'bad' : '',
      })),
      { label: `sent, ${CHART_DAYS} d`, value: sum(sendValues), tone: '' },
      { label: `returned, ${CHART_DAYS} d`, value: sum(returnSeries.flatMap((s) => s.values)), tone: '' },
    ],
    // The figures as they were before the charts, for anyone reading the page as text.
    subscribers: [...byStatus].map(([status, n]) => ({ status, n })),
    subscriberChart: stackedBars(days, subscriberSeries),
    chart: stackedBars(days, [{ name: 'sent', fill: '#c2410c', values: sendValues }]),
    returnsChart: stackedBars(days, returnSeries, 110),
    runs: service.recentRuns(10).map((r) => runView(r, service.counts(r.id))),
    failures: store
      .q('dash-failures')
      .all(50)
      .map((f) => ({ ...f, when: minute(f.updated_at) })),
    warnings,
    softLimit: config.SOFT_BOUNCE_LIMIT,
    softDays: config.SOFT_BOUNCE_WINDOW_DAYS,
    editions,
    bounces: store
      .q('dash-bounces-recent')
      .all(50)
      .map((b) => ({ ...b, hard: b.severity === 'hard', when: minute(b.received_at) })),
    fetches,
  };
}
