// Owns what every surface (email HTML and text, archive, paper page, home page, feed, JSON API) says about one paper:
// who wrote it, when it was listed and put on arXiv, its votes, and its links, in one place so they all agree.
import { arxivAbsUrl, arxivPdfUrl, dailyPapersPageUrl } from '../corpus/arxiv-id.js';
import type { PaperLink } from '../corpus/paper-links.js';

/** The fields of a paper the facts come from (a stored Paper has them all). */
export interface PaperLike {
  id: number;
  title: string;
  authors: number | null;
  authorNames: string[];
  organization: string | null;
  publishedOn: string | null;
  firstListedOn: string | null;
  upvotes: number | null;
  comments: number | null;
  tldr: string | null;
  arxivId: string | null;
  links: PaperLink[];
}

export type FactLinkKind = 'paper' | 'pdf' | 'daily-papers' | 'code' | 'project' | 'find' | 'details';

export interface FactLink {
  kind: FactLinkKind;
  url: string;
  label: string;
}

export interface PaperFacts {
  /** Where "Read the paper" goes: arXiv when the id is known, else our own page (the seeds carry no paper URL). */
  readUrl: string;
  readLabel: string;
  /** "Ada Lovelace, Alan Turing, Grace Hopper et al.", "2 authors" (a seed page gives only the count), or null. */
  authorsLine: string | null;
  organization: string | null;
  /** "Listed Dec 3, 2024" and "arXiv Dec 2, 2024" (or "Published …" when no arXiv id says where). */
  dates: string[];
  /** "▲ 41 upvotes", "3 comments" when known. */
  counts: string[];
  tldr: string | null;
  /** Every link, the paper first: arXiv abs, PDF, the daily-papers page, code (with stars), project pages; then ours. */
  links: FactLink[];
}

/** Names shown before "et al.". */
export const AUTHORS_SHOWN = 3;
const HOST_LABELS: Record<string, string> = { 'github.com': 'GitHub', 'huggingface.co': 'Hugging Face', 'gitlab.com': 'GitLab' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `2020-09-07` -> `Sep 7, 2020`. */
export function shortDate(iso: string): string {
  const [y, m, d] = iso.split('-').map(Number);
  return `${MONTHS[(m ?? 1) - 1]} ${d}, ${y}`;
}

const plural = (n: number, one: string, many = one + 's') => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

export function authorsLine(names: readonly string[], count: number | null): string | null {
  if (names.length === 0) return count ? plural(count, 'author') : null;
  // A source can name fewer authors than another counted: then the names are not all of them.
  if (names.length > AUTHORS_SHOWN || (count ?? 0) > names.length) return `${names.slice(0, AUTHORS_SHOWN).join(', ')} et al.`;
  if (names.length === 1) return names[0]!;
  return `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^www\./, '');
  } catch {
    return '';
  }
}

/** Only web links become links: a corpus can carry anything, including javascript: URLs. */
const isWeb = (url: string) => /^https?:\/\//i.test(url) && hostOf(url) !== '';

/** `ourUrl` is the paper's own page here (/papers/:id): linked last, and the reading link when nothing better is known. */
export function paperFacts(p: PaperLike, ourUrl: string): PaperFacts {
  const links: FactLink[] = [];
  if (p.arxivId) {
    links.push({ kind: 'paper', url: arxivAbsUrl(p.arxivId), label: 'Read the paper' });
    links.push({ kind: 'pdf', url: arxivPdfUrl(p.arxivId), label: 'PDF' });
    // Only a paper a daily-papers listing carried has a page there.
    if (p.firstListedOn) links.push({ kind: 'daily-papers', url: dailyPapersPageUrl(p.arxivId), label: 'Daily Papers' });
  }
  for (const l of p.links.filter((x) => isWeb(x.url))) {
    const host = hostOf(l.url);
    if (l.kind === 'code') {
      const stars = l.stars !== undefined ? ` ★ ${l.stars.toLocaleString('en-US')}` : '';
      links.push({ kind: 'code', url: l.url, label: `Code${HOST_LABELS[host] ? ` on ${HOST_LABELS[host]}` : ''}${stars}` });
    } else links.push({ kind: 'project', url: l.url, label: 'Project page' });
  }
  if (!p.arxivId) links.push({ kind: 'find', url: `https://arxiv.org/search/?searchtype=title&query=${encodeURIComponent(p.title)}`, label: 'Find on arXiv' });
  links.push({ kind: 'details', url: ourUrl, label: p.arxivId ? 'Details' : 'Read the abstract' });

  const dates: string[] = [];
  if (p.firstListedOn) dates.push(`Listed ${shortDate(p.firstListedOn)}`);
  if (p.publishedOn) dates.push(`${p.arxivId ? 'arXiv' : 'Published'} ${shortDate(p.publishedOn)}`);
  const counts: string[] = [];
  if (p.upvotes) counts.push(`▲ ${plural(p.upvotes, 'upvote')}`);
  if (p.comments) counts.push(plural(p.comments, 'comment'));
  const read = links[0]!.kind === 'paper' ? links[0]! : links.find((l) => l.kind === 'details')!;
  return {
    readUrl: read.url,
    readLabel: read.kind === 'paper' ? 'Read the paper' : 'Read the abstract',
    authorsLine: authorsLine(p.authorNames, p.authors),
    organization: p.organization,
    dates,
    counts,
    tldr: p.tldr,
    links,
  };
}
