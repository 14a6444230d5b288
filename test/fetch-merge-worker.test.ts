// A big fetch merge (≥ 3,000 papers into a file) writes its search index on a worker thread: it must store exactly what
// the in-thread path stores (rows, sources, snapshots, search hits, one index row per paper), and a merge that fails in
// the middle of a chunk must leave the corpus and the index in step, with nothing dropped or indexed twice.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openStore, type Store } from '../src/db/open.js';
import { FakeClock, type Clock } from '../src/clock.js';
import { mergeFetched, type MergeOptions } from '../src/corpus/fetch-merge.js';
import { fetchDailyPapersDay } from '../src/corpus/sources/daily-papers.js';
import { defaultHttpDeps } from '../src/corpus/sources/http.js';
import { createPapersRepo } from '../src/corpus/papers-repo.js';
import type { FetchedPaper } from '../src/corpus/sources/paper.js';
import { tempDir } from './helpers/tmp.js';
import { startPapersApi, type PapersApi } from './helpers/papers-api.js';

const DAY = '2026-03-10';
const clock = new FakeClock(new Date(`${DAY}T09:00:00Z`));

/** A word only paper `i` has (letters only, so the stemmer leaves it whole): its search must find it and nothing else. */
const tag = (i: number) => 'zq' + [...String(i).padStart(5, '0')].map((d) => 'abcdefghij'[Number(d)]).join('');
const WORDS = ['diffusion', 'operator', 'attention', 'graph', 'kernel', 'sparse', 'bridge', 'flow'];

/** A daily-papers item in the documented shape; `v` changes what a later answer says of the same paper. */
function item(i: number, v = 0): unknown {
  const w = (k: number) => WORDS[(i + k) % WORDS.length]!;
  const title = i % 97 === 0 ? `Schr\\"odinger ${w(1)} ${tag(i)} über $\\alpha$-Divergence` : `Paper ${tag(i)}: ${w(0)} ${w(3)}`;
  return {
    paper: {
      id: i % 5 === 0 ? `2603.${String(i).padStart(5, '0')}v2` : `2603.${String(i).padStart(5, '0')}`,
      title,
      summary: `We study ${w(2)} ${w(5)} with   spacing\nand a link https://github.com/lab/p${i}.${v ? ' A longer abstract in a later answer about ' + w(6) + '.' : ''}`,
      authors: Array.from({ length: 1 + (i % 4) }, (_, k) => ({ name: `Author ${k} ${w(k)}`, hidden: false })),
      publishedAt: '2026-03-09T10:00:00.000Z',
      submittedOnDailyAt: `${DAY}T00:00:00.000Z`,
      upvotes: (i % 40) + v * 3,
      ...(i % 3 ? { githubRepo: `https://github.com/lab/p${i}`, githubStars: i % 200 } : {}),
      ...(i % 4 === 1 ? { projectPage: `https://p${i}.example.org` } : {}),
      ai_summary: `${w(4)} in one line`,
      organization: { name: 'lab', fullname: 'Example Lab' },
    },
    publishedAt: `${DAY}T08:00:00.000Z`,
    numComments: i % 6,
  };
}

/** Every paper's stored state, as a plain value two stores can be compared by. */
function dump(store: Store) {
  const { db } = store;
  return {
    papers: db.prepare('SELECT * FROM papers ORDER BY id').all(),
    sources: db.prepare('SELECT * FROM paper_sources ORDER BY paper_id, file, line').all(),
    snapshots: db.prepare('SELECT * FROM upvote_snapshots ORDER BY paper_id, taken_at').all(),
  };
}

const ids = (store: Store, match: string): number[] =>
  store.db.prepare('SELECT rowid FROM search.papers_fts WHERE papers_fts MATCH ? ORDER BY rowid').pluck().all(match) as number[];

/**
 * The index holds one row per paper and no other: as many documents as papers, each paper found by its own word (once,
 * and only it), a word every paper has finds every id once, and FTS5's own check passes.
 */
function expectIndexMatchesCorpus(store: Store): void {
  const { db } = store;
  const papers = db.prepare('SELECT id, title FROM papers ORDER BY id').all() as { id: number; title: string }[];
  expect(db.prepare('SELECT COUNT(*) FROM search.papers_fts_docsize').pluck().get()).toBe(papers.length);
  expect(ids(store, 'lab')).toEqual(papers.map((p) => p.id));
  const lost: string[] = [];
  for (const p of papers) {
    const word = /zq[a-j]{5}/.exec(p.title)![0];
    const hits = ids(store, word);
    if (hits.length !== 1 || hits[0] !== p.id) lost.push(`${word} (paper ${p.id}): ${JSON.stringify(hits)}`);
  }
  expect(lost).toEqual([]);
  db.exec("INSERT INTO search.papers_fts (papers_fts, rank) VALUES ('integrity-check', 0)");
  expect(db.prepare('SELECT generation FROM search.search_sync').pluck().get()).toBe(db.prepare('SELECT generation FROM corpus_sync').pluck().get());
}

const QUERIES = ['diffusion operator', 'schrodinger', 'Schrödinger über', 'α divergence', 'longer abstract', 'sparse', tag(1234), tag(3001)];

