// Owns reading the upvote snapshots into what each paper gained in the day and the week before a given time.
import type { Store } from '../db/open.js';
import type { UpvoteGains } from './score.js';

const DAY_MS = 86_400_000;

/**
 * Gains before `at` for every paper with a snapshot taken by then. A paper's first snapshot holds what it had
 * gathered before paperboy first counted it; those votes are placed on its listing (else publication) day when that
 * is earlier: a paper first fetched the day it is listed gained them that day, one first fetched a week after its
 * listing (a `--since` backfill) gained them back then, and counts as stale, not as trending.
 */
export function upvoteGains(store: Store, at: Date): Map<number, UpvoteGains> {
  const t = at.toISOString();
  const dayAgo = new Date(at.getTime() - DAY_MS).toISOString();
  const weekAgo = new Date(at.getTime() - 7 * DAY_MS).toISOString();
  const out = new Map<number, UpvoteGains>();
  for (const r of store.q('digest-upvote-windows').iterate({ t, day: dayAgo, week: weekAgo })) {
    const anchorDay = r.first_listed_on ?? r.published_on;
    const anchor = anchorDay && anchorDay + 'T00:00:00.000Z' < r.first_at ? anchorDay + 'T00:00:00.000Z' : r.first_at;
    // Before the first snapshot: the first count from its anchor on, nothing before.
    const valueAt = (v: number | null, when: string) => v ?? (when >= anchor ? r.first_v : 0);
    out.set(r.id, {
      day: Math.max(0, r.now_v - valueAt(r.day_v, dayAgo)),
      week: Math.max(0, r.now_v - valueAt(r.week_v, weekAgo)),
    });
  }
  return out;
}
