// Owns reading papers out of the store (rows are parsed with zod where they leave the database), and writing a
// paper's merged fields back, for ingest and fetch alike.
import { z } from 'zod';
import type { Store } from '../db/open.js';
import type { PaperFields } from './merge.js';

const LinkRow = z.object({ url: z.string(), kind: z.enum(['code', 'project']), stars: z.number().int().optional() });
const Names = z.array(z.string());

export const PaperRow = z
  .object({
    id: z.number().int(),
    title_key: z.string(),
    title: z.string(),
    abstract: z.string(),
    authors: z.number().int().nullable(),
    published_on: z.string().nullable(),
    upvotes: z.number().int().nullable(),
    first_listed_on: z.string().nullable(),
    links: z.string().transform((s) => z.array(LinkRow).parse(JSON.parse(s))),
    first_seen_at: z.string(),
    updated_at: z.string(),
    arxiv_id: z.string().nullable().default(null),
    author_names: z
      .string()
      .default('[]')
      .transform((s) => Names.parse(JSON.parse(s))),
    tldr: z.string().nullable().default(null),
    organization: z.string().nullable().default(null),
    comments: z.number().int().nullable().default(null),
    page_count: z.number().int().optional(),
  })
  .transform((r) => ({
    id: r.id,
    titleKey: r.title_key,
    title: r.title,
    abstract: r.abstract,
    authors: r.authors,
    publishedOn: r.published_on,
    upvotes: r.upvotes,
    firstListedOn: r.first_listed_on,
    links: r.links,
    firstSeenAt: r.first_seen_at,
    updatedAt: r.updated_at,
    arxivId: r.arxiv_id,
    authorNames: r.author_names,
    tldr: r.tldr,
    organization: r.organization,
    comments: r.comments,
    pageCount: r.page_count ?? 0,
  }));
export type Paper = z.infer<typeof PaperRow>;

export const SourceRow = z.object({
  file: z.string(),
  line: z.number().int(),
  position: z.number().int(),
  listed_on: z.string().nullable(),
});
export type Source = z.infer<typeof SourceRow>;

export function toFields(p: Paper): PaperFields {
  return {
    title: p.title,
    abstract: p.abstract,
    authors: p.authors,
    publishedOn: p.publishedOn,
    upvotes: p.upvotes,
    firstListedOn: p.firstListedOn,
    links: p.links,
    arxivId: p.arxivId,
    authorNames: p.authorNames,
    tldr: p.tldr,
    organization: p.organization,
    comments: p.comments,
  };
}

/** Writes a paper's merged fields (its title and key stay: they are its identity). */
export function updatePaperFields(store: Store, id: number, f: PaperFields, stamp: string): void {
  store.q('update-paper').run({
    id,
    abstract: f.abstract,
    authors: f.authors,
    published_on: f.publishedOn,
    upvotes: f.upvotes,
    first_listed_on: f.firstListedOn,
    links: JSON.stringify(f.links),
    arxiv_id: f.arxivId,
    author_names: JSON.stringify(f.authorNames),
    tldr: f.tldr,
    organization: f.organization,
    comments: f.comments,
    now: stamp,
  });
}

/** FTS5 query from free text: each word quoted, so user input is never FTS syntax. */
export function ftsQuery(text: string): string | null {
  const words = text.match(/[\p{L}\p{N}]+/gu);
  if (!words || words.length === 0) return null;
  return words.map((w) => `"${w}"`).join(' ');
}

export function createPapersRepo(store: Store) {
  const { q } = store;
  return {
    get(id: number): Paper | null {
      const row = q('get-paper').get(id);
      return row ? PaperRow.parse(row) : null;
    },
    getByTitle(titleKey: string): Paper | null {
      const row = q('get-paper-by-key').get(titleKey);
      return row ? PaperRow.parse(row) : null;
    },
    getByArxivId(arxivId: string): Paper | null {
      const row = q('get-paper-by-arxiv-id').get(arxivId);
      return row ? PaperRow.parse(row) : null;
    },
    list(limit: number): Paper[] {
      return q('list-papers')
        .all(limit)
        .map((r) => PaperRow.parse(r));
    },
    search(text: string, limit: number): Paper[] {
      const match = ftsQuery(text);
      if (!match) return [];
      return q('search-papers')
        .all(match, limit)
        .map((r) => PaperRow.parse(r));
    },
    sources(id: number): Source[] {
      return q('list-sources')
        .all(id)
        .map((r) => SourceRow.parse(r));
    },
    count(): number {
      return q('count-papers').get()!.n;
    },
    /**
     * Deletes a paper (its sources, snapshots and sent-paper records go with it) and remembers its keys, so the next
     * ingest of the seeds or fetch does not bring it back. Returns the removed paper, or null when there is none.
     */
    remove(id: number, at: Date): Paper | null {
      return store.db.transaction(() => {
        const row = q('get-paper').get(id);
        if (!row) return null;
        const p = PaperRow.parse(row);
        q('remember-removed-paper').run(p.titleKey, p.arxivId, p.title, at.toISOString());
        q('delete-paper').run(id);
        return p;
      })();
    },
  };
}
export type PapersRepo = ReturnType<typeof createPapersRepo>;
