// Owns the trending score: how upvotes, listing pages and age combine into one number (see docs/scoring.md).

/**
 * The formula, in base-2 log units so every term reads as "doublings":
 *
 *   votes  = gained_day + (gained_week − gained_day) × WEEK_SHARE   (papers with upvote snapshots)
 *   votes  = upvotes                                                 (papers without: the total is all that is known)
 *   weight = 1 + votes + LIST_BONUS × (lists − 1)
 *   score  = log2(weight) − age_days / HALF_LIFE_DAYS
 *
 * `gained_day` and `gained_week` are the upvotes gained in the 24 hours and 7 days before the digest (from the
 * snapshots each fetch keeps, see upvote-gains.ts): a paper's votes count in full on the day they are cast, at a
 * seventh for the rest of the week, and not at all after that, so a large total gathered last week does not keep a
 * paper trending. A paper whose votes all came today has votes = its total, as a seed paper does.
 *
 * which orders papers exactly like `weight × 2^(−age/half-life)` (an exponential decay with a half-life)
 * while staying a readable number. A paper needs twice the weight to rank level with one a half-life
 * younger, so a fresh paper with votes beats an old one with the same votes. The `1 +` keeps papers with
 * no votes rankable (they then rank by freshness). `lists` is how many distinct listing pages carry the
 * paper: being picked by several days' pages is a popularity signal of its own.
 */
export const SCORING = {
  HALF_LIFE_DAYS: 7,
  LIST_BONUS: 2,
  /**
   * A paper no page dates (neither publication nor listing date) counts from when paperboy first saw it,
   * plus this many days: on a fresh install every undated paper is "seen today", and without the handicap
   * they would all outrank the papers a page actually listed this week.
   */
  UNDATED_PENALTY_DAYS: 7,
  /** What an upvote gained earlier in the week (not in the last 24 hours) counts for. */
  WEEK_SHARE: 1 / 7,
} as const;

/** Upvotes gained before the digest, from the snapshots; null for a paper no fetch has counted. */
export interface UpvoteGains {
  day: number;
  week: number;
}

export type DateSource = 'published' | 'listed' | 'seen';

export interface ScoreInput {
  id: number;
  upvotes: number | null;
  lists: number;
  publishedOn: string | null;
  firstListedOn: string | null;
  firstSeenAt: string;
  gains?: UpvoteGains | null;
}

export interface ScoreBreakdown {
  /** The paper's total (the most any source showed). */
  upvotes: number;
  /** Gained in the last day and week; null when no snapshot says (the total is used). */
  gains: UpvoteGains | null;
  /** The upvotes the weight counts (see the formula). */
  votes: number;
  lists: number;
  /** The date the age is counted from: publication, else first listing, else when paperboy first saw it. */
  effectiveDate: string;
  dateSource: DateSource;
  /** Days from effectiveDate to the digest date (plus UNDATED_PENALTY_DAYS when the paper is undated). */
  ageDays: number;
  weight: number;
  /** log2(weight): the popularity part. */
  popularity: number;
  /** age / half-life: what time has taken off. */
  decay: number;
  score: number;
}

const DAY_MS = 86_400_000;

/** The date a paper counts from, and where that date came from. */
export function effectiveDate(p: Pick<ScoreInput, 'publishedOn' | 'firstListedOn' | 'firstSeenAt'>): {
  date: string;
  source: DateSource;
} {
  if (p.publishedOn) return { date: p.publishedOn, source: 'published' };
  if (p.firstListedOn) return { date: p.firstListedOn, source: 'listed' };
  return { date: p.firstSeenAt.slice(0, 10), source: 'seen' };
}

/** Whole days from `from` to `to` (both YYYY-MM-DD), never negative. */
export function daysBetween(from: string, to: string): number {
  const d = Math.round((Date.parse(to + 'T00:00:00Z') - Date.parse(from + 'T00:00:00Z')) / DAY_MS);
  return Number.isFinite(d) ? Math.max(0, d) : 0;
}

export function scorePaper(p: ScoreInput, asOf: string, opts: { halfLifeDays?: number; listBonus?: number } = {}): ScoreBreakdown {
  const halfLife = opts.halfLifeDays ?? SCORING.HALF_LIFE_DAYS;
  const listBonus = opts.listBonus ?? SCORING.LIST_BONUS;
  const upvotes = Math.max(0, p.upvotes ?? 0);
  const gains = p.gains ?? null;
  const votes = gains ? gains.day + Math.max(0, gains.week - gains.day) * SCORING.WEEK_SHARE : upvotes;
  const lists = Math.max(1, p.lists);
  const { date, source } = effectiveDate(p);
  const ageDays = daysBetween(date, asOf) + (source === 'seen' ? SCORING.UNDATED_PENALTY_DAYS : 0);
  const weight = 1 + votes + listBonus * (lists - 1);
  const popularity = Math.log2(weight);
  const decay = ageDays / halfLife;
  return { upvotes, gains, votes, lists, effectiveDate: date, dateSource: source, ageDays, weight, popularity, decay, score: popularity - decay };
}

/** Trending order: score desc, then the newer date, then the lower id, so equal inputs always give one order. */
export function compareTrending(a: { id: number; score: ScoreBreakdown }, b: { id: number; score: ScoreBreakdown }): number {
  if (a.score.score !== b.score.score) return b.score.score - a.score.score;
  if (a.score.effectiveDate !== b.score.effectiveDate) return a.score.effectiveDate < b.score.effectiveDate ? 1 : -1;
  return a.id - b.id;
}

/** New order: most recent effective date first (publication, else listing, else first seen), then first seen, then id. */
export function compareNew(
  a: { id: number; score: ScoreBreakdown; firstSeenAt: string },
  b: { id: number; score: ScoreBreakdown; firstSeenAt: string },
): number {
  if (a.score.effectiveDate !== b.score.effectiveDate) return a.score.effectiveDate < b.score.effectiveDate ? 1 : -1;
  if (a.firstSeenAt !== b.firstSeenAt) return a.firstSeenAt < b.firstSeenAt ? 1 : -1;
  return a.id - b.id;
}
