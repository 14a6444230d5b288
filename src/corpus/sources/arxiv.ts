// Owns reading the arXiv API (`GET /api/query?search_query=cat:…&sortBy=submittedDate`, Atom): the query for the
// chosen categories, paging back to a date, one request every 3 seconds (arXiv's rule), and the XML read with
// fast-xml-parser into FetchedPapers.
import type { XMLParser } from 'fast-xml-parser';
import { lazyRequire } from '../../lazy-require.js';

const fastXml = lazyRequire<typeof import('fast-xml-parser')>('fast-xml-parser');
import { normalizeArxivId } from '../arxiv-id.js';
import { FetchError, getWithRetry, type HttpDeps, type Pacer } from './http.js';
import { cleanText, isoDay, paperLinks, type FetchedPaper, type SourceWarning } from './paper.js';

export const ARXIV = 'arxiv';

/** https://info.arxiv.org/help/api/tou.html: "no more than one request every three seconds". */
export const ARXIV_INTERVAL_MS = 3000;

export interface ArxivOptions {
  baseUrl: string;
  categories: string[];
  /** Entries per request (arXiv allows up to 2,000; smaller pages answer faster). */
  pageSize: number;
  /** At most this many entries per fetch. */
  maxResults: number;
  /** Pages back until entries are older than this date (YYYY-MM-DD). */
  since: string;
  /** Shared by every arXiv request of the process, so the interval holds across fetches too. */
  pacer: Pacer;
}

export interface ArxivPage {
  papers: FetchedPaper[];
  warnings: SourceWarning[];
  /** Entries that could not be read (each has a warning). */
  skipped: number;
  requests: number;
}

export function arxivQueryUrl(base: string, categories: string[], start: number, max: number): string {
  const u = new URL(base.replace(/\/+$/, '') + '/api/query');
  u.searchParams.set('search_query', categories.map((c) => `cat:${c}`).join(' OR '));
  u.searchParams.set('sortBy', 'submittedDate');
  u.searchParams.set('sortOrder', 'descending');
  u.searchParams.set('start', String(start));
  u.searchParams.set('max_results', String(max));
  return u.toString();
}

let parser: XMLParser | null = null;
const xmlParser = () =>
  (parser ??= new (fastXml().XMLParser)({
    ignoreAttributes: false,
    attributeNamePrefix: '@',
    removeNSPrefix: true,
    // Text as written: ids and dates must not become numbers.
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: true,
    isArray: (name) => ['entry', 'author', 'link', 'category'].includes(name),
    processEntities: true,
    // Without it fast-xml-parser leaves character references (`&#x202E;`, `&#8212;`) as literal text: XML allows them
    // anywhere, so a title could show `&#8212;` and a direction control would slip past cleanText as five characters.
    htmlEntities: true,
  }));

type Node = Record<string, unknown>;
const text = (v: unknown): string => (typeof v === 'string' ? v : v && typeof v === 'object' && '#text' in v ? String((v as Node)['#text']) : '');
const list = (v: unknown): Node[] => (Array.isArray(v) ? (v as Node[]) : v && typeof v === 'object' ? [v as Node] : []);

export interface AtomFeed {
  entries: Node[];
  total: number | null;
}

/** The feed's entries, or a FetchError for what is not an arXiv Atom feed (or is arXiv's error entry). */
export function parseArxivFeed(body: string): AtomFeed {
  let doc: Node;
  try {
    doc = xmlParser().parse(body, true) as Node;
  } catch (err) {
    throw new FetchError('bad-body', `malformed XML (${(err as Error).message.split('\n')[0]})`);
  }
  const feed = doc.feed as Node | undefined;
  if (!feed || typeof feed !== 'object') throw new FetchError('bad-body', 'not an Atom feed (no <feed> element)');
  const entries = list(feed.entry);
  // arXiv answers a bad query with HTTP 200 and one entry whose id is an error URL.
  const err = entries.find((e) => text(e.id).includes('/api/errors'));
  if (err) throw new FetchError('http', `arXiv API error: ${cleanText(text(err.summary)) || text(err.id)}`, 400);
  const total = Number(text(feed.totalResults));
  return { entries, total: Number.isFinite(total) && text(feed.totalResults) !== '' ? total : null };
}

/** One Atom entry as a FetchedPaper, or why it is skipped. */
export function readEntry(e: Node, position: number): FetchedPaper | SourceWarning {
  const rawId = text(e.id);
  const what = `entry ${position}${rawId ? ` (${rawId})` : ''}`;
  const arxivId = normalizeArxivId(rawId);
  if (!arxivId) return { what, message: 'id is not an arXiv abs URL' };
  const title = cleanText(text(e.title));
  if (!/[\p{L}\p{N}]/u.test(title)) return { what, message: 'no title' };
  const abstract = cleanText(text(e.summary));
  const comment = cleanText(text(e.comment));
  return {
    arxivId,
    title,
    abstract,
    authorNames: list(e.author)
      .map((a) => cleanText(text(a.name)))
      .filter((n) => n !== ''),
    publishedOn: isoDay(text(e.published)),
    listedOn: null,
    upvotes: null,
    comments: null,
    tldr: null,
    organization: null,
    links: paperLinks([abstract, comment], null, null, null),
    listing: null,
  };
}

/**
 * The newest entries of the categories, page by page, until an entry is older than `since`, a page comes back short,
 * or `maxResults` entries were read. Every request waits its turn on the pacer.
 */
export async function fetchArxiv(opts: ArxivOptions, http: HttpDeps, onPage?: (page: ArxivPage) => void | Promise<void>): Promise<ArxivPage> {
  const all: ArxivPage = { papers: [], warnings: [], skipped: 0, requests: 0 };
  for (let start = 0; start < opts.maxResults; start += opts.pageSize) {
    const size = Math.min(opts.pageSize, opts.maxResults - start);
    const url = arxivQueryUrl(opts.baseUrl, opts.categories, start, size);
    const { value: feed, attempts } = await getWithRetry(url, http, parseArxivFeed, () => opts.pacer(http.signal));
    const page: ArxivPage = { papers: [], warnings: [], skipped: 0, requests: attempts };
    let older = false;
    feed.entries.forEach((e, i) => {
      const r = readEntry(e, start + i + 1);
      if (!('arxivId' in r)) {
        page.warnings.push(r);
        page.skipped++;
        return;
      }
      if (r.publishedOn !== null && r.publishedOn < opts.since) older = true;
      else page.papers.push(r);
    });
    all.papers.push(...page.papers);
    all.warnings.push(...page.warnings);
    all.skipped += page.skipped;
    all.requests += page.requests;
    await onPage?.(page);
    if (older || feed.entries.length < size || (feed.total !== null && start + size >= feed.total)) break;
  }
  return all;
}
