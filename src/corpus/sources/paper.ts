// Owns what every paper source hands the fetch: one paper as an API described it, and its text cleaned the way
// the seed pages' text is (LaTeX escapes to Unicode, whitespace folded), so both key and merge alike.
import { latexToText } from '../latex.js';
import { stripBidiControls } from '../bidi.js';
import { extractLinks, isPlainWebUrl, linkKind, type PaperLink } from '../paper-links.js';
import { linkKey, type PaperFields } from '../merge.js';

export interface FetchedPaper {
  /** Without version. */
  arxivId: string;
  title: string;
  abstract: string;
  authorNames: string[];
  /** The arXiv date (YYYY-MM-DD). */
  publishedOn: string | null;
  /** The daily-papers listing date; null for a paper only arXiv lists. */
  listedOn: string | null;
  upvotes: number | null;
  comments: number | null;
  tldr: string | null;
  organization: string | null;
  links: PaperLink[];
  /** Where the paper was listed, kept as one of its sources: `daily-papers 2026-03-10`, rank 3. */
  listing: { name: string; date: string; position: number } | null;
}

/** An item a source skipped, and why (`what` names it: its id, or its place in the answer). */
export interface SourceWarning {
  what: string;
  message: string;
}

/** Folds runs of whitespace (titles in API answers carry line breaks) and turns LaTeX escapes into text. */
export function cleanText(s: string | null | undefined): string {
  if (!s) return '';
  // Most text has single spaces only: the test is a fraction of the replace (a 10,000-paper answer has 40,000 texts).
  const folded = FOLD.test(s) ? s.replace(/\s+/g, ' ').trim() : s.trim();
  // After the LaTeX: the same direction controls a seed page may not carry (src/corpus/bidi.ts).
  return stripBidiControls(latexToText(folded));
}
const FOLD = /\s\s|[\t\n\r\f\v\u00a0\u2028\u2029]/;

/** The YYYY-MM-DD of an ISO time, or null when it is not one. */
export function isoDay(s: string | null | undefined): string | null {
  if (!s) return null;
  // A UTC timestamp (what the APIs send) is its own date; anything else goes through Date.
  if (UTC_STAMP.test(s)) return s.slice(0, 10);
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : new Date(t).toISOString().slice(0, 10);
}
const UTC_STAMP = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z$/;

/** A web link or nothing: a source can carry anything in a URL field. */
export function webUrl(s: string | null | undefined): string | null {
  if (!s) return null;
  const t = s.trim();
  if (isPlainWebUrl(t)) return t;
  try {
    const u = new URL(t);
    return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname.includes('.') ? t : null;
  } catch {
    return null;
  }
}

/** The links in the abstract and the comment, then the source's own code and project fields. */
export function paperLinks(texts: string[], code: string | null, stars: number | null, project: string | null): PaperLink[] {
  const links: PaperLink[] = [];
  // Each link's key once (a closure and a key per comparison were a tenth of reading an answer, bench fetch).
  const keys: string[] = [];
  // The source's code field is code whatever its host (a lab's own GitLab, say).
  if (code) pushLink(links, keys, { url: code, kind: 'code', ...(stars !== null ? { stars } : {}) });
  if (project) pushLink(links, keys, { url: project, kind: linkKind(project) });
  for (const t of texts) for (const l of extractLinks(t)) pushLink(links, keys, l);
  return links;
}

function pushLink(links: PaperLink[], keys: string[], l: PaperLink): void {
  const key = linkKey(l.url);
  const at = keys.indexOf(key);
  if (at === -1) {
    links.push(l);
    keys.push(key);
  } else if (l.stars !== undefined) links[at] = { ...links[at]!, stars: l.stars };
}

export function fetchedFields(p: FetchedPaper): PaperFields {
  return {
    title: p.title,
    abstract: p.abstract,
    authors: p.authorNames.length || null,
    publishedOn: p.publishedOn,
    upvotes: p.upvotes,
    firstListedOn: p.listedOn,
    links: p.links,
    arxivId: p.arxivId,
    authorNames: p.authorNames,
    tldr: p.tldr,
    organization: p.organization,
    comments: p.comments,
  };
}
