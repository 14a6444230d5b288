// The two paper sources against a local server replaying their documented formats: paging, missing fields, both
// nesting levels, unicode and LaTeX, old-style and versioned ids, items that do not validate, 429 then success, a
// timeout, malformed JSON, and an arXiv Atom feed with several entries read at one request per interval.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fetchDailyPapersDay, dailyPapersUrl } from '../src/corpus/sources/daily-papers.js';
import { fetchArxiv, parseArxivFeed, arxivQueryUrl } from '../src/corpus/sources/arxiv.js';
import { createPacer, defaultHttpDeps, FetchError, type HttpDeps } from '../src/corpus/sources/http.js';
import { normalizeArxivId } from '../src/corpus/arxiv-id.js';
import { startPapersApi, dailyItem, type PapersApi } from './helpers/papers-api.js';

const DAY = '2024-12-03';
const FIXTURE = JSON.parse(readFileSync('test/fixtures/sources/daily-papers-2024-12-03.json', 'utf8')) as unknown[];
const ATOM = readFileSync('test/fixtures/sources/arxiv-cs-LG.atom', 'utf8');

let api: PapersApi;
const waits: number[] = [];
/** Real HTTP, but the waits between retries are recorded and kept short. */
const http = (over: Partial<HttpDeps> = {}): HttpDeps =>
  defaultHttpDeps({
    timeoutMs: 2000,
    retries: 2,
    sleep: async (ms) => {
      waits.push(ms);
      await new Promise((r) => setTimeout(r, 5));
    },
    ...over,
  });

beforeAll(async () => {
  api = await startPapersApi();
});
afterAll(() => api.close());
beforeEach(() => {
  api.requests.length = 0;
  api.dailyFaults.length = 0;
  api.arxivFaults.length = 0;
  api.retryAfter = null;
  api.ignorePaging = false;
  api.days.clear();
  waits.length = 0;
});

const opts = (pageSize = 100) => ({ baseUrl: api.url, pageSize, maxPages: 10 });

describe('arXiv identifiers', () => {
  it('drop the version, keep old-style archives, and refuse what is not one', () => {
    expect(normalizeArxivId('2412.01234v2')).toBe('2412.01234');
    expect(normalizeArxivId('2412.01234')).toBe('2412.01234');
    expect(normalizeArxivId('0704.0001v1')).toBe('0704.0001');
    expect(normalizeArxivId('hep-th/9901001v3')).toBe('hep-th/9901001');
    expect(normalizeArxivId('math.GT/0309136')).toBe('math.GT/0309136');
    expect(normalizeArxivId('http://arxiv.org/abs/2412.01234v3')).toBe('2412.01234');
    expect(normalizeArxivId('arXiv:2412.01234')).toBe('2412.01234');
    for (const bad of ['not-an-arxiv-id', '2412.123', '12.12345', 'hep-th/99', '', '2412.01234v']) expect(normalizeArxivId(bad)).toBeNull();
  });
});