describe('fetch merge: the search index written by a worker thread', () => {
  const dir = tempDir();
  let api: PapersApi;
  let n = 0;
  beforeAll(async () => {
    api = await startPapersApi();
    // Day 1: 400 papers (in-thread, below the worker's size). Day 2: 3,600 items: 300 of day 1's with longer abstracts
    // and more votes (replaced in the index), 3,300 new, one listed twice, and two that do not validate.
    api.days.set(
      '2026-03-09',
      Array.from({ length: 400 }, (_, i) => item(i)),
    );
    const big: unknown[] = [];
    for (let i = 100; i < 3700; i++) big.push(item(i, i < 400 ? 1 : 0));
    big.splice(1800, 0, item(2000), { paper: { id: 42 } }, { paper: { id: '2603.99999' }, title: ['not', 'a', 'title'] });
    api.days.set(DAY, big);
  });
  afterAll(() => api.close());

  const read = async (date: string) =>
    fetchDailyPapersDay(date, { baseUrl: api.url, pageSize: 1000, maxPages: 10 }, defaultHttpDeps({ retries: 0, timeoutMs: 20_000 }));

  /** Both days into a new store, the big one with `opts`. */
  async function fill(opts: MergeOptions, at: Clock = clock): Promise<{ store: Store; report: Awaited<ReturnType<typeof mergeFetched>> }> {
    const store = openStore(join(dir, `s${++n}.db`));
    const day1 = await mergeFetched(store, (await read('2026-03-09')).papers, at);
    expect(day1).toMatchObject({ added: 400 });
    expect(day1.indexWorker).toBeUndefined();
    const day2 = await read(DAY);
    expect(day2.skipped).toBe(2);
    return { store, report: await mergeFetched(store, day2.papers, at, opts) };
  }

  it('stores the same papers, sources, snapshots and search hits as the in-thread path, one index row per paper', async () => {
    const worker = await fill({ chunk: 1000 });
    const inThread = await fill({ chunk: 1000, searchIndex: 'in-thread' });
    expect(worker.report.indexWorker).toBe(true);
    expect(inThread.report.indexWorker).toBeUndefined();
    const counts = (r: typeof worker.report) => ({ received: r.received, added: r.added, updated: r.updated, unchanged: r.unchanged });
    expect(counts(worker.report)).toEqual({ received: 3601, added: 3300, updated: 300, unchanged: 0 });
    expect(counts(inThread.report)).toEqual(counts(worker.report));
    expect(worker.report.addedIds).toEqual(inThread.report.addedIds);
    expect(worker.report.updatedIds).toEqual(inThread.report.updatedIds);

    const a = dump(worker.store);
    expect(a.papers).toHaveLength(3700);
    expect(a).toEqual(dump(inThread.store));
    const repoA = createPapersRepo(worker.store);
    const repoB = createPapersRepo(inThread.store);
    for (const q of QUERIES) {
      const hits = repoA.search(q, 50).map((p) => p.id);
      expect(hits.length, q).toBeGreaterThan(0);
      expect(hits, q).toEqual(repoB.search(q, 50).map((p) => p.id));
    }
    // A replaced abstract is found by its new words, once.
    expect(repoA.search(`longer ${tag(150)}`, 5).map((p) => p.arxivId)).toEqual(['2603.00150']);
    expectIndexMatchesCorpus(worker.store);
    expectIndexMatchesCorpus(inThread.store);
    // Reopened, neither file is found torn (which would rebuild the index and hide a lost row).
    for (const s of [worker.store, inThread.store]) {
      const file = s.db.name;
      s.close();
      const again = openStore(file);
      expect(again.search.rebuilt).toBe(false);
      expectIndexMatchesCorpus(again);
      again.close();
    }
  }, 60_000);

  it('a merge failing in the middle of a chunk keeps what earlier chunks committed, and the index in step with it', async () => {
    const day2 = (await read(DAY)).papers;
    // Item 2,750 cannot be stored (an object where a number goes): the third chunk of 1,000 fails after writing 749 of
    // its rows, 500 of them already sent to the worker.
    const broken = day2.map((p, i) => (i === 2750 ? ({ ...p, comments: { not: 'a number' } } as unknown as FetchedPaper) : p));
    const results: ReturnType<typeof dump>[] = [];
    for (const searchIndex of ['auto', 'in-thread'] as const) {
      const store = openStore(join(dir, `fail${++n}.db`));
      await mergeFetched(store, (await read('2026-03-09')).papers, clock);
      await expect(mergeFetched(store, broken, clock, { chunk: 1000, searchIndex })).rejects.toThrow('Too few parameter values');
      const stored = dump(store);
      // Day 1's 400 papers, and the 2,000 items of the two committed chunks (300 of them day 1's): 1,700 new.
      expect(stored.papers).toHaveLength(2100);
      expectIndexMatchesCorpus(store);
      results.push(stored);
      // The next fetch brings the rest: the answer merged again completes the corpus, the index still in step.
      const rest = await mergeFetched(store, day2, clock, { chunk: 1000, searchIndex });
      expect(rest).toMatchObject({ added: 1600 });
      expect(rest.indexWorker).toBe(searchIndex === 'auto' ? true : undefined);
      expectIndexMatchesCorpus(store);
      store.close();
    }
    expect(results[0]).toEqual(results[1]);
  }, 60_000);

  it('a clock that throws between chunks (an injected failure) leaves the committed chunks indexed, nothing more', async () => {
    let calls = 0;
    const failing: Clock = {
      now: () => {
        if (++calls === 4) throw new Error('clock stopped');
        return clock.now();
      },
    } as Clock;
    const store = openStore(join(dir, `clock${++n}.db`));
    await mergeFetched(store, (await read('2026-03-09')).papers, clock);
    await expect(mergeFetched(store, (await read(DAY)).papers, failing, { chunk: 1000 })).rejects.toThrow('clock stopped');
    expect(dump(store).papers).toHaveLength(400 + 3 * 1000 - 300);
    expectIndexMatchesCorpus(store);
    store.close();
  }, 60_000);
});
