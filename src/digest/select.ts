// Owns choosing what goes into one subscriber's digest: trending/new/both, the community trend blended with the
// reader's relevance by their knob, muted/followed/code/threshold rules, nothing sent twice, at most their size, a
// plain reason per paper, and a reason instead of an empty digest.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Store } from '../db/open.js';
import type { Clock } from '../clock.js';
import type { Paper } from '../corpus/papers-repo.js';
import { daysBetween, type ScoreBreakdown } from './score.js';
import { CandidatePool, normalizeTopics, type Candidate, type SectionKind } from './pool.js';
import { createRelevance, probability, type ReaderProfile, type Relevance, type SelectionMode } from '../learn/relevance.js';
import { cosine, type CorpusVectors } from '../learn/vectors.js';
import type { StoredModel } from '../learn/model-codec.js';
import { normalizeAuthor } from '../learn/text.js';

export const DigestKind = z.enum(['trending', 'new', 'both']);
export type DigestKind = z.infer<typeof DigestKind>;

export const EmptyReason = z.enum(['empty-corpus', 'all-sent', 'filtered', 'below-bar']);
export type EmptyReason = z.infer<typeof EmptyReason>;

/** What a person (or the ledger's skip_reason) reads when there is nothing to send. */
export const EMPTY_MESSAGES: Record<EmptyReason, (date: string) => string> = {
  'empty-corpus': (date) => `no papers in the corpus on or before ${date}`,
  'all-sent': (date) => `every paper on or before ${date} has already been sent to this subscriber`,
  filtered: (date) => `every paper on or before ${date} not yet sent matches a muted topic or has no code link`,
  'below-bar': (date) => `no paper on or before ${date} reached this subscriber's relevance bar (threshold mode)`,
};

export const SECTION_TITLES: Record<SectionKind, string> = { trending: 'Trending', new: 'New' };

