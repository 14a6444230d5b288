// Owns the few papers the home page shows visitors, read straight from the corpus.
import { z } from 'zod';
import type { Store } from '../db/open.js';

const LINK_LABELS: Record<string, string> = { code: 'Code', project: 'Project page' };

const Row = z.object({
  id: z.number(),
  title: z.string(),
  abstract: z.string(),
  upvotes: z.number().nullable(),
  published_on: z.string().nullable(),
  links: z.string(),
});

const Links = z.array(z.object({ url: z.string(), kind: z.string() }));

export interface HomePaper {
  title: string;
  abstract: string;
  upvotes: number | null;
  published: string | null;
  links: { url: string; label: string }[];
}

function safeLinks(json: string): HomePaper['links'] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return [];
  }
  const r = Links.safeParse(parsed);
  if (!r.success) return [];
  // Only web links become buttons: a corpus can carry anything, including javascript: URLs.
  return r.data.filter((l) => /^https?:\/\//i.test(l.url)).slice(0, 3).map((l) => ({ url: l.url, label: LINK_LABELS[l.kind] ?? 'Link' }));
}

// Made once: toLocaleDateString with options builds a new formatter per call (about 0.2 ms each, 5 per home page).
const DATE_FORMAT = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', year: 'numeric', timeZone: 'UTC' });

function formatDate(iso: string | null): string | null {
  if (!iso || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return null;
  return DATE_FORMAT.format(new Date(`${iso}T00:00:00Z`));
}

export function homePapers(store: Store, limit = 5): HomePaper[] {
  return store.q('web-home-papers').all(limit).map((raw) => {
    const r = Row.parse(raw);
    return { title: r.title, abstract: r.abstract, upvotes: r.upvotes, published: formatDate(r.published_on), links: safeLinks(r.links) };
  });
}
