// Owns the trending score: how upvotes, listing pages and age combine into one number (see docs/scoring.md).

/**
 * The formula, in base-2 log units so every term reads as "doublings":
 *
 *   weight = 1 + upvotes + LIST_BONUS × (lists − 1)
 *   score  = log2(weight) − age_days / HALF_LIFE_DAYS
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
} as const;

export type DateSource = 'published' | 'listed' | 'seen';

export interface ScoreInput {
  id: number;
  upvotes: number | null;
  lists: number;
  publishedOn: string | null;
  firstListedOn: string | null;
  firstSeenAt: string;
}

export interface ScoreBreakdown {
  upvotes: number;
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
  const lists = Math.max(1, p.lists);
  const { date, source } = effectiveDate(p);
  const ageDays = daysBetween(date, asOf) + (source === 'seen' ? SCORING.UNDATED_PENALTY_DAYS : 0);
  const weight = 1 + upvotes + listBonus * (lists - 1);
  const popularity = Math.log2(weight);
  const decay = ageDays / halfLife;
  return { upvotes, lists, effectiveDate: date, dateSource: source, ageDays, weight, popularity, decay, score: popularity - decay };
}

/** Trending order: score desc, then the newer date, then the lower id, so equal inputs always give one order. */
export function compareTrending(
  a: { id: number; score: ScoreBreakdown },
  b: { id: number; score: ScoreBreakdown },
): number {
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