export interface SelectedPaper {
  paper: Paper;
  /** 1-based position in the whole digest. */
  rank: number;
  score: ScoreBreakdown;
  matchedTopics: string[];
  /**
   * Short reason it is here, in plain words: "new paper by Ada Lovelace (followed)", "because you liked "<title>"",
   * "matches: diffusion", then the trend ("+35 upvotes today, on 1 list, published yesterday").
   */
  why: string;
  /** The reader model's probability of "more like this" (0..1); null without a model. */
  relevance: number | null;
  /** The followed author this paper is here for, when it is. */
  followedAuthor: string | null;
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
  /** Never sent: papers matching any of these (FTS5, like topics). */
  muted?: readonly string[];
  /** Author names whose papers of the last FOLLOWED_NEW_DAYS always make the digest. */
  followed?: readonly string[];
  onlyWithCode?: boolean;
  mode?: SelectionMode;
  /** Threshold mode: the model probability, in percent, a paper needs. */
  relevanceBar?: number;
  /** 0 = only relevance, 100 = only the community trend; 50 when not given (the column default). */
  trendWeight?: number;
  /** The reader's stored model (null: cold start from topics). */
  model?: StoredModel | null;
  /** Liked paper ids, newest first ("because you liked"). */
  liked?: readonly number[];
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
  /** The issue 16 columns: when absent (delivery's light rows), they are read with the reader's model. */
  muted_topics?: string | readonly string[];
  followed_authors?: string | readonly string[];
  only_with_code?: number | boolean;
  selection_mode?: string;
  relevance_bar?: number;
  trend_weight?: number;
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

/** "+12 upvotes today (40 in all)", "5 upvotes this week (40 in all)", or the total when no fetch counted them. */
function votesPhrase(s: ScoreBreakdown): string {
  if (!s.gains) return s.upvotes > 0 ? plural(s.upvotes, 'upvote') : 'no upvotes yet';
  if (s.upvotes === 0) return 'no upvotes yet';
  const all = (n: number) => (n === s.upvotes ? '' : ` (${s.upvotes} in all)`);
  if (s.gains.day > 0) return `+${plural(s.gains.day, 'upvote')} today${all(s.gains.day)}`;
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
  // The reason is part of what is rendered, and differs between readers of the same papers ("because you liked").
  const shape = [kind, frequency, date, sections.map((s) => [s.kind, s.items.map((i) => [i.paper.id, i.matchedTopics, i.why])])];
  return createHash('sha256').update(JSON.stringify(shape)).digest('hex').slice(0, 32);
}

/**
 * The selection's first `k` papers in rank order (later sections lose theirs first, empty ones go): what a digest
 * keeps when its cards cannot all fit the email's size budget whatever the excerpts.
 */
export function firstPapers(sel: Selection, k: number): Selection {
  let left = Math.max(1, k);
  const sections = sel.sections
    .map((s) => {
      const items = s.items.slice(0, left);
      left -= items.length;
      return { ...s, items };
    })
    .filter((s) => s.items.length > 0);
  const paperIds = sections.flatMap((s) => s.items.map((i) => i.paper.id));
  return { ...sel, sections, paperIds, count: paperIds.length, key: selectionKey(sel.kind, sel.frequency, sel.date, sections) };
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

export const RANKING = {
  /**
   * Per section, a reader with a relevance signal is ranked over this many candidates of the section's own order
   * (trending, or newest) that they may get. It bounds the per-reader cost (one sparse dot product each, 64
   * multiply-adds). It must reach past what a reader has already been sent: at 500, a reader of two areas had read
   * the relevant papers of the top 500 by day 20 and the bench's learned precision fell from 0.8 to 0.55; at 2,000 it stays near 0.9.
   */
  WINDOW: 2000,
  /** A followed author's paper counts as new this many days after its date. */
  FOLLOWED_NEW_DAYS: 7,
  /** "Because you liked X" names X only when the two papers' TF-IDF cosine reaches this. */
  LIKED_MIN_SIMILARITY: 0.1,
  /** Liked papers compared per shown paper (the newest). */
  LIKED_COMPARED: 50,
} as const;

export interface SelectorOptions {
  store: Store;
  clock: Clock;
  /** Rebuild a date's pool after this long (the web archive sees new ingests); delivery runs keep one pool. */
  poolMaxAgeMs?: number;
  /** The reader models (read only here; refits are its queue's business). Made from the store when not passed. */
  relevance?: Relevance;
}

/** What one request's ranking works from, prepared once per selection. */
interface RankContext {
  p: CandidatePool;
  date: string;
  topics: string[];
  skip: ReadonlySet<number>;
  chosen: Set<number>;
  muted: Set<number>;
  onlyWithCode: boolean;
  vectors: CorpusVectors | null;
  model: StoredModel | null;
  /** 0..1 share of the trend in the blend. */
  trend: number;
  threshold: number | null;
  relevance: Relevance;
  /** What the walk saw, for the empty reason. */
  sawUnsent: boolean;
  sawEligible: boolean;
  logit: Map<number, number>;
}

interface Picked {
  c: Candidate;
  kind: SectionKind;
  followedAuthor: string | null;
}

const mean = (xs: Float64Array) => {
  let s = 0;
  for (const x of xs) s += x;
  return xs.length ? s / xs.length : 0;
};
function zScores(xs: Float64Array): Float64Array {
  const m = mean(xs);
  let v = 0;
  for (let i = 0; i < xs.length; i++) v += (xs[i]! - m) * (xs[i]! - m);
  const sd = Math.sqrt(v / Math.max(1, xs.length));
  const out = new Float64Array(xs.length);
  if (sd > 1e-12) for (let i = 0; i < xs.length; i++) out[i] = (xs[i]! - m) / sd;
  return out;
}

/**
 * The indices of the `n` highest `blended` values among those that pass, highest first, equal values in index order:
 * what a stable sort by blend would put first, without sorting the whole window for every reader (the window holds up
 * to RANKING.WINDOW papers; a digest takes about ten).
 */
export function topByBlend(blended: Float64Array, n: number, passes: (i: number) => boolean): number[] {
  const top: number[] = [];
  for (let i = 0; i < blended.length; i++) {
    const b = blended[i]!;
    // Not above the n-th kept: an equal one came later, so it ranks after it.
    if (top.length >= n && !(b > blended[top[top.length - 1]!]!)) continue;
    if (!passes(i)) continue;
    let k = top.length;
    while (k > 0 && b > blended[top[k - 1]!]!) k--;
    top.splice(k, 0, i);
    if (top.length > n) top.pop();
  }
  return top;
}

function shortTitle(t: string): string {
  return t.length <= 90 ? t : t.slice(0, 88).trimEnd() + '…';
}

export function createSelector(opts: SelectorOptions) {
  const { store, clock } = opts;
  const maxAge = opts.poolMaxAgeMs ?? Number.POSITIVE_INFINITY;
  const relevance = opts.relevance ?? createRelevance({ store, clock });
  const pools = new Map<string, CandidatePool>();
  const poolVectors = new WeakMap<CandidatePool, CorpusVectors>();

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

  /** The corpus vectors as of this pool (read once per pool, so a pool's rankings agree with each other). */
  function vectorsFor(p: CandidatePool): CorpusVectors {
    let v = poolVectors.get(p);
    if (!v) {
      v = relevance.vectors();
      poolVectors.set(p, v);
    }
    return v;
  }

  function eligible(ctx: RankContext, id: number): boolean {
    if (ctx.skip.has(id) || ctx.chosen.has(id)) return false;
    ctx.sawUnsent = true;
    if (ctx.muted.has(id) || (ctx.onlyWithCode && !ctx.vectors!.withCode.has(id))) return false;
    ctx.sawEligible = true;
    return true;
  }

  const matchCount = (ctx: RankContext, id: number) => {
    let n = 0;
    for (const t of ctx.topics) if (ctx.p.matches(t).has(id)) n++;
    return n;
  };

  /**
   * One section's papers: a window of its own order, each blended as
   *   trend × z(trend score) + (1 − trend) × z(relevance)
   * with z-scores over the window (docs/scoring.md). Relevance is the model's logit, or the count of typed topics a
   * paper matches before any feedback (the cold start). No relevance at all keeps the section's own order.
   */
  function rank(ctx: RankContext, kind: SectionKind, n: number): Picked[] {
    if (n <= 0) return [];
    const hasSignal = ctx.model !== null || ctx.topics.length > 0;
    // Without relevance the section's own order stands: the walk stops as soon as the digest is full (the common case).
    const limit = hasSignal && (ctx.trend < 1 || ctx.threshold !== null) ? RANKING.WINDOW : ctx.threshold !== null ? 1 : n;
    const window: Candidate[] = [];
    for (const c of ctx.p.ordered(kind)) {
      if (window.length >= limit) break;
      if (eligible(ctx, c.id)) window.push(c);
    }
    const rel = new Float64Array(window.length);
    if (ctx.model) {
      const l = ctx.relevance.logits(
        ctx.model,
        ctx.vectors!,
        window.map((c) => c.id),
      );
      window.forEach((c, i) => {
        ctx.logit.set(c.id, l[i]!);
      });
      rel.set(l);
    } else if (ctx.topics.length) {
      window.forEach((c, i) => {
        rel[i] = matchCount(ctx, c.id);
      });
    }
    const passes = (i: number) => ctx.threshold === null || (ctx.model ? probability(rel[i]!) : rel[i]! > 0 ? 1 : 0) >= ctx.threshold;
    let order: Iterable<number>;
    if (hasSignal && ctx.trend < 1) {
      const trend = new Float64Array(window.length);
      for (let i = 0; i < window.length; i++) trend[i] = kind === 'trending' ? window[i]!.score.score : -window[i]!.score.ageDays;
      const zt = zScores(trend);
      const zr = zScores(rel);
      const blended = zt;
      for (let i = 0; i < blended.length; i++) blended[i] = ctx.trend * zt[i]! + (1 - ctx.trend) * zr[i]!;
      order = topByBlend(blended, n, passes);
    } else order = window.keys();
    const out: Picked[] = [];
    for (const i of order) {
      if (out.length >= n) break;
      if (!passes(i)) continue;
      const c = window[i]!;
      ctx.chosen.add(c.id);
      out.push({ c, kind, followedAuthor: null });
    }
    return out;
  }

  /** A followed author's papers from the last FOLLOWED_NEW_DAYS: always in, newest first (muted and code rules still apply). */
  function followedPapers(ctx: RankContext, followed: readonly string[], kind: SectionKind, max: number): Picked[] {
    if (!followed.length || max <= 0) return [];
    const v = ctx.vectors!;
    const found: Picked[] = [];
    for (const name of followed) {
      for (const id of v.byAuthor.get(normalizeAuthor(name)) ?? []) {
        const c = ctx.p.byId.get(id);
        if (!c || daysBetween(c.score.effectiveDate, ctx.date) > RANKING.FOLLOWED_NEW_DAYS || !eligible(ctx, id)) continue;
        const author = v.authors.get(id)?.find((a) => normalizeAuthor(a) === normalizeAuthor(name)) ?? name;
        ctx.chosen.add(id);
        found.push({ c, kind, followedAuthor: author });
      }
    }
    found.sort((a, b) => (a.c.score.effectiveDate < b.c.score.effectiveDate ? 1 : a.c.score.effectiveDate > b.c.score.effectiveDate ? -1 : a.c.id - b.c.id));
    for (const f of found.slice(max)) ctx.chosen.delete(f.c.id);
    return found.slice(0, max);
  }

  function because(ctx: RankContext, id: number, liked: readonly number[]): string | null {
    if (!ctx.model || !liked.length) return null;
    const v = ctx.vectors!;
    const x = v.vectors.get(id);
    if (!x) return null;
    let best: number = RANKING.LIKED_MIN_SIMILARITY;
    let title: string | null = null;
    for (const l of liked.slice(0, RANKING.LIKED_COMPARED)) {
      if (l === id) continue;
      const y = v.vectors.get(l);
      if (!y) continue;
      const s = cosine(x, y);
      if (s >= best) {
        best = s;
        title = v.titles.get(l) ?? null;
      }
    }
    return title ? `because you liked "${shortTitle(title)}"` : null;
  }

  function select(req: DigestRequest, date: string = todayUtc(clock)): SelectionResult {
    const p = pool(date);
    const topics = normalizeTopics(req.topics ?? []);
    const muted = normalizeTopics(req.muted ?? []);
    const followed = normalizeTopics(req.followed ?? []);
    const size = Math.max(1, Math.floor(req.size));
    const model = req.model ?? null;
    const needVectors = model !== null || followed.length > 0 || req.onlyWithCode === true;
    const mutedIds = new Set<number>();
    for (const t of muted) for (const id of p.matches(t)) mutedIds.add(id);
    const ctx: RankContext = {
      p,
      date,
      topics,
      skip: req.exclude ?? new Set<number>(),
      chosen: new Set<number>(),
      muted: mutedIds,
      onlyWithCode: req.onlyWithCode === true,
      vectors: needVectors ? vectorsFor(p) : null,
      model,
      trend: Math.max(0, Math.min(100, req.trendWeight ?? 50)) / 100,
      threshold: req.mode === 'threshold' ? Math.max(0, Math.min(100, req.relevanceBar ?? 60)) / 100 : null,
      relevance,
      sawUnsent: false,
      sawEligible: false,
      logit: new Map(),
    };
    let groups: [SectionKind, Picked[]][];
    if (req.kind === 'both') {
      // Half trending (rounded up), the rest new; a short section's room goes back to trending.
      const pinned = followedPapers(ctx, followed, 'trending', size);
      const trending = [...pinned, ...rank(ctx, 'trending', Math.ceil(size / 2) - pinned.length)];
      const fresh = rank(ctx, 'new', size - trending.length);
      trending.push(...rank(ctx, 'trending', size - trending.length - fresh.length));
      groups = [
        ['trending', trending],
        ['new', fresh],
      ];
    } else {
      const pinned = followedPapers(ctx, followed, req.kind, size);
      groups = [[req.kind, [...pinned, ...rank(ctx, req.kind, size - pinned.length)]]];
    }
    groups = groups.filter(([, items]) => items.length > 0);
    if (groups.length === 0) {
      const reason: EmptyReason =
        p.size === 0 ? 'empty-corpus' : !ctx.sawUnsent ? 'all-sent' : !ctx.sawEligible ? 'filtered' : ctx.threshold !== null ? 'below-bar' : 'all-sent';
      return { status: 'empty', reason, message: EMPTY_MESSAGES[reason](date) };
    }
    let rank_ = 0;
    const liked = req.liked ?? [];
    const sections: Section[] = groups.map(([kind, items]) => ({
      kind,
      title: SECTION_TITLES[kind],
      items: items.map(({ c, followedAuthor }) => {
        const matchedTopics = topics.filter((t) => p.matches(t).has(c.id));
        const personal: string[] = [];
        if (followedAuthor) personal.push(`new paper by ${followedAuthor} (followed)`);
        const liking = because(ctx, c.id, liked);
        if (liking) personal.push(liking);
        const logit = model ? (ctx.logit.get(c.id) ?? relevance.logits(model, ctx.vectors!, [c.id])[0]!) : null;
        const trendWhy = describeWhy(kind, c.score, matchedTopics, date);
        return {
          paper: p.paper(c.id),
          rank: ++rank_,
          score: c.score,
          matchedTopics,
          why: [...personal, trendWhy].join(' · '),
          relevance: logit === null ? null : probability(logit),
          followedAuthor,
        };
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

  /** The reader's choices and model: one indexed read; a column the caller's row carries wins (a preview of unsaved choices). */
  function profileFor(sub: SubscriberPrefs): ReaderProfile {
    const stored = relevance.reader(sub.id);
    const list = (v: string | readonly string[] | undefined, fallback: string[]) => (v === undefined ? fallback : parseTopics(v));
    return {
      topics: parseTopics(sub.topics),
      muted: list(sub.muted_topics, stored?.muted ?? []),
      followed: list(sub.followed_authors, stored?.followed ?? []),
      onlyWithCode: sub.only_with_code === undefined ? (stored?.onlyWithCode ?? false) : sub.only_with_code === true || sub.only_with_code === 1,
      mode: sub.selection_mode === 'threshold' || sub.selection_mode === 'top' ? sub.selection_mode : (stored?.mode ?? 'top'),
      relevanceBar: sub.relevance_bar ?? stored?.relevanceBar ?? 60,
      trendWeight: sub.trend_weight ?? stored?.trendWeight ?? 50,
      model: stored?.model ?? null,
      liked: stored?.liked ?? [],
    };
  }

  /** One subscriber's digest for `date` (their local date; today in UTC when omitted). */
  function selectForSubscriber(sub: SubscriberPrefs, date?: string, opts: { kind?: DigestKind } = {}): SelectionResult {
    const r = profileFor(sub);
    return select(
      {
        kind: opts.kind ?? sub.kind,
        size: sub.digest_size,
        topics: r.topics,
        exclude: sentPaperIds(sub.id),
        frequency: sub.frequency === 'weekly' ? 'weekly' : 'daily',
        muted: r.muted,
        followed: r.followed,
        onlyWithCode: r.onlyWithCode,
        mode: r.mode,
        relevanceBar: r.relevanceBar,
        trendWeight: r.trendWeight,
        model: r.model,
        liked: r.liked,
      },
      date,
    );
  }

  return { select, selectForSubscriber, sentPaperIds, pool, relevance };
}
export type Selector = ReturnType<typeof createSelector>;
