// Owns "is this subscriber due?": pure functions of (preferences, now, latest delivery period), DST-safe through Intl.
import type { DeliverySubscriber } from './ports.js';

export interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    // A zone this runtime does not know (a stale or hand-edited row) reads as UTC rather than stopping a whole run.
    let zone = timeZone;
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
    } catch {
      zone = 'UTC';
    }
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall-clock reading of `at` in `timeZone`. */
export function localParts(at: Date, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(at)) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    weekday: WEEKDAYS[parts.weekday!]!,
  };
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

// Planning asks the same questions for every subscriber of a zone: remember the answers (they never change).
const dateMemo = new Map<string, string>();
const instantMemo = new Map<string, Date>();
function remember<V>(memo: Map<string, V>, key: string, make: () => V): V {
  let v = memo.get(key);
  if (v === undefined) {
    if (memo.size > 50_000) memo.clear();
    v = make();
    memo.set(key, v);
  }
  return v;
}

export function localDateOf(at: Date, timeZone: string): string {
  // Keyed to the minute: no zone changes date within one.
  return remember(dateMemo, `${timeZone}|${Math.floor(at.getTime() / 60_000)}`, () => {
    const p = localParts(at, timeZone);
    return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
  });
}

/** Minutes `timeZone` is ahead of UTC at the instant `ms`. */
function offsetMinutes(ms: number, timeZone: string): number {
  const p = localParts(new Date(ms), timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute);
  return Math.round((asUtc - Math.floor(ms / 60000) * 60000) / 60000);
}

/**
 * The instant the clocks in `timeZone` first read `date` at `hour`:00. A time skipped by a spring-forward
 * gap maps to the first instant after the gap; a time repeated by a fall-back maps to its first occurrence.
 */
export function zonedInstant(date: string, hour: number, timeZone: string): Date {
  return new Date(remember(instantMemo, `${timeZone}|${date}|${hour}`, () => computeZonedInstant(date, hour, timeZone)).getTime());
}

function computeZonedInstant(date: string, hour: number, timeZone: string): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d, hour);
  // Offsets in force a day either side cover every candidate (no zone moves by more than a day).
  const candidates = new Set([offsetMinutes(wall - 86_400_000, timeZone), offsetMinutes(wall, timeZone), offsetMinutes(wall + 86_400_000, timeZone)]);
  const exact: number[] = [];
  for (const off of candidates) {
    const t = wall - off * 60000;
    const p = localParts(new Date(t), timeZone);
    if (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) === wall) exact.push(t);
  }
  if (exact.length > 0) return new Date(Math.min(...exact));
  // In a gap: the wall time never happens; take the earliest instant whose wall clock is past it.
  const after = [...candidates].map((off) => wall - off * 60000).sort((a, b) => a - b);
  for (const t of after) {
    const p = localParts(new Date(t), timeZone);
    if (Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute) > wall) return new Date(t);
  }
  return new Date(after[after.length - 1]!);
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())}`;
}

function weekdayOfDate(date: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d)).getUTCDay();
}

/** ISO 8601 week key of a calendar date, e.g. 2026-W48 (weeks start on Monday; week 1 holds the first Thursday). */
export function isoWeekKey(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const t = new Date(Date.UTC(y, m - 1, d));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow); // the Thursday of this week decides the year
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return `${year}-W${pad(week)}`;
}

export type ScheduleFrequency = 'daily' | 'weekly';

export interface Slot {
  frequency: ScheduleFrequency;
  /** The edition's period: the local date (daily) or ISO week (weekly). */
  period: string;
  /** The subscriber's local date the slot falls on (what the digest is prepared for). */
  localDate: string;
  /** When the slot came due. */
  at: Date;
}

type Prefs = Pick<DeliverySubscriber, 'frequency' | 'weekday' | 'delivery_hour' | 'time_zone' | 'created_at' | 'confirmed_at'>;

/**
 * The latest delivery slot at or before `now` (the subscriber's delivery hour on each local day, or on their
 * weekday for weekly), or null when paused or when that slot came before they subscribed. Taking only the
 * latest slot is what makes a catch-up after downtime happen once, never once per missed day.
 */
export function latestSlot(prefs: Prefs, now: Date): Slot | null {
  if (prefs.frequency === 'paused') return null;
  const today = localDateOf(now, prefs.time_zone);
  for (let back = 0; back <= 8; back++) {
    const date = addDays(today, -back);
    if (prefs.frequency === 'weekly' && weekdayOfDate(date) !== prefs.weekday) continue;
    const at = zonedInstant(date, prefs.delivery_hour, prefs.time_zone);
    if (at.getTime() > now.getTime()) continue;
    const since = Date.parse(prefs.confirmed_at ?? prefs.created_at);
    if (Number.isFinite(since) && at.getTime() < since) return null;
    return { frequency: prefs.frequency, period: prefs.frequency === 'daily' ? date : isoWeekKey(date), localDate: date, at };
  }
  return null;
}

/** The slot a send "now, whatever the hour" (`--force`, `--to`) uses: today's local date or this ISO week. */
export function currentSlot(prefs: Prefs, now: Date): Slot | null {
  if (prefs.frequency === 'paused') return null;
  const date = localDateOf(now, prefs.time_zone);
  return { frequency: prefs.frequency, period: prefs.frequency === 'daily' ? date : isoWeekKey(date), localDate: date, at: now };
}

/**
 * Due when the latest slot has come and no delivery exists for that period or a later one.
 * `latestPeriod` is the greatest period of the subscriber's deliveries with the same frequency (periods of one
 * frequency sort as strings), so a forced send today also covers a not-yet-sent yesterday.
 */
export function dueSlot(prefs: Prefs, now: Date, latestPeriod: string | null): Slot | null {
  const slot = latestSlot(prefs, now);
  if (!slot) return null;
  if (latestPeriod !== null && latestPeriod >= slot.period) return null;
  return slot;
}
