// Owns the rule for one paper seen on several pages: one identity (the title key), merged metadata.
import type { PaperLink } from './links.js';

export interface PaperFields {
  title: string;
  abstract: string;
  authors: number | null;
  publishedOn: string | null;
  upvotes: number | null;
  firstListedOn: string | null;
  links: PaperLink[];
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

/**
 * Pages are snapshots of one listing site, so later pages only add: the most authors and votes any page saw,
 * the earliest dates, the longest abstract (a page may cut it), every link.
 */
export function mergePaper(a: PaperFields, b: PaperFields): PaperFields {
  const links = [...a.links];
  for (const l of b.links) if (!links.some((x) => x.url === l.url)) links.push(l);
  return {
    title: a.title,
    abstract: b.abstract.length > a.abstract.length ? b.abstract : a.abstract,
    authors: maxNum(a.authors, b.authors),
    publishedOn: minDate(a.publishedOn, b.publishedOn),
    upvotes: maxNum(a.upvotes, b.upvotes),
    firstListedOn: minDate(a.firstListedOn, b.firstListedOn),
    links,
  };
}

export function samePaperFields(a: PaperFields, b: PaperFields): boolean {
  return (
    a.abstract === b.abstract &&
    a.authors === b.authors &&
    a.publishedOn === b.publishedOn &&
    a.upvotes === b.upvotes &&
    a.firstListedOn === b.firstListedOn &&
    JSON.stringify(a.links) === JSON.stringify(b.links)
  );
}
