// Owns reading the daily-papers JSON API (`GET /api/daily_papers?date=YYYY-MM-DD&p=N&limit=M`): paging, validating
// each item with zod (an item that does not validate is skipped with a warning, never stops the rest), and turning
// items into FetchedPapers.
import { z } from 'zod';
import { normalizeArxivId } from '../arxiv-id.js';
import { FetchError, getWithRetry, type HttpDeps } from './http.js';
import { cleanText, isoDay, paperLinks, webUrl, type FetchedPaper, type SourceWarning } from './paper.js';

export const DAILY_PAPERS = 'daily-papers';

const str = z.string().nullish();
const count = z.number().int().nonnegative().nullish();

const Author = z.object({ name: str, hidden: z.boolean().nullish() });
const Organization = z.union([z.string(), z.object({ name: str, fullname: str })]).nullish();

// Only `paper.id` and a title (at either level) are required; every other field may be missing or null.
const Inner = z.object({
  id: z.string().min(1),
  title: str,
  summary: str,
  authors: z.array(Author).nullish(),
  publishedAt: str,
  submittedOnDailyAt: str,
  upvotes: count,
  numComments: count,
  githubRepo: str,
  githubStars: count,
  projectPage: str,
  ai_summary: str,
  ai_keywords: z.array(z.string()).nullish(),
  organization: Organization,
});
const Item = z.object({
  paper: Inner,
  publishedAt: str,
  title: str,
  summary: str,
  numComments: count,
  submittedOnDailyAt: str,
  organization: Organization,
});

export interface DailyPapersOptions {
  baseUrl: string;
  /** Items asked for per request (`limit`). */
  pageSize: number;
  /** A server that ignores `p` would page forever: at most this many requests per date. */
  maxPages: number;
}

export interface DayResult {
  date: string;
  papers: FetchedPaper[];
  warnings: SourceWarning[];
  /** Items that did not validate (each has a warning). */
  skipped: number;
  requests: number;
}

export function dailyPapersUrl(base: string, date: string, page: number, limit: number): string {
  // A base with a path (a mirror under /hf) keeps it.
  const u = new URL(base.replace(/\/+$/, '') + '/api/daily_papers');
  u.searchParams.set('date', date);
  u.searchParams.set('p', String(page));
  u.searchParams.set('limit', String(limit));
  return u.toString();
}