describe('daily-papers source', () => {
  it('reads every field of a full item, both nesting levels, unicode and LaTeX; skips what does not validate, naming it', async () => {
    api.days.set(DAY, FIXTURE);
    const day = await fetchDailyPapersDay(DAY, opts(), http());
    expect(api.requests.map((r) => [r.path, r.query.get('date'), r.query.get('p'), r.query.get('limit')])).toEqual([['/api/daily_papers', DAY, '0', '100']]);
    expect(day.papers.map((p) => p.arxivId)).toEqual(['2412.01234', '2412.05678', 'hep-th/9901001', '2412.09999']);
    const [full, outer, old, unicode] = day.papers;
    expect(full).toEqual({
      arxivId: '2412.01234',
      title: 'Sparse Attention Is All You Need for Long Video',
      abstract: 'We show that sparse attention over frame tokens scales to hour-long video. Code is at https://github.com/lab/sparse-video.',
      authorNames: ['Ada Lovelace', 'Alan Turing', 'Grace Hopper', 'Edsger Dijkstra', 'Barbara Liskov'],
      publishedOn: '2024-12-02',
      listedOn: '2024-12-03',
      upvotes: 41,
      comments: 3,
      tldr: 'Sparse attention lets a video transformer read an hour of frames at the cost of a minute.',
      organization: 'Example Lab',
      links: [
        { url: 'https://github.com/lab/sparse-video', kind: 'code', stars: 120 },
        { url: 'https://sparse-video.example.org', kind: 'project' },
      ],
      listing: { name: 'daily-papers 2024-12-03', date: '2024-12-03', position: 1 },
    });
    // Title and summary from the outer object; the version dropped; LaTeX to text.
    expect(outer).toMatchObject({
      title: 'Schrödinger Bridges for Everyone: α-Divergence Flows',
      abstract: 'Title and summary only on the outer object, as some clients read them. Café naïve résumé.',
      authorNames: [],
      upvotes: null,
      comments: 0,
      publishedOn: null,
      listedOn: DAY, // no submittedOnDailyAt: the day asked for
      links: [],
      tldr: null,
    });
    expect(old).toMatchObject({ title: 'Strings on a Lattice (old style id)', authorNames: ['Richard Feynman'], upvotes: 2, abstract: '' });
    expect(unicode).toMatchObject({
      title: '多语言 Retrieval — ein Überblick',
      abstract: 'Unicode everywhere: 多语言, Überblick, emoji 🚀.',
      organization: null,
    });
    expect(day.skipped).toBe(5);
    expect(day.warnings).toEqual([
      { what: 'item 5 of 2024-12-03', message: 'paper: Invalid input: expected object, received undefined' },
      { what: 'item 6 of 2024-12-03', message: 'paper.id: Invalid input: expected string, received undefined' },
      { what: 'item 7 of 2024-12-03 (not-an-arxiv-id)', message: 'paper.id is not an arXiv identifier' },
      { what: 'item 8 of 2024-12-03 (2412.07777)', message: 'paper.upvotes: Invalid input: expected number, received string' },
      { what: 'item 9 of 2024-12-03 (2412.08888)', message: 'no title' },
    ]);
  });

  it('pages with p and limit until a short page, numbering items across pages', async () => {
    api.days.set(
      DAY,
      Array.from({ length: 5 }, (_, i) => dailyItem(`2412.1000${i}`, `Paged paper ${i}`)),
    );
    const day = await fetchDailyPapersDay(DAY, opts(2), http());
    expect(api.requests.map((r) => r.query.get('p'))).toEqual(['0', '1', '2']);
    expect(day.papers.map((p) => [p.arxivId, p.listing?.position])).toEqual([
      ['2412.10000', 1],
      ['2412.10001', 2],
      ['2412.10002', 3],
      ['2412.10003', 4],
      ['2412.10004', 5],
    ]);
    // An exact multiple of the page size ends with an empty page.
    api.requests.length = 0;
    api.days.set(
      DAY,
      Array.from({ length: 4 }, (_, i) => dailyItem(`2412.2000${i}`, `Even paper ${i}`)),
    );
    expect((await fetchDailyPapersDay(DAY, opts(2), http())).papers).toHaveLength(4);
    expect(api.requests.map((r) => r.query.get('p'))).toEqual(['0', '1', '2']);
  });

  it('stops paging, with a warning, when the server sends the same page again', async () => {
    api.ignorePaging = true;
    api.days.set(
      DAY,
      Array.from({ length: 6 }, (_, i) => dailyItem(`2412.3000${i}`, `Repeated paper ${i}`)),
    );
    const day = await fetchDailyPapersDay(DAY, opts(2), http());
    expect(day.papers).toHaveLength(2);
    expect(day.warnings).toEqual([{ what: '2024-12-03 page 2', message: expect.stringContaining('sent the previous page again') }]);
    expect(api.requests).toHaveLength(2);
  });

  it('retries a 429 (honouring Retry-After) and a 500, then succeeds', async () => {
    api.days.set(DAY, [dailyItem('2412.40000', 'After the storm')]);
    api.dailyFaults.push('429', '500');
    api.retryAfter = '2';
    const day = await fetchDailyPapersDay(DAY, opts(), http());
    expect(day.papers.map((p) => p.title)).toEqual(['After the storm']);
    expect(day.requests).toBe(3);
    // Backoff 1 s then 3 s; the 429's Retry-After of 2 s is longer than the first.
    expect(waits).toEqual([2000, 3000]);
  });

  it('gives up after the retries with the reason: a timeout, malformed JSON, a body that is not a list, a 404', async () => {
    api.dailyFaults.push('timeout', 'timeout', 'timeout');
    const t = await fetchDailyPapersDay(DAY, opts(), http({ timeoutMs: 150 })).catch((e: unknown) => e);
    expect(t).toBeInstanceOf(FetchError);
    expect(t).toMatchObject({ kind: 'timeout', attempts: 3, message: 'no answer within 150 ms (after 3 attempts)' });

    api.dailyFaults.push('bad-json', 'bad-json', 'bad-json');
    const j = (await fetchDailyPapersDay(DAY, opts(), http()).catch((e: unknown) => e)) as FetchError;
    expect(j.kind).toBe('bad-body');
    expect(j.message).toMatch(/^malformed JSON \(.+\) \(after 3 attempts\)$/);

    api.dailyFaults.push('not-array', 'bad-json');
    api.days.set(DAY, [dailyItem('2412.50000', 'Third time lucky')]);
    expect((await fetchDailyPapersDay(DAY, opts(), http())).papers).toHaveLength(1);

    // A 4xx other than 429 is the request's fault: asked once, not retried.
    api.requests.length = 0;
    const nf = (await fetchDailyPapersDay(DAY, { ...opts(), baseUrl: api.url + '/nowhere' }, http()).catch((e: unknown) => e)) as FetchError;
    expect(nf).toMatchObject({ kind: 'http', status: 404, attempts: 1, message: 'HTTP 404 Not Found' });
    expect(api.requests).toHaveLength(1);
  });

  it('says "unreachable" for a port nobody listens on, and builds the documented URL', async () => {
    const closed = await import('./helpers/free-port.js').then((m) => m.freePort());
    const e = (await fetchDailyPapersDay(DAY, { ...opts(), baseUrl: `http://127.0.0.1:${closed}` }, http({ retries: 0 })).catch(
      (x: unknown) => x,
    )) as FetchError;
    expect(e.kind).toBe('unreachable');
    expect(e.message).toContain('ECONNREFUSED');
    expect(dailyPapersUrl('https://huggingface.co', DAY, 2, 50)).toBe('https://huggingface.co/api/daily_papers?date=2024-12-03&p=2&limit=50');
    expect(dailyPapersUrl('http://mirror.example/hf/', DAY, 0, 50)).toBe('http://mirror.example/hf/api/daily_papers?date=2024-12-03&p=0&limit=50');
  });
});

