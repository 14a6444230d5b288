// Merging fetched papers with ingest's rules: one paper per arXiv id across sources (daily-papers and arXiv), the seed
// paper of the same title, two papers for one title under two ids, removed papers kept out, search in step, and the
// same result whatever the chunk size.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { ingestPaths } from '../src/corpus/ingest.js';
import { createFetcher } from '../src/corpus/fetcher.js';
import { mergeFetched } from '../src/corpus/fetch-merge.js';
import { createPapersRepo } from '../src/corpus/papers-repo.js';
import type { FetchedPaper } from '../src/corpus/sources/paper.js';
import { tempDir } from './helpers/tmp.js';
import { startPapersApi, dailyItem, type PapersApi } from './helpers/papers-api.js';

const clock = new FakeClock(new Date('2024-12-03T09:00:00Z'));
const FIXTURE = JSON.parse(readFileSync('test/fixtures/sources/daily-papers-2024-12-03.json', 'utf8')) as unknown[];
const ATOM = readFileSync('test/fixtures/sources/arxiv-cs-LG.atom', 'utf8');
const config = loadConfig({ ARXIV_CATEGORIES: 'cs.LG', FETCH_RETRIES: '0', FETCH_DAYS: '3' });

function fetched(arxivId: string, title: string, over: Partial<FetchedPaper> = {}): FetchedPaper {
  return {
    arxivId,
    title,
    abstract: `About ${title}.`,
    authorNames: ['A. Author'],
    publishedOn: '2024-12-01',
    listedOn: '2024-12-02',
    upvotes: 3,
    comments: null,
    tldr: null,
    organization: null,
    links: [],
    listing: { name: 'daily-papers 2024-12-02', date: '2024-12-02', position: 1 },
    ...over,
  };
}

