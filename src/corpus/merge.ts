// Owns the rule for one paper seen in several places (seed pages, API answers): one identity, merged metadata.
import type { PaperLink } from './paper-links.js';

export interface PaperFields {
  title: string;
  abstract: string;
  /** How many authors: a seed page gives only this; an API answer gives the names (and so the count). */
  authors: number | null;
  publishedOn: string | null;
  upvotes: number | null;
  firstListedOn: string | null;
  links: PaperLink[];
  /** arXiv identifier without version, when a source gave one. */
  arxivId: string | null;
  authorNames: string[];
  /** The source's one-line summary (the daily-papers `ai_summary`). */
  tldr: string | null;
  organization: string | null;
  comments: number | null;
}

/** A seed page entry's fields: what a listing page cannot say is empty. */
export function pageFields(
  title: string,
  abstract: string,
  authors: number | null,
  publishedOn: string | null,
  upvotes: number | null,
  firstListedOn: string | null,
  links: PaperLink[],
): PaperFields {
  return {
    title,
    abstract,
    authors,
    publishedOn,
    upvotes,
    firstListedOn,
    links,
    arxivId: null,
    authorNames: [],
    tldr: null,
    organization: null,
    comments: null,
  };
}

/** A paper's identity: case, accents, punctuation and spacing do not make a different paper. */
export function titleKey(title: string): string {
  // Printable ASCII has nothing to decompose or strip (most titles): skip the Unicode normalisation.
  const folded = PRINTABLE_ASCII.test(title) ? title : title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
  return folded
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

const minDate = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a < b ? a : b);
const maxNum = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
const firstOf = (a: string | null, b: string | null) => (a !== null && a !== '' ? a : b);

/** Two spellings of one link (`https://github.com/x/y/`, `https://github.com/X/y.git`) are one link. */
export function linkKey(url: string): string {
  return url
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .toLowerCase();
}

function mergeLinks(a: PaperLink[], b: PaperLink[]): PaperLink[] {
  if (b.length === 0) return a;
  const links = [...a];
  for (const l of b) {
    const key = linkKey(l.url);
    const at = links.findIndex((x) => linkKey(x.url) === key);
    if (at === -1) links.push(l);
    else if (l.stars !== undefined && l.stars !== links[at]!.stars) {
      // A repository's star count only grows in practice; the larger count is the later one.
      const stars = maxNum(links[at]!.stars ?? null, l.stars)!;
      links[at] = { ...links[at]!, stars };
    }
  }
  return links;
}

/**
 * Sources are snapshots of one listing site (and arXiv), so later ones only add: the most authors, votes and comments
 * any source saw, the earliest dates, the longest abstract (a page may cut it), the longest list of names, every link
 * (with the most stars), and the first arXiv id, summary and organisation known.
 */
export function mergePaper(a: PaperFields, b: PaperFields): PaperFields {
  const authorNames = b.authorNames.length > a.authorNames.length ? b.authorNames : a.authorNames;
  return {
    title: a.title,
    abstract: b.abstract.length > a.abstract.length ? b.abstract : a.abstract,
    authors: maxNum(maxNum(a.authors, b.authors), authorNames.length || null),
    publishedOn: minDate(a.publishedOn, b.publishedOn),
    upvotes: maxNum(a.upvotes, b.upvotes),
    firstListedOn: minDate(a.firstListedOn, b.firstListedOn),
    links: mergeLinks(a.links, b.links),
    arxivId: a.arxivId ?? b.arxivId,
    authorNames,
    tldr: firstOf(a.tldr, b.tldr),
    organization: firstOf(a.organization, b.organization),
    comments: maxNum(a.comments, b.comments),
  };
}

const sameNames = (a: string[], b: string[]) => a.length === b.length && a.every((n, i) => n === b[i]);

export function samePaperFields(a: PaperFields, b: PaperFields): boolean {
  return (
    a.abstract === b.abstract &&
    a.authors === b.authors &&
    a.publishedOn === b.publishedOn &&
    a.upvotes === b.upvotes &&
    a.firstListedOn === b.firstListedOn &&
    a.arxivId === b.arxivId &&
    a.tldr === b.tldr &&
    a.organization === b.organization &&
    a.comments === b.comments &&
    sameNames(a.authorNames, b.authorNames) &&
    JSON.stringify(a.links) === JSON.stringify(b.links)
  );
}
