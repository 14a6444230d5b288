// Owns the few papers the home page shows visitors, read straight from the corpus.
import { z } from 'zod';
import type { Store } from '../db/open.js';
import { paperFacts } from '../render/paper-facts.js';

const LINK_LABELS: Record<string, string> = { code: 'Code', project: 'Project page' };

const Row = z.object({
  id: z.number(),
  title: z.string(),
  abstract: z.string(),
  upvotes: z.number().nullable(),
  published_on: z.string().nullable(),
  first_listed_on: z.string().nullable(),
  links: z.string(),
  authors: z.number().nullable(),
  author_names: z.string(),
  organization: z.string().nullable(),
  comments: z.number().nullable(),
  tldr: z.string().nullable(),
  arxiv_id: z.string().nullable(),
});

const Links = z.array(z.object({ url: z.string(), kind: z.string(), stars: z.number().optional() }));
const Names = z.array(z.string());

export interface HomePaper {
  title: string;
  abstract: string;
  upvotes: number | null;
  /** The publication (arXiv) date, formatted. */
  published: string | null;
  /** The code and project links the sources gave. */
  links: { url: string; label: string }[];
  /** Where the title and "Read the paper" go: arXiv when the id is known, else the paper's page here. */
  readUrl: string;
  readLabel: string;
  /** The paper's page here, with every link and listing: where the card's title goes. */
  ownUrl: string;
  /** The PDF and the daily-papers page, when the arXiv id is known. */
  paperLinks: { url: string; label: string }[];
  byline: string | null;
  listed: string | null;
  comments: number | null;
  tldr: string | null;
  arxivId: string | null;
}

function parseJson<T>(json: string, schema: z.ZodType<T>, fallback: T): T {
  try {
    const r = schema.safeParse(JSON.parse(json));
    return r.success ? r.data : fallback;
  } catch {
    return fallback;
  }
}

// Made once: toLocaleDateString with options builds a new formatter per call (about 0.2 ms each, 5 per home page).
const DATE_FORMAT = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

function formatDate(iso: string | null): string | null {
  if (!iso || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return null;
  return DATE_FORMAT.format(new Date(`${iso}T00:00:00Z`));
}

export function homePapers(store: Store, limit = 5): HomePaper[] {
  return store
    .q('web-home-papers')
    .all(limit)
    .map((raw) => {
      const r = Row.parse(raw);
      // Only web links become buttons: a corpus can carry anything, including javascript: URLs.
      const links = parseJson(r.links, Links, []).filter((l) => /^https?:\/\//i.test(l.url));
      const facts = paperFacts(
        {
          id: r.id,
          title: r.title,
          authors: r.authors,
          authorNames: parseJson(r.author_names, Names, []),
          organization: r.organization,
          publishedOn: r.published_on,
          firstListedOn: r.first_listed_on,
          upvotes: r.upvotes,
          comments: r.comments,
          tldr: r.tldr,
          arxivId: r.arxiv_id,
          links: links.map((l) => ({ url: l.url, kind: l.kind === 'code' ? 'code' : 'project', ...(l.stars !== undefined ? { stars: l.stars } : {}) })),
        },
        `/papers/${r.id}`,
      );
      return {
        title: r.title,
        abstract: r.abstract,
        upvotes: r.upvotes,
        published: formatDate(r.published_on),
        links: links.slice(0, 3).map((l) => ({
          url: l.url,
          label: `${LINK_LABELS[l.kind] ?? 'Link'}${l.kind === 'code' && l.stars !== undefined ? ` ★ ${l.stars.toLocaleString('en-US')}` : ''}`,
        })),
        readUrl: facts.readUrl,
        readLabel: facts.readLabel,
        ownUrl: `/papers/${r.id}`,
        paperLinks: facts.links.filter((l) => l.kind === 'pdf' || l.kind === 'daily-papers').map((l) => ({ url: l.url, label: l.label })),
        byline: [facts.authorsLine, facts.organization].filter(Boolean).join(' · ') || null,
        listed: formatDate(r.first_listed_on),
        comments: r.comments,
        tldr: r.tldr,
        arxivId: r.arxiv_id,
      };
    });
}