describe('fetch merge', () => {
  const dir = tempDir();
  let store: Store;
  let api: PapersApi;
  let n = 0;
  beforeEach(async () => {
    store = openStore(join(dir, `m${++n}.db`));
    api = await startPapersApi();
  });
  afterEach(async () => {
    store.close();
    await api.close();
  });

  it('merges a daily-papers paper and the same paper from arXiv into one, keeping the best of both', async () => {
    api.days.set('2024-12-03', FIXTURE);
    api.atom = () => ATOM;
    const fetcher = createFetcher({ store, clock, config: { ...config, DAILY_PAPERS_URL: api.url, ARXIV_API_URL: api.url }, arxivIntervalMs: 1 });
    const report = await fetcher.run({ trigger: 'cli', dates: ['2024-12-01', '2024-12-02', '2024-12-03'] });
    expect(report.sources.map((r) => [r.source, r.status, r.added, r.updated, r.skipped])).toEqual([
      ['daily-papers', 'ok', 4, 0, 5],
      // The sparse-attention paper is known by id already: updated; the other two are arXiv-only.
      ['arxiv', 'ok', 2, 1, 1],
    ]);
    expect(api.requests.filter((r) => r.path === '/api/daily_papers').map((r) => r.query.get('date'))).toEqual(['2024-12-01', '2024-12-02', '2024-12-03']);
    const repo = createPapersRepo(store);
    const sparse = repo.getByArxivId('2412.01234')!;
    expect(sparse.abstract).toMatch(/^We show that sparse attention over frame tokens scales to hour-long video, with a longer abstract on arXiv/);
    expect(sparse).toMatchObject({
      upvotes: 41,
      firstListedOn: '2024-12-03',
      publishedOn: '2024-12-02',
      authors: 5,
      tldr: expect.stringContaining('Sparse attention'),
    });
    expect(sparse.links).toEqual([
      { url: 'https://github.com/lab/sparse-video', kind: 'code', stars: 120 },
      { url: 'https://sparse-video.example.org', kind: 'project' },
    ]);
    const arxivOnly = repo.getByArxivId('2412.02001')!;
    expect(arxivOnly).toMatchObject({ firstListedOn: null, upvotes: null, authorNames: ['Emmy Noether'] });
    expect(repo.sources(arxivOnly.id)).toEqual([]);
    expect(repo.getByArxivId('math.GT/0309136')!.title).toBe('An Old-Style Identifier in a New Listing');
    // Search sees every new paper and the longer abstract.
    expect(repo.search('ablations', 5).map((p) => p.arxivId)).toEqual(['2412.01234']);
    expect(repo.search('Überblick', 5).map((p) => p.arxivId)).toEqual(['2412.09999']);
    expect(store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('one paper for a seed paper of the same title, two for one title under two arXiv ids', async () => {
    ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock);
    const repo = createPapersRepo(store);
    const before = repo.count();
    const r = await mergeFetched(store, [fetched('2310.01174', 'Light Schrödinger Bridge', { upvotes: 50 })], clock);
    expect(r).toMatchObject({ added: 0, updated: 1 });
    expect(repo.count()).toBe(before);
    const again = await mergeFetched(
      store,
      [fetched('2501.00001', 'Light Schrödinger Bridge', { abstract: 'A different paper that took the same title.' })],
      clock,
    );
    expect(again).toMatchObject({ added: 1, updated: 0 });
    const both = store.db.prepare("SELECT arxiv_id, title_key FROM papers WHERE title = 'Light Schrödinger Bridge' ORDER BY id").raw().all();
    expect(both).toEqual([
      ['2310.01174', 'light schrodinger bridge'],
      ['2501.00001', 'light schrodinger bridge#2501.00001'],
    ]);
    // A later seed ingest still merges into the first, and adds nothing.
    expect(ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock)).toMatchObject({ added: 0, updated: 0 });
  });

  it('merges a repeated paper in one answer, and gives the same store whatever the chunk size', async () => {
    const papers = [
      ...Array.from({ length: 7 }, (_, i) => fetched(`2412.7000${i}`, `Chunked paper ${i}`, { upvotes: i })),
      fetched('2412.70003v2', 'Chunked paper 3', { upvotes: 30, authorNames: ['A. Author', 'B. Author'] }),
    ].map((p) => ({ ...p, arxivId: p.arxivId.replace(/v\d+$/, '') }));
    const dump = (s: Store) => s.db.prepare('SELECT arxiv_id, title, upvotes, author_names, links FROM papers ORDER BY arxiv_id').raw().all();
    const one = openStore(join(dir, `chunk-a-${n}.db`));
    const r1 = await mergeFetched(one, papers, clock, { chunk: 100 });
    const r2 = await mergeFetched(store, papers, clock, { chunk: 2 });
    expect(r1).toMatchObject({ received: 8, added: 7 });
    expect(r2).toMatchObject({ received: 8, added: 7 });
    expect(dump(store)).toEqual(dump(one));
    expect(createPapersRepo(store).getByArxivId('2412.70003')).toMatchObject({ upvotes: 30, authors: 2 });
    one.close();
  });

  it('keeps a removed paper out: neither a fetch nor the seeds bring it back', async () => {
    ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock);
    const repo = createPapersRepo(store);
    await mergeFetched(store, [fetched('2412.80000', 'To Be Removed')], clock);
    const gone = repo.getByArxivId('2412.80000')!;
    const seed = repo.search('Light Schrödinger Bridge', 1)[0]!;
    expect(repo.remove(gone.id, clock.now())?.title).toBe('To Be Removed');
    expect(repo.remove(seed.id, clock.now())?.title).toBe('Light Schrödinger Bridge');
    expect(repo.remove(seed.id, clock.now())).toBeNull();
    const count = repo.count();
    const r = await mergeFetched(
      store,
      [fetched('2412.80000v2', 'To Be Removed'), fetched('2310.01174', 'Light Schrödinger Bridge')].map((p) => ({
        ...p,
        arxivId: p.arxivId.replace(/v\d+$/, ''),
      })),
      clock,
    );
    expect(r).toMatchObject({ added: 0, updated: 0, removed: 2 });
    expect(ingestPaths(store, ['seeds/000_3f5a05582542f440.txt'], clock)).toMatchObject({ added: 0 });
    expect(repo.count()).toBe(count);
    expect(repo.search('Light Schrödinger Bridge', 5).map((p) => p.title)).not.toContain('Light Schrödinger Bridge');
  });

  it("records each source's outcome, with a failure's reason and what earlier dates gave", async () => {
    // The first date answers, the second fails (500, no retries): the first date's paper is kept.
    api.days.set('2024-12-01', [dailyItem('2412.90001', 'Early bird')]);
    const fetcher = createFetcher({ store, clock, config: { ...config, ARXIV_CATEGORIES: '', DAILY_PAPERS_URL: api.url } });
    let calls = 0;
    const report = await fetcher.run({
      trigger: 'cron',
      dates: ['2024-12-01', '2024-12-02'],
      onProgress: () => {
        if (++calls === 1) api.dailyFaults.push('500');
      },
    });
    expect(report.sources[0]).toMatchObject({ status: 'failed', added: 1, error: '2024-12-02: HTTP 500 Internal Server Error', errorKind: 'http' });
    expect(createPapersRepo(store).getByArxivId('2412.90001')?.title).toBe('Early bird');
    const row = store.db
      .prepare('SELECT source, trigger, dates, status, requests, received, added, error, finished_at IS NOT NULL AS done FROM fetch_runs')
      .get();
    expect(row).toEqual({
      source: 'daily-papers',
      trigger: 'cron',
      dates: '2024-12-01..2024-12-02',
      status: 'failed',
      requests: 2,
      received: 1,
      added: 1,
      error: '2024-12-02: HTTP 500 Internal Server Error',
      done: 1,
    });
  });
});
