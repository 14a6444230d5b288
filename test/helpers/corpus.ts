// Builds a small corpus straight into the papers tables, for digest tests that need exact scores and dates.
import type { Store } from '../../src/db/open.js';

export interface TestPaper {
  title: string;
  abstract?: string;
  authors?: number | null;
  publishedOn?: string | null;
  upvotes?: number | null;
  firstListedOn?: string | null;
  links?: { url: string; kind: 'code' | 'project' }[];
  firstSeenAt?: string;
  /** Listing pages carrying the paper (distinct files). */
  lists?: number;
}

let seq = 0;

export function addPaper(store: Store, p: TestPaper): number {
  const now = p.firstSeenAt ?? '2026-01-01T00:00:00.000Z';
  const r = store.db
    .prepare(
      `INSERT INTO papers (title_key, title, abstract, authors, published_on, upvotes, first_listed_on, links, first_seen_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      `${p.title.toLowerCase()} ${++seq}`,
      p.title,
      p.abstract ?? `We study ${p.title}. It works well. Results are strong. More details follow here.`,
      p.authors ?? null,
      p.publishedOn ?? null,
      p.upvotes ?? null,
      p.firstListedOn ?? null,
      JSON.stringify(p.links ?? []),
      now,
      now,
    );
  const id = Number(r.lastInsertRowid);
  for (let i = 0; i < (p.lists ?? 1); i++) {
    store.db
      .prepare('INSERT INTO paper_sources (paper_id, file, line, position, listed_on) VALUES (?, ?, ?, ?, ?)')
      .run(id, `page-${id}-${i}.txt`, 10, 1, p.firstListedOn ?? null);
  }
  return id;
}

let subSeq = 0;

export function addSubscriber(
  store: Store,
  s: { email?: string; kind?: 'trending' | 'new' | 'both'; topics?: string[]; digestSize?: number; status?: string } = {},
): number {
  const now = '2026-01-01T00:00:00.000Z';
  const r = store.db
    .prepare(
      `INSERT INTO subscribers (email, status, kind, topics, digest_size, created_at, updated_at, confirmed_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      s.email ?? `reader${++subSeq}@example.org`,
      s.status ?? 'active',
      s.kind ?? 'trending',
      JSON.stringify(s.topics ?? []),
      s.digestSize ?? 10,
      now,
      now,
      now,
    );
  return Number(r.lastInsertRowid);
}

/** Records papers as sent to a subscriber the way delivery does (edition, delivery, sent_papers). */
export function recordSent(store: Store, subscriberId: number, paperIds: number[], localDate: string): void {
  const now = '2026-01-01T00:00:00.000Z';
  store.db.prepare(`INSERT OR IGNORE INTO editions (kind, frequency, local_date, created_at) VALUES ('trending', 'daily', ?, ?)`).run(localDate, now);
  const edition = store.db.prepare(`SELECT id FROM editions WHERE kind = 'trending' AND frequency = 'daily' AND local_date = ?`).get(localDate) as {
    id: number;
  };
  const d = store.db
    .prepare(
      `INSERT INTO deliveries (edition_id, subscriber_id, frequency, period, paper_ids, status, created_at, updated_at)
       VALUES (?, ?, 'daily', ?, ?, 'sent', ?, ?)`,
    )
    .run(edition.id, subscriberId, localDate, JSON.stringify(paperIds), now, now);
  const ins = store.db.prepare('INSERT INTO sent_papers (subscriber_id, paper_id, delivery_id) VALUES (?, ?, ?)');
  for (const id of paperIds) ins.run(subscriberId, id, d.lastInsertRowid);
}
