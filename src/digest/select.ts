// Owns choosing what goes into one subscriber's digest: trending/new/both, topics first, nothing sent twice,
// at most their size, and a reason instead of an empty digest.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Paper } from '../corpus/papers-repo.js';
import { daysBetween, type ScoreBreakdown } from './score.js';
import { CandidatePool, normalizeTopics, type Candidate, type SectionKind } from './pool.js';

export const DigestKind = z.enum(['trending', 'new', 'both']);
export type DigestKind = z.infer<typeof DigestKind>;

export const EmptyReason = z.enum(['empty-corpus', 'all-sent']);
export type EmptyReason = z.infer<typeof EmptyReason>;

/** What a person (or the ledger's skip_reason) reads when there is nothing to send. */
export const EMPTY_MESSAGES: Record<EmptyReason, (date: string) => string> = {
  'empty-corpus': (date) => `no papers in the corpus on or before ${date}`,
  'all-sent': (date) => `every paper on or before ${date} has already been sent to this subscriber`,
};

export const SECTION_TITLES: Record<SectionKind, string> = { trending: 'Trending', new: 'New' };

export interface SelectedPaper {
  paper: Paper;
  /** 1-based position in the whole digest. */
  rank: number;
  score: ScoreBreakdown;
  matchedTopics: string[];
  /** Short reason it is here: "matches: diffusion · 3 upvotes, on 2 lists, published 4 days ago". */
  why: string;
}

export interface Section {
  kind: SectionKind;
  title: string;
  items: SelectedPaper[];
}

export type Frequency = 'daily' | 'weekly';

export interface Selection {
  /** Same key = same rendered digest: callers render once per distinct key. */
  key: string;
  kind: DigestKind;
  /** Only changes wording ("This week's top papers"). */
  frequency: Frequency;
  date: string;
  topics: string[];
  sections: Section[];
  paperIds: number[];
  count: number;
}

export type SelectionResult = { status: 'selected'; selection: Selection } | { status: 'empty'; reason: EmptyReason; message: string };

export interface DigestRequest {
  kind: DigestKind;
  size: number;
  topics?: readonly string[];
  /** Papers never to include (what the subscriber was already sent). */
  exclude?: ReadonlySet<number>;
  frequency?: Frequency;
}

/** The subscriber columns selection needs (rows from `subscribers` fit as they are). */
export interface SubscriberPrefs {
  id: number;
  kind: DigestKind;
  /** JSON text as stored, or already parsed. */
  topics: string | readonly string[];
  digest_size: number;
  /** 'weekly' words the digest as the week's; anything else reads as daily. */
  frequency?: string;
}

const TopicsJson = z.array(z.string());

export function parseTopics(topics: string | readonly string[]): string[] {
  if (typeof topics !== 'string') return normalizeTopics(topics);
  try {
    return normalizeTopics(TopicsJson.parse(JSON.parse(topics)));
  } catch {
    return [];
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2020-09-07` -> `Sep 7, 2020`. */
export function formatDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${MONTHS[(m ?? 1) - 1]} ${d}, ${y}`;
}

function ago(days: number, date: string): string {
  if (days === 0) return 'today';
  if (days === 1) return 'yesterday';
  if (days <= 30) return `${days} days ago`;
  return `on ${formatDate(date)}`;
}

const plural = (n: number, one: string, many = one + 's') => `${n} ${n === 1 ? one : many}`;

/** "12 upvotes today (40 in all)", "5 upvotes this week (40 in all)", or the total when no fetch counted them. */
function votesPhrase(s: ScoreBreakdown): string {
  if (!s.gains) return s.upvotes > 0 ? plural(s.upvotes, 'upvote') : 'no upvotes yet';
  if (s.upvotes === 0) return 'no upvotes yet';
  const all = (n: number) => (n === s.upvotes ? '' : ` (${s.upvotes} in all)`);
  if (s.gains.day > 0) return `${plural(s.gains.day, 'upvote')} today${all(s.gains.day)}`;
  if (s.gains.week > 0) return `${plural(s.gains.week, 'upvote')} this week${all(s.gains.week)}`;
  return `no upvotes this week (${s.upvotes} in all)`;
}

/** "3 upvotes, on 2 lists, published 4 days ago" (trending) or "published yesterday, on 1 list" (new). */
export function describeWhy(kind: SectionKind, s: ScoreBreakdown, matched: readonly string[], date: string): string {
  const days = daysBetween(s.effectiveDate, date);
  const when = `${s.dateSource === 'published' ? 'published' : s.dateSource === 'listed' ? 'listed' : 'added'} ${ago(days, s.effectiveDate)}`;
  const lists = `on ${plural(s.lists, 'list')}`;
  const parts = kind === 'trending' ? [votesPhrase(s), lists, when] : [when, ...(s.upvotes > 0 ? [votesPhrase(s)] : []), lists];
  const base = parts.join(', ');
  return matched.length ? `matches: ${matched.join(', ')} · ${base}` : base;
}

export function selectionKey(kind: DigestKind, frequency: Frequency, date: string, sections: Section[]): string {
  const shape = [kind, frequency, date, sections.map((s) => [s.kind, s.items.map((i) => [i.paper.id, i.matchedTopics])])];
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 32);
}

