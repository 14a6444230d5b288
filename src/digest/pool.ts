// Owns the candidate pool: every paper scored and ordered ONCE per date, topic matches cached per keyword,
// so selecting for each of many subscribers is an in-memory walk, not a query per subscriber.
import { z } from 'zod';
import type { Store } from '../db/open.js';
import { PaperRow, type Paper } from '../corpus/papers-repo.js';
import { compareNew, compareTrending, scorePaper, type ScoreBreakdown } from './score.js';
import { upvoteGains } from './upvote-gains.js';

export type SectionKind = 'trending' | 'new';

export interface Candidate {
  id: number;
  firstSeenAt: string;
  score: ScoreBreakdown;
}

const CandidateRow = z.object({
  id: z.number().int(),
  upvotes: z.number().int().nullable(),
  published_on: z.string().nullable(),
  first_listed_on: z.string().nullable(),
  first_seen_at: z.string(),
  lists: z.number().int(),
});

/** Topics as people type them: trimmed, inner whitespace collapsed, empty and repeated ones dropped. */
export function normalizeTopics(topics: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of topics) {
    const t = raw.replace(/\s+/g, ' ').trim().slice(0, 100);
    if (!/[\p{L}\p{N}]/u.test(t) || seen.has(t.toLowerCase())) continue;
    seen.add(t.toLowerCase());
    out.push(t);
  }
  return out;
}

/**
 * A keyword as an FTS5 MATCH expression: the whole keyword one quoted phrase (inner quotes doubled), so
 * nothing a person types (AND, NEAR, *, :, parentheses, column filters) is read as FTS syntax.
 */
export function ftsPhrase(topic: string): string {
  return '"' + topic.replace(/"/g, '""') + '"';
}

const TOPIC_CACHE_MAX = 5_000;
const PAPER_CACHE_MAX = 20_000;

export class CandidatePool {
  readonly trending: Candidate[];
  readonly newest: Candidate[];
  readonly byId = new Map<number, Candidate>();
  private readonly rank: Record<SectionKind, Map<number, number>>;
  private readonly topicCache = new Map<string, Set<number>>();
  private readonly orderedTopicCache = new Map<string, number[]>();
  private readonly papers = new Map<number, Paper>();

  constructor(
    private readonly store: Store,
    /** The digest date (YYYY-MM-DD): papers dated after it are not candidates, ages are counted to it. */
    readonly date: string,
    readonly builtAt: number,
  ) {
    const all: Candidate[] = [];
    // Votes gained up to the end of the digest's day, or up to now for today's (a past day's page stays as it was).
    const gains = upvoteGains(store, new Date(Math.min(builtAt, Date.parse(date + 'T00:00:00Z') + 86_400_000)));
    for (const raw of store.q('digest-candidates').all()) {
      const r = CandidateRow.parse(raw);
      const score = scorePaper(
        {
          id: r.id,
          upvotes: r.upvotes,
          lists: r.lists,
          publishedOn: r.published_on,
          firstListedOn: r.first_listed_on,
          firstSeenAt: r.first_seen_at,
          gains: gains.get(r.id) ?? null,
        },
        date,
      );
      // A paper from after the digest date was not news on that day (keeps /digest/:date stable).
      if (score.effectiveDate > date) continue;
      const c = { id: r.id, firstSeenAt: r.first_seen_at, score };
      all.push(c);
      this.byId.set(c.id, c);
    }
    this.trending = [...all].sort(compareTrending);
    this.newest = [...all].sort(compareNew);
    this.rank = {
      trending: new Map(this.trending.map((c, i) => [c.id, i])),
      new: new Map(this.newest.map((c, i) => [c.id, i])),
    };
  }

  get size(): number {
    return this.trending.length;
  }

  ordered(kind: SectionKind): Candidate[] {
    return kind === 'trending' ? this.trending : this.newest;
  }

  /** Ids of candidates matching one topic, one FTS5 query per distinct topic per pool. */
  matches(topic: string): Set<number> {
    const key = topic.toLowerCase();
    let hit = this.topicCache.get(key);
    if (!hit) {
      hit = new Set<number>();
      let rows: { id: number }[] = [];
      try {
        rows = this.store.q('digest-topic-matches').all(ftsPhrase(topic));
      } catch {
        // A phrase FTS5 still refuses matches nothing: one odd keyword must not fail a subscriber's digest.
      }
      for (const row of rows) if (this.byId.has(row.id)) hit.add(row.id);
      if (this.topicCache.size >= TOPIC_CACHE_MAX) this.topicCache.clear();
      this.topicCache.set(key, hit);
    }
    return hit;
  }

  /** Candidates matching any of `topics`, in the section's order (cached per kind and topic set). */
  orderedMatches(kind: SectionKind, topics: readonly string[]): number[] {
    const key =
      kind +
      '\n' +
      topics
        .map((t) => t.toLowerCase())
        .sort()
        .join('\n');
    let ids = this.orderedTopicCache.get(key);
    if (!ids) {
      const union = new Set<number>();
      for (const t of topics) for (const id of this.matches(t)) union.add(id);
      const rank = this.rank[kind];
      ids = [...union].sort((a, b) => rank.get(a)! - rank.get(b)!);
      if (this.orderedTopicCache.size >= TOPIC_CACHE_MAX) this.orderedTopicCache.clear();
      this.orderedTopicCache.set(key, ids);
    }
    return ids;
  }

  /** The full paper (abstract, links), read once per pool for the papers digests actually show. */
  paper(id: number): Paper {
    let p = this.papers.get(id);
    if (!p) {
      const row = this.store.q('digest-paper-by-id').get(id);
      if (!row) throw new Error(`paper ${id} vanished from the corpus`);
      p = PaperRow.parse(row);
      if (this.papers.size >= PAPER_CACHE_MAX) this.papers.clear();
      this.papers.set(id, p);
    }
    return p;
  }
}