function parseAnswer(body: string): unknown[] {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    throw new FetchError('bad-body', `malformed JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(json)) throw new FetchError('bad-body', `expected a JSON array of papers, got ${json === null ? 'null' : typeof json}`);
  return json;
}

type ItemData = z.infer<typeof Item>;

const isStr = (v: unknown) => v === undefined || v === null || typeof v === 'string';
const isCount = (v: unknown) => v === undefined || v === null || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isOrg = (v: unknown) => v === undefined || v === null || typeof v === 'string' || (isObject(v) && isStr(v.name) && isStr(v.fullname));

/**
 * The common shape checked by hand: zod costs ~6 µs an item (a fifth of reading a 10,000-paper answer, bench fetch).
 * It accepts only what `Item` accepts and reads only the fields `Item` keeps, so the result is the same; anything it
 * does not accept goes through zod, which decides and names the problem (test/fetch-validate.test.ts compares them).
 */
function fastItem(raw: unknown): ItemData | null {
  if (!isObject(raw)) return null;
  const p = raw.paper;
  if (!isObject(p) || typeof p.id !== 'string' || p.id.length === 0) return null;
  if (!(isStr(p.title) && isStr(p.summary) && isStr(p.publishedAt) && isStr(p.submittedOnDailyAt) && isStr(p.githubRepo))) return null;
  if (!(isStr(p.projectPage) && isStr(p.ai_summary) && isCount(p.upvotes) && isCount(p.numComments) && isCount(p.githubStars))) return null;
  if (!(isOrg(p.organization) && isOrg(raw.organization) && isCount(raw.numComments))) return null;
  if (!(isStr(raw.publishedAt) && isStr(raw.title) && isStr(raw.summary) && isStr(raw.submittedOnDailyAt))) return null;
  const authors = p.authors;
  if (authors !== undefined && authors !== null) {
    if (!Array.isArray(authors)) return null;
    for (const a of authors) if (!isObject(a) || !isStr(a.name) || !(a.hidden === undefined || a.hidden === null || typeof a.hidden === 'boolean')) return null;
  }
  const kw = p.ai_keywords;
  if (kw !== undefined && kw !== null) {
    if (!Array.isArray(kw)) return null;
    for (const k of kw) if (typeof k !== 'string') return null;
  }
  return raw as unknown as ItemData;
}

/** What `Item` makes of `raw`, by the fast path when it applies (exported for the test that compares the two). */
export function validateItem(raw: unknown, fast = true): { success: true; data: ItemData } | { success: false; error: z.ZodError } {
  const quick = fast ? fastItem(raw) : null;
  return quick ? { success: true, data: quick } : Item.safeParse(raw);
}

const orgName = (o: z.infer<typeof Organization>) => (o == null ? null : typeof o === 'string' ? o : o.fullname || o.name || null);

/** One validated item as a FetchedPaper, or why it is skipped. */
export function readItem(raw: unknown, date: string, position: number): FetchedPaper | SourceWarning {
  const where = `item ${position} of ${date}`;
  const r = validateItem(raw);
  if (!r.success) {
    const id = (raw as { paper?: { id?: unknown } } | null)?.paper?.id;
    const issue = r.error.issues[0]!;
    return { what: typeof id === 'string' ? `${where} (${id})` : where, message: `${issue.path.join('.') || 'item'}: ${issue.message}` };
  }
  const { paper, ...outer } = r.data;
  const arxivId = normalizeArxivId(paper.id);
  if (!arxivId) return { what: `${where} (${paper.id})`, message: 'paper.id is not an arXiv identifier' };
  const title = cleanText(paper.title || outer.title);
  if (!/[\p{L}\p{N}]/u.test(title)) return { what: `${where} (${arxivId})`, message: 'no title' };
  const abstract = cleanText(paper.summary || outer.summary);
  const tldr = cleanText(paper.ai_summary) || null;
  const code = webUrl(paper.githubRepo);
  const listedOn = isoDay(paper.submittedOnDailyAt ?? outer.submittedOnDailyAt) ?? date;
  return {
    arxivId,
    title,
    abstract,
    authorNames: (paper.authors ?? []).map((a) => cleanText(a.name)).filter((n) => n !== ''),
    publishedOn: isoDay(paper.publishedAt ?? outer.publishedAt),
    listedOn,
    upvotes: paper.upvotes ?? null,
    comments: outer.numComments ?? paper.numComments ?? null,
    tldr,
    organization: cleanText(orgName(paper.organization ?? outer.organization)) || null,
    links: paperLinks([abstract], code, code ? (paper.githubStars ?? null) : null, webUrl(paper.projectPage)),
    listing: { name: `${DAILY_PAPERS} ${listedOn}`, date: listedOn, position },
  };
}

/**
 * Every paper the API lists for `date`, page by page until a short (or empty) page. A page that repeats the previous
 * one (a server ignoring `p`) ends the paging with a warning rather than looping.
 */
export async function fetchDailyPapersDay(date: string, opts: DailyPapersOptions, http: HttpDeps): Promise<DayResult> {
  const out: DayResult = { date, papers: [], warnings: [], skipped: 0, requests: 0 };
  let firstIdOfLast: unknown;
  let position = 0;
  for (let page = 0; page < opts.maxPages; page++) {
    const { value: items, attempts } = await getWithRetry(dailyPapersUrl(opts.baseUrl, date, page, opts.pageSize), http, parseAnswer);
    out.requests += attempts;
    if (items.length === 0) break;
    const firstId = (items[0] as { paper?: { id?: unknown } } | null)?.paper?.id;
    if (page > 0 && firstId !== undefined && firstId === firstIdOfLast) {
      out.warnings.push({ what: `${date} page ${page + 1}`, message: 'the server sent the previous page again (does it page with p=?); stopped paging' });
      break;
    }
    firstIdOfLast = firstId;
    for (const raw of items) {
      const r = readItem(raw, date, ++position);
      if ('arxivId' in r) out.papers.push(r);
      else {
        out.warnings.push(r);
        out.skipped++;
      }
    }
    if (items.length < opts.pageSize) break;
  }
  return out;
}