/** A real calendar day written YYYY-MM-DD (2026-02-30 and 2026-13-01 are not). */
export function isIsoDay(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(s + 'T00:00:00Z');
  return !Number.isNaN(t) && new Date(t).toISOString().startsWith(s);
}

export function todayUtc(clock: Clock): string {
  return clock.now().toISOString().slice(0, 10);
}

export interface SelectorOptions {
  store: Store;
  clock: Clock;
  /** Rebuild a date's pool after this long (the web archive sees new ingests); delivery runs keep one pool. */
  poolMaxAgeMs?: number;
}

export function createSelector(opts: SelectorOptions) {
  const { store, clock } = opts;
  const maxAge = opts.poolMaxAgeMs ?? Number.POSITIVE_INFINITY;
  const pools = new Map<string, CandidatePool>();

  function pool(date: string): CandidatePool {
    const now = clock.now().getTime();
    let p = pools.get(date);
    if (!p || now - p.builtAt > maxAge) {
      p = new CandidatePool(store, date, now);
      // A few dates at most (an edition spans at most the time zones' dates): keep memory flat.
      if (pools.size >= 8) pools.delete(pools.keys().next().value!);
      pools.set(date, p);
    }
    return p;
  }

  /** Walks the section's order: topic matches first, then the rest, skipping excluded and already chosen. */
  function take(p: CandidatePool, kind: SectionKind, n: number, topics: string[], skip: ReadonlySet<number>, chosen: Set<number>): Candidate[] {
    const out: Candidate[] = [];
    if (n <= 0) return out;
    if (topics.length) {
      for (const id of p.orderedMatches(kind, topics)) {
        if (out.length >= n) return out;
        if (skip.has(id) || chosen.has(id)) continue;
        chosen.add(id);
        out.push(p.byId.get(id)!);
      }
    }
    for (const c of p.ordered(kind)) {
      if (out.length >= n) break;
      if (skip.has(c.id) || chosen.has(c.id)) continue;
      chosen.add(c.id);
      out.push(c);
    }
    return out;
  }

  function select(req: DigestRequest, date: string = todayUtc(clock)): SelectionResult {
    const p = pool(date);
    const topics = normalizeTopics(req.topics ?? []);
    const skip = req.exclude ?? new Set<number>();
    const size = Math.max(1, Math.floor(req.size));
    const chosen = new Set<number>();
    let groups: [SectionKind, Candidate[]][];
    if (req.kind === 'both') {
      // Half trending (rounded up), the rest new; a short section's room goes back to trending.
      const trending = take(p, 'trending', Math.ceil(size / 2), topics, skip, chosen);
      const fresh = take(p, 'new', size - trending.length, topics, skip, chosen);
      trending.push(...take(p, 'trending', size - trending.length - fresh.length, topics, skip, chosen));
      groups = [
        ['trending', trending],
        ['new', fresh],
      ];
    } else {
      groups = [[req.kind, take(p, req.kind, size, topics, skip, chosen)]];
    }
    groups = groups.filter(([, items]) => items.length > 0);
    if (groups.length === 0) {
      const reason: EmptyReason = p.size === 0 ? 'empty-corpus' : 'all-sent';
      return { status: 'empty', reason, message: EMPTY_MESSAGES[reason](date) };
    }
    let rank = 0;
    const sections: Section[] = groups.map(([kind, items]) => ({
      kind,
      title: SECTION_TITLES[kind],
      items: items.map((c) => {
        const matchedTopics = topics.filter((t) => p.matches(t).has(c.id));
        return { paper: p.paper(c.id), rank: ++rank, score: c.score, matchedTopics, why: describeWhy(kind, c.score, matchedTopics, date) };
      }),
    }));
    const paperIds = sections.flatMap((s) => s.items.map((i) => i.paper.id));
    const frequency = req.frequency ?? 'daily';
    return {
      status: 'selected',
      selection: {
        key: selectionKey(req.kind, frequency, date, sections),
        kind: req.kind,
        frequency,
        date,
        topics,
        sections,
        paperIds,
        count: paperIds.length,
      },
    };
  }

  /** Paper ids already sent to a subscriber: one read on the sent_papers primary key. */
  function sentPaperIds(subscriberId: number): Set<number> {
    const rows = store.q('digest-sent-paper-ids').all(subscriberId);
    return new Set(rows.map((r) => r.paper_id));
  }

  /** One subscriber's digest for `date` (their local date; today in UTC when omitted). */
  function selectForSubscriber(sub: SubscriberPrefs, date?: string, opts: { kind?: DigestKind } = {}): SelectionResult {
    return select(
      {
        kind: opts.kind ?? sub.kind,
        size: sub.digest_size,
        topics: parseTopics(sub.topics),
        exclude: sentPaperIds(sub.id),
        frequency: sub.frequency === 'weekly' ? 'weekly' : 'daily',
      },
      date,
    );
  }

  return { select, selectForSubscriber, sentPaperIds, pool };
}
export type Selector = ReturnType<typeof createSelector>;