describe('arXiv source', () => {
  it('reads an Atom feed with several entries: ids without version, old style, names, LaTeX, links in comments', () => {
    const feed = parseArxivFeed(ATOM);
    expect(feed.total).toBe(5);
    expect(feed.entries).toHaveLength(5);
  });

  it('pages back to the date asked for, at one request per interval, and skips what it cannot read', async () => {
    api.atom = () => ATOM;
    const page = await fetchArxiv(
      { baseUrl: api.url, categories: ['cs.LG', 'cs.CL'], pageSize: 5, maxResults: 20, since: '2024-12-01', pacer: createPacer(10) },
      http(),
    );
    expect(api.requests).toHaveLength(1);
    const q = api.requests[0]!.query;
    expect([q.get('search_query'), q.get('sortBy'), q.get('sortOrder'), q.get('start'), q.get('max_results')]).toEqual([
      'cat:cs.LG OR cat:cs.CL',
      'submittedDate',
      'descending',
      '0',
      '5',
    ]);
    expect(page.papers.map((p) => [p.arxivId, p.publishedOn])).toEqual([
      ['2412.01234', '2024-12-02'],
      ['2412.02001', '2024-12-02'],
      ['math.GT/0309136', '2024-12-01'],
    ]);
    const [sparse, gradient, old] = page.papers;
    expect(sparse).toMatchObject({
      title: 'Sparse Attention Is All You Need for Long Video',
      authorNames: ['Ada Lovelace', 'Alan Turing'],
      links: [{ url: 'https://github.com/lab/sparse-video', kind: 'code' }],
      listedOn: null,
      upvotes: null,
      listing: null,
    });
    expect(gradient).toMatchObject({
      title: 'Gradient Descent on ℓ_1 Balls: Rényi Bounds & Beyond',
      abstract: 'An arXiv-only paper with one author, LaTeX and an ampersand & an escaped <tag>.',
      authorNames: ['Emmy Noether'],
    });
    expect(old!.authorNames).toHaveLength(4);
    expect(page.skipped).toBe(1);
    expect(page.warnings).toEqual([{ what: 'entry 4 (http://arxiv.org/abs/2412.03003v1)', message: 'no title' }]);
  });

  it('keeps one request per interval across pages and retries (arXiv asks for 3 s; here 150 ms)', async () => {
    // Five entries per page, all recent: the fetch pages until maxResults.
    const entry = (n: number) =>
      `<entry><id>http://arxiv.org/abs/2412.${String(60000 + n)}v1</id><published>2024-12-02T00:00:00Z</published><title>Paper ${n}</title><summary>s</summary></entry>`;
    api.atom = (qs) => {
      const start = Number(qs.get('start'));
      return `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">${Array.from({ length: 5 }, (_, i) => entry(start + i)).join('')}</feed>`;
    };
    api.arxivFaults.push('500');
    const sent: number[] = [];
    const page = await fetchArxiv(
      { baseUrl: api.url, categories: ['cs.LG'], pageSize: 5, maxResults: 15, since: '2024-12-01', pacer: createPacer(150) },
      // The real fetch, with the moment each request leaves recorded (what the pacer governs; arrival adds jitter).
      http({
        sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 20))),
        fetchImpl: (input, init) => {
          sent.push(performance.now());
          return fetch(input, init);
        },
      }),
    );
    expect(page.papers).toHaveLength(15);
    expect(api.requests.map((r) => r.query.get('start'))).toEqual(['0', '0', '5', '10']);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    expect(gaps).toHaveLength(3);
    // setTimeout may fire up to a millisecond early by performance.now()'s clock.
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(149);
  });

  it("turns arXiv's error entry and a non-feed into clear errors", () => {
    const err =
      '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_1234</id><title>Error</title><summary>incorrect id format for 1234</summary></entry></feed>';
    expect(() => parseArxivFeed(err)).toThrow('arXiv API error: incorrect id format for 1234');
    expect(() => parseArxivFeed('<html><body>busy</body></html>')).toThrow('not an Atom feed');
    expect(() => parseArxivFeed('<feed><entry>')).toThrow(/malformed XML|not an Atom feed/);
    expect(arxivQueryUrl('https://export.arxiv.org', ['cs.LG'], 100, 50)).toBe(
      'https://export.arxiv.org/api/query?search_query=cat%3Acs.LG&sortBy=submittedDate&sortOrder=descending&start=100&max_results=50',
    );
  });
});
